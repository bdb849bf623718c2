package provider

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// maxCommandBytes is the API's limit on a command.
const maxCommandBytes = 1024

func newInstanceCommandResource() resource.Resource {
	return newTaskResource(submitKind{
		typeSuffix: "_instance_command",
		noun:       "adb command",
		onPhones:   "run the command on",
		description: "Runs an adb shell command on up to 100 cloud phones (`POST /v1/instances/async-command`), waits for it, and records " +
			"what happened on every phone, so the rest of a deployment can be gated on it.\n\n" +
			"Plan never runs the command; create runs it once. Destroying the resource only removes it from state: a command " +
			"that ran cannot be undone. Changing `command`, `instance_ids` or `triggers` runs it again.",
		arguments: func() map[string]schema.Attribute {
			return map[string]schema.Attribute{
				"command": schema.StringAttribute{
					MarkdownDescription: "The adb shell command, such as `\"pm list packages\"`: 1 to 1,024 bytes, sent as written. " +
						"Control characters (newline, tab, NUL, ...) are rejected at plan time; run several commands in one with `;` or `&&`. " +
						"Changing it replaces the resource, which runs the new command.",
					Required:      true,
					PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
					Validators:    []validator.String{commandValidator{}},
				},
			}
		},
		submit: func(ctx context.Context, client *koophone.Client, plan map[string]attr.Value, instanceIDs []string) (koophone.Submission, error) {
			return client.SubmitCommand(ctx, attrOf[types.String](plan, "command").ValueString(), instanceIDs)
		},
	})
}

// commandValidator checks a command at plan time: 1 to 1,024 bytes, no
// control characters. Everything else goes to the API as written: its
// documented character set (letters, digits, _ . / : -) is contradicted by
// every one of its examples, which contain spaces.
type commandValidator struct{}

var _ validator.String = commandValidator{}

func (commandValidator) Description(context.Context) string {
	return fmt.Sprintf("must be 1 to %d bytes without control characters", maxCommandBytes)
}

func (v commandValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (commandValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	cmd := req.ConfigValue.ValueString()
	if n := len(cmd); n == 0 || n > maxCommandBytes {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid command length",
			fmt.Sprintf("command is %d bytes long, but the KooPhone API takes 1 to %d bytes.", n, maxCommandBytes))
		return
	}
	for i, r := range cmd {
		if r < 0x20 || r == 0x7f {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid character in command",
				fmt.Sprintf("command has the control character %q at byte %d; the KooPhone API takes one line of printable text. "+
					"Run several commands in one with \";\" or \"&&\" instead of new lines (a heredoc ends in a newline: use chomp()).", r, i))
			return
		}
		if r == utf8.RuneError {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid character in command",
				fmt.Sprintf("command is not valid UTF-8 at byte %d.", i))
			return
		}
	}
}
