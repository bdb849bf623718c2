package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	resourceschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The koophone_instance_app_install action's own arguments and submit; its
// lifecycle is action_lifecycle.go's.

type instanceAppInstallActionModel struct {
	installArgs
	actionModel
}

func (m *instanceAppInstallActionModel) common() *actionModel { return &m.actionModel }

func (m *instanceAppInstallActionModel) submit(ctx context.Context, client *koophone.Client, _ *phoneStatusReader, instanceIDs []string) (koophone.Submission, error) {
	return m.installArgs.submit(ctx, client, instanceIDs)
}

func newInstanceAppInstallAction() action.Action {
	args := actionArguments(installArguments())
	args["install_package_url"] = schema.StringAttribute{
		MarkdownDescription: "Where the phones download the package: an `https` URL of the APK in OBS, at most 2,000 characters, " +
			"such as `\"https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.2.3.apk\"`. It is often a presigned URL whose query " +
			"carries a signature: the provider never shows it, and an action keeps nothing in state, but an action's schema cannot mark an " +
			"argument sensitive, so pass it from a sensitive variable or through `sensitive()` for Terraform to hide it in plans.",
		Required:   true,
		Validators: packageURLRules,
	}
	return &phoneAction{
		newModel:   func() operation { return &instanceAppInstallActionModel{} },
		typeSuffix: "_instance_app_install",
		noun:       "app install",
		waitDesc:   "waits until the install has finished on every phone it was sent to",
		description: "Installs an Android app (an APK in OBS) on any number of cloud phones (`POST /v1/instances/app/install`) when " +
			"invoked, in waves with an optional canary and a failure budget, waits for it, streams progress, and reports what happened on " +
			"every phone. The install arguments are the `koophone_instance_app_install` resource's, with the same rules. It keeps nothing " +
			"in state: it runs each time it is invoked (`terraform apply -invoke=action.koophone_instance_app_install.NAME`, or from a " +
			"resource's `action_trigger`). Needs Terraform 1.14 or later.",
		arguments: args,
	}
}

// actionArguments are a resource's own arguments as an action takes them:
// the same descriptions and validators, without what only state needs
// (plan modifiers, defaults, which the action applies itself).
func actionArguments(attrs map[string]resourceschema.Attribute) map[string]schema.Attribute {
	out := make(map[string]schema.Attribute, len(attrs))
	for name, a := range attrs {
		switch a := a.(type) {
		case resourceschema.StringAttribute:
			out[name] = schema.StringAttribute{
				MarkdownDescription: a.MarkdownDescription, Required: a.Required, Optional: a.Optional, Validators: a.Validators,
			}
		case resourceschema.BoolAttribute:
			out[name] = schema.BoolAttribute{
				MarkdownDescription: a.MarkdownDescription, Required: a.Required, Optional: a.Optional, Validators: a.Validators,
			}
		default:
			panic(fmt.Sprintf("actionArguments: %s is a %T, which it does not convert", name, a))
		}
	}
	return out
}
