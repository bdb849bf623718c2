package provider

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// endpointValidator rejects, at plan time, an endpoint that is not an
// absolute http(s) URL, with the reason in the error.
type endpointValidator struct{}

var _ validator.String = endpointValidator{}

func (endpointValidator) Description(context.Context) string {
	return "must be an absolute http or https URL"
}

func (v endpointValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (endpointValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := koophone.ParseEndpoint(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid KooPhone endpoint",
			fmt.Sprintf("%s.\n\nSet endpoint to the base URL of the KooPhone API, for example %q, or leave it unset to use that default.",
				capitalize(err.Error()), koophone.DefaultEndpoint))
	}
}

// headerValueValidator rejects an empty value or one with white space or
// control characters, which an HTTP header cannot carry (a trailing newline
// from file() is the usual cause). Its messages never quote the value, so
// it serves credentials too: credentialValidator is the same check with the
// summary "Invalid KooPhone credential"; other values are named by their
// attribute.
type headerValueValidator struct {
	summary string
}

// credentialValidator checks a secret that is sent in (or signs) a header.
var credentialValidator = headerValueValidator{summary: "Invalid KooPhone credential"}

var _ validator.String = headerValueValidator{}

func (headerValueValidator) Description(context.Context) string {
	return "must be non-empty and contain no white space or control characters"
}

func (v headerValueValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v headerValueValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := credentialProblem(req.ConfigValue.ValueString()); msg != "" {
		summary := v.summary
		if summary == "" {
			summary = "Invalid KooPhone " + req.Path.String()
		}
		resp.Diagnostics.AddAttributeError(req.Path, summary, fmt.Sprintf("The value of %s %s.", req.Path, msg))
	}
}

// credentialProblem says what is wrong with a credential, or "" when
// nothing is. It never includes the credential itself.
func credentialProblem(v string) string {
	if v == "" {
		return "is empty; remove the argument or set a value"
	}
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "contains white space or a control character, which cannot be sent in an HTTP header (a trailing newline from file() is the usual cause: wrap it in trimspace())"
		}
	}
	return ""
}

// durationAtLeast checks a Go duration string, such as "10s": that it
// parses, and that it is at least min.
type durationAtLeast struct {
	min time.Duration
}

var _ validator.String = durationAtLeast{}

func (v durationAtLeast) Description(context.Context) string {
	return fmt.Sprintf("must be a Go duration such as %q, of at least %s", (10 * v.min).String(), v.min)
}

func (v durationAtLeast) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationAtLeast) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	_, diags := v.parse(req.Path, req.ConfigValue.ValueString())
	resp.Diagnostics.Append(diags...)
}

// parse reads raw, the value of the attribute at p, as a duration of at
// least v.min; the diagnostics say what is wrong with it otherwise. The
// provider calls it too, for a value that was unknown at plan time.
func (v durationAtLeast) parse(p path.Path, raw string) (time.Duration, diag.Diagnostics) {
	var diags diag.Diagnostics
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		diags.AddAttributeError(p, "Invalid duration",
			fmt.Sprintf("%s is %q, which is not a Go duration. Use a number with a unit, such as %q or \"1m30s\" (units: ms, s, m, h).",
				p, raw, (10*v.min).String()))
	case d < v.min:
		diags.AddAttributeError(p, "Duration too short",
			fmt.Sprintf("%s is %q, but it must be at least %s. Use a Go duration such as %q.", p, raw, v.min, (10*v.min).String()))
	}
	return d, diags
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
