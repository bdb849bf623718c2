package provider

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// stringRule is the one shape of this provider's own string validators:
// check returns the summary and detail of what is wrong with a known value,
// or an empty summary. Unknown values are checked by Configure, once known.
type stringRule struct {
	description string
	check       func(p path.Path, v string) (summary, detail string)
}

var _ validator.String = stringRule{}

func (r stringRule) Description(context.Context) string { return r.description }

func (r stringRule) MarkdownDescription(context.Context) string { return r.description }

func (r stringRule) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if summary, detail := r.check(req.Path, req.ConfigValue.ValueString()); summary != "" {
		resp.Diagnostics.AddAttributeError(req.Path, summary, detail)
	}
}

var endpointRule = stringRule{
	description: "must be an absolute http or https URL",
	check: func(_ path.Path, v string) (string, string) {
		if _, err := koophone.ParseEndpoint(v); err != nil {
			return "Invalid KooPhone endpoint", fmt.Sprintf("%s.\n\nSet endpoint to the base URL of the KooPhone API, for example %q, "+
				"or leave it unset to use that default.", capitalize(err.Error()), koophone.DefaultEndpoint)
		}
		return "", ""
	},
}

// headerValueRule rejects a value that an HTTP header cannot carry. Its
// messages never quote the value, so credentialRule is the same check.
var (
	headerValueRule = headerRule("")
	credentialRule  = headerRule("Invalid KooPhone credential")
)

func headerRule(summary string) stringRule {
	return stringRule{
		description: "must be non-empty and contain no white space or control characters",
		check: func(p path.Path, v string) (string, string) {
			msg := credentialProblem(v)
			switch {
			case msg == "":
				return "", ""
			case summary == "":
				return "Invalid KooPhone " + p.String(), fmt.Sprintf("The value of %s %s.", p, msg)
			}
			return summary, fmt.Sprintf("The value of %s %s.", p, msg)
		},
	}
}

// credentialProblem says what is wrong with a credential, or "". It never
// quotes the credential.
func credentialProblem(v string) string {
	if v == "" {
		return "is empty; remove the argument or set a value"
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "contains white space or a control character, which cannot be sent in an HTTP header (a trailing newline from file() is the usual cause: wrap it in trimspace())"
	}
	return ""
}

// durationAtLeast checks a Go duration string, such as "10s".
func durationAtLeast(least time.Duration) stringRule {
	return stringRule{
		description: fmt.Sprintf("must be a Go duration such as %q, of at least %s", (10 * least).String(), least),
		check: func(p path.Path, v string) (string, string) {
			if _, diags := parseDuration(p, v, least); diags.HasError() {
				return diags[0].Summary(), diags[0].Detail()
			}
			return "", ""
		},
	}
}

// parseDuration reads raw, the value at p, as a duration of at least least.
func parseDuration(p path.Path, raw string, least time.Duration) (time.Duration, diag.Diagnostics) {
	var diags diag.Diagnostics
	d, err := time.ParseDuration(raw)
	example := (10 * least).String()
	switch {
	case err != nil:
		diags.AddAttributeError(p, "Invalid duration",
			fmt.Sprintf("%s is %q, which is not a Go duration. Use a number with a unit, such as %q or \"1m30s\" (units: ms, s, m, h).", p, raw, example))
	case d < least:
		diags.AddAttributeError(p, "Duration too short",
			fmt.Sprintf("%s is %q, but it must be at least %s. Use a Go duration such as %q.", p, raw, least, example))
	}
	return d, diags
}

var caPEMRule = stringRule{
	description: "must contain one or more PEM CERTIFICATE blocks",
	check: func(_ path.Path, v string) (string, string) {
		if _, err := koophone.ParseCAPEM([]byte(v)); err != nil {
			return "Invalid CA certificate", capitalize(err.Error()) + "."
		}
		return "", ""
	},
}

// httpsURLRule never quotes the value: a package URL may be presigned,
// with a signature in its query.
var httpsURLRule = stringRule{
	description: "must be an absolute https URL",
	check: func(p path.Path, v string) (string, string) {
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" {
			return "Invalid package URL", fmt.Sprintf("%s must be an absolute https URL of the package, such as "+
				"\"https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game.apk\".", p)
		}
		return "", ""
	},
}

// commandRule rejects only control characters: the API's documented
// character set (letters, digits, _ . / : -) is contradicted by every one of
// its examples, which contain spaces.
var commandRule = stringRule{
	description: fmt.Sprintf("must be 1 to %d bytes without control characters", maxCommandBytes),
	check: func(_ path.Path, cmd string) (string, string) {
		if n := len(cmd); n == 0 || n > maxCommandBytes {
			return "Invalid command length", fmt.Sprintf("command is %d bytes long, but the KooPhone API takes 1 to %d bytes.", n, maxCommandBytes)
		}
		for i, r := range cmd {
			switch {
			case r < 0x20 || r == 0x7f:
				return "Invalid character in command", fmt.Sprintf("command has the control character %q at byte %d; the KooPhone API "+
					"takes one line of printable text. Run several commands in one with \";\" or \"&&\" instead of new lines "+
					"(a heredoc ends in a newline: use chomp()).", r, i)
			case r == utf8.RuneError:
				return "Invalid character in command", fmt.Sprintf("command is not valid UTF-8 at byte %d.", i)
			}
		}
		return "", ""
	},
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// idSet is a list of ids used as a set (task_ids, instance_ids): each id
// once, sorted. The attributes are lists, not sets, because Terraform and
// the framework compare a set's elements pairwise, which costs minutes at
// thousands of ids (BENCHMARKS.md, section 7).
func idSet(ctx context.Context, l types.List) ([]string, diag.Diagnostics) {
	var ids []string
	diags := l.ElementsAs(ctx, &ids, false)
	return slices.Compact(slices.Sorted(slices.Values(ids))), diags
}

// instanceIDRule checks one id of instance_ids.
var instanceIDRule = stringRule{
	description: fmt.Sprintf("must be 1 to %d characters", maxInstanceIDLength),
	check: func(p path.Path, v string) (string, string) {
		if n := len([]rune(v)); n == 0 || n > maxInstanceIDLength {
			return "Invalid instance id", fmt.Sprintf("%s is %q, %d characters long, but a KooPhone instance id is 1 to %d characters. "+
				"Take the ids from the phones themselves, for example data.koophone_instances.pool.ids.", p, v, n, maxInstanceIDLength)
		}
		return "", ""
	},
}
