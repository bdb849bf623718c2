package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// koophone_instance_command's own argument and submit; its lifecycle is
// submit_lifecycle.go's.

// maxCommandBytes is the API's limit on a command.
const maxCommandBytes = 1024

type instanceCommandModel struct {
	Command types.String `tfsdk:"command"`
	submitModel
}

func (m *instanceCommandModel) shared() *submitModel { return &m.submitModel }

// submit sends the command: POST /v1/instances/async-command.
func (m *instanceCommandModel) submit(ctx context.Context, client *koophone.Client, instanceIDs []string) (koophone.Submission, error) {
	return client.SubmitCommand(ctx, m.Command.ValueString(), instanceIDs)
}

func newInstanceCommandResource() resource.Resource {
	return &submitResource{
		newModel:   func() submitter { return &instanceCommandModel{} },
		typeSuffix: "_instance_command",
		noun:       "adb command",
		onPhones:   "run the command on",
		description: "Runs an adb shell command on any number of cloud phones (`POST /v1/instances/async-command`), in waves with an " +
			"optional canary and a failure budget, waits for it, and records what happened on every phone, so the rest of a " +
			"deployment can be gated on it.\n\n" +
			"Plan never runs the command; create runs it once. Destroying the resource only removes it from state: a command " +
			"that ran cannot be undone. Changing `command` or `triggers` runs it again on every phone; changing `instance_ids` " +
			"runs it only on the phones added.\n\n" +
			"The command is shown in plans and kept in state, so that a plan can be reviewed: keep secrets out of it. A phone " +
			"can fetch what it needs itself (from a presigned URL passed as `install_package_url` of `koophone_instance_app_install`, say).",
		arguments: map[string]schema.Attribute{
			"command": schema.StringAttribute{
				MarkdownDescription: "The adb shell command, such as `\"pm list packages\"`: 1 to 1,024 bytes, sent as written. " +
					"Control characters (newline, tab, NUL, ...) are rejected at plan time; run several commands in one with `;` or `&&`. " +
					"It is not sensitive: plans show it so that they can be reviewed, and state keeps it; do not put secrets in it. " +
					"Changing it replaces the resource, which runs the new command.",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{commandRule},
			},
		},
	}
}
