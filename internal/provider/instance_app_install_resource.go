package provider

import (
	"context"
	"fmt"
	"net/url"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
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

// objectSizePattern is the package size: whole megabytes, as digits.
var objectSizePattern = regexp.MustCompile(`^[0-9]{1,10}$`)

func newInstanceAppInstallResource() resource.Resource {
	return newTaskResource(submitKind{
		typeSuffix: "_instance_app_install",
		noun:       "app install",
		onPhones:   "install the app on",
		description: "Installs an Android app (an APK in OBS) on up to 100 cloud phones (`POST /v1/instances/app/install`), waits for " +
			"it, and records what happened on every phone, so the rest of a deployment can be gated on it.\n\n" +
			"The install arguments keep the API's names and limits. Plan never installs; create installs once. Destroying the " +
			"resource only removes it from state: the app stays installed. Changing any install argument, `instance_ids` or " +
			"`triggers` installs again.",
		arguments: installArguments,
		submit: func(ctx context.Context, client *koophone.Client, plan map[string]attr.Value, instanceIDs []string) (koophone.Submission, error) {
			str := func(name string) string { return attrOf[types.String](plan, name).ValueString() }
			return client.InstallApp(ctx, koophone.InstallAppRequest{
				ObjectName:        str("object_name"),
				FileName:          str("file_name"),
				ObjectVersion:     str("object_version"),
				ObjectSize:        str("object_size"),
				BizType:           str("biz_type"),
				ContentType:       str("content_type"),
				ContentMD5:        str("content_md5"),
				InstallPackageURL: str("install_package_url"),
				FastInstall:       attrOf[types.Bool](plan, "fast_install").ValueBool(),
				InstanceIDs:       instanceIDs,
			})
		},
	})
}

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
				"such as `\"https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.2.3.apk\"`.",
			Required:      true,
			PlanModifiers: replace,
			Validators:    []validator.String{stringvalidator.UTF8LengthBetween(1, 2000), httpsURLValidator{}},
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
			Default:             stringdefault.StaticString("apk"),
			PlanModifiers:       replace,
			Validators:          []validator.String{stringvalidator.OneOf("apk")},
		},
		"content_type": schema.StringAttribute{
			MarkdownDescription: "How the phones download the package; the API supports only the OBS download. 1 to 64 characters. " +
				"Defaults to `\"application/octet-stream\"`.",
			Optional:      true,
			Computed:      true,
			Default:       stringdefault.StaticString("application/octet-stream"),
			PlanModifiers: replace,
			Validators:    []validator.String{stringvalidator.UTF8LengthBetween(1, 64)},
		},
	}
}

// httpsURLValidator checks that a string is an absolute https URL.
type httpsURLValidator struct{}

var _ validator.String = httpsURLValidator{}

func (httpsURLValidator) Description(context.Context) string { return "must be an absolute https URL" }

func (v httpsURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (httpsURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	raw := req.ConfigValue.ValueString()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid package URL",
			fmt.Sprintf("%s is %q, but it must be an absolute https URL of the package, such as "+
				"\"https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game.apk\".", req.Path, raw))
	}
}
