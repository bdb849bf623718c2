package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// koophone_instance_app_install's own arguments and submit; its lifecycle
// is submit_lifecycle.go's.

// objectSizePattern is the package size in whole megabytes.
var objectSizePattern = regexp.MustCompile(`^[0-9]{1,10}$`)

// installArgs are the install's arguments, which the resource and the
// action share.
type installArgs struct {
	ObjectName        types.String `tfsdk:"object_name"`
	FileName          types.String `tfsdk:"file_name"`
	ObjectVersion     types.String `tfsdk:"object_version"`
	ObjectSize        types.String `tfsdk:"object_size"`
	InstallPackageURL types.String `tfsdk:"install_package_url"`
	ContentMD5        types.String `tfsdk:"content_md5"`
	FastInstall       types.Bool   `tfsdk:"fast_install"`
	BizType           types.String `tfsdk:"biz_type"`
	ContentType       types.String `tfsdk:"content_type"`
}

// The defaults of the optional install arguments: the resource's schema
// sets them, an action's (which has no defaults) gets them here.
const (
	defaultBizType     = "apk"
	defaultContentType = "application/octet-stream"
)

// submit sends the install: POST /v1/instances/app/install.
func (a *installArgs) submit(ctx context.Context, client *koophone.Client, instanceIDs []string) (koophone.Submission, error) {
	orDefault := func(v types.String, def string) string {
		if v.IsNull() {
			return def
		}
		return v.ValueString()
	}
	return client.InstallApp(ctx, koophone.InstallAppRequest{
		ObjectName:        a.ObjectName.ValueString(),
		FileName:          a.FileName.ValueString(),
		ObjectVersion:     a.ObjectVersion.ValueString(),
		ObjectSize:        a.ObjectSize.ValueString(),
		BizType:           orDefault(a.BizType, defaultBizType),
		ContentType:       orDefault(a.ContentType, defaultContentType),
		ContentMD5:        a.ContentMD5.ValueString(),
		InstallPackageURL: a.InstallPackageURL.ValueString(),
		FastInstall:       a.FastInstall.ValueBool(),
		InstanceIDs:       instanceIDs,
	})
}

type instanceAppInstallModel struct {
	installArgs
	submitModel
}

func (m *instanceAppInstallModel) shared() *submitModel { return &m.submitModel }

func (m *instanceAppInstallModel) submit(ctx context.Context, client *koophone.Client, instanceIDs []string) (koophone.Submission, error) {
	return m.installArgs.submit(ctx, client, instanceIDs)
}

func newInstanceAppInstallResource() resource.Resource {
	return &submitResource{
		newModel:   func() submitter { return &instanceAppInstallModel{} },
		typeSuffix: "_instance_app_install",
		noun:       "app install",
		onPhones:   "install the app on",
		description: "Installs an Android app (an APK in OBS) on any number of cloud phones (`POST /v1/instances/app/install`), in " +
			"waves with an optional canary and a failure budget, waits for it, and records what happened on every phone, so the " +
			"rest of a deployment can be gated on it.\n\n" +
			"The install arguments keep the API's names and limits. Plan never installs; create installs once. Destroying the " +
			"resource only removes it from state: the app stays installed. Changing any install argument or `triggers` installs " +
			"again on every phone; changing `instance_ids` installs only on the phones added.",
		arguments: installArguments(),
	}
}

// packageURLRules check install_package_url, of the resource and the
// action alike.
var packageURLRules = []validator.String{stringvalidator.UTF8LengthBetween(1, 2000), httpsURLRule}

func installArguments() map[string]schema.Attribute {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	text := func(desc string, maxLen int) schema.StringAttribute {
		return schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("%s 1 to %d characters.", desc, maxLen),
			Required:            true,
			PlanModifiers:       replace,
			Validators:          []validator.String{stringvalidator.UTF8LengthBetween(1, maxLen)},
		}
	}
	return map[string]schema.Attribute{
		"object_name":    text("The package name of the app, such as `\"com.tencent.mm\"`.", 100),
		"file_name":      text("The package's file name with its suffix, such as `\"meituan.apk\"`.", 100),
		"object_version": text("The app's version, such as `\"8.0.58\"`.", 100),
		"object_size": schema.StringAttribute{
			MarkdownDescription: "The package size in MB, as a string of digits, such as `\"120\"`.",
			Required:            true,
			PlanModifiers:       replace,
			Validators: []validator.String{stringvalidator.RegexMatches(objectSizePattern,
				"must be the package size in whole MB, as a string of 1 to 10 digits, such as \"120\"")},
		},
		"install_package_url": schema.StringAttribute{
			MarkdownDescription: "Where the phones download the package: an `https` URL of the APK in OBS, at most 2,000 characters, " +
				"such as `\"https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.2.3.apk\"`. Sensitive: it is often a presigned " +
				"URL whose query carries a signature, so plans and diagnostics never show it (state keeps it, as it keeps every argument).",
			Required:      true,
			Sensitive:     true,
			PlanModifiers: replace,
			Validators:    packageURLRules,
		},
		"content_md5": schema.StringAttribute{
			MarkdownDescription: "The package's MD5 digest, 1 to 200 characters; left out of the request when not set.",
			Optional:            true,
			PlanModifiers:       replace,
			Validators:          []validator.String{stringvalidator.UTF8LengthBetween(1, 200)},
		},
		"fast_install": schema.BoolAttribute{
			MarkdownDescription: "`true` for a quick install, `false` for a normal one (sent as `\"1\"` or `\"0\"`). Defaults to `false`.",
			Optional:            true,
			Computed:            true,
			Default:             booldefault.StaticBool(false),
			PlanModifiers:       []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
		},
		"biz_type": schema.StringAttribute{
			MarkdownDescription: "The package type; the API accepts only `\"apk\"`. Defaults to `\"apk\"`.",
			Optional:            true,
			Computed:            true,
			Default:             stringdefault.StaticString(defaultBizType),
			PlanModifiers:       replace,
			Validators:          []validator.String{stringvalidator.OneOf("apk")},
		},
		"content_type": schema.StringAttribute{
			MarkdownDescription: "How the phones download the package; the API supports only the OBS download. 1 to 64 characters. " +
				"Defaults to `\"application/octet-stream\"`.",
			Optional:      true,
			Computed:      true,
			Default:       stringdefault.StaticString(defaultContentType),
			PlanModifiers: replace,
			Validators:    []validator.String{stringvalidator.UTF8LengthBetween(1, 64)},
		},
	}
}
