package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The koophone_instance_command action's own argument and submit; its
// lifecycle is action_lifecycle.go's.

type instanceCommandActionModel struct {
	Command types.String `tfsdk:"command"`
	actionModel
}

func (m *instanceCommandActionModel) common() *actionModel { return &m.actionModel }

// submit sends the command: POST /v1/instances/async-command.
func (m *instanceCommandActionModel) submit(ctx context.Context, client *koophone.Client, _ *phoneStatusReader, instanceIDs []string) (koophone.Submission, error) {
	return client.SubmitCommand(ctx, m.Command.ValueString(), instanceIDs)
}

func newInstanceCommandAction() action.Action {
	return &phoneAction{
		newModel:   func() operation { return &instanceCommandActionModel{} },
		typeSuffix: "_instance_command",
		noun:       "adb command",
		waitDesc:   "waits until the command has finished on every phone it was sent to",
		description: "Runs an adb shell command on any number of cloud phones (`POST /v1/instances/async-command`) when invoked, in waves " +
			"with an optional canary and a failure budget, waits for it, streams progress, and reports what happened on every phone. " +
			"It keeps nothing in state: it runs each time it is invoked (`terraform apply -invoke=action.koophone_instance_command.NAME`, " +
			"or from a resource's `action_trigger`). Needs Terraform 1.14 or later. The `koophone_instance_command` resource does the same " +
			"once and records each phone's result in state.",
		arguments: map[string]schema.Attribute{
			"command": schema.StringAttribute{
				MarkdownDescription: "The adb shell command, such as `\"pm list packages\"`: 1 to 1,024 bytes, sent as written. " +
					"Control characters (newline, tab, NUL, ...) are rejected at plan time; run several commands in one with `;` or `&&`. " +
					"Plans show it, so that they can be reviewed: do not put secrets in it.",
				Required:   true,
				Validators: []validator.String{commandRule},
			},
		},
	}
}
