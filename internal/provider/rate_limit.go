package provider

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

// The provider's rate_limit argument: how many requests per second one
// provider instance sends, across all its data sources.
const (
	envRateLimit     = "KOOPHONE_RATE_LIMIT"
	defaultRateLimit = 10.0
	minRateLimit     = 0.01
	maxRateLimit     = 10000.0
)

func rateLimitAttribute() schema.Float64Attribute {
	return schema.Float64Attribute{
		MarkdownDescription: fmt.Sprintf("Most requests per second that this provider sends to the KooPhone API, across all its "+
			"data sources and retries; requests beyond it wait their turn, the longest-waiting first. A throttling answer "+
			"(HTTP 429, `APIGW.0308`) pauses every request and halves the pace, which then recovers. Falls back to the `%s` "+
			"environment variable, then to `%v`. Between `%v` and `%v`.", envRateLimit, defaultRateLimit, minRateLimit, maxRateLimit),
		Optional:   true,
		Validators: []validator.Float64{float64validator.Between(minRateLimit, maxRateLimit)},
	}
}

// resolveRateLimit merges rate_limit with KOOPHONE_RATE_LIMIT and the
// default; the argument wins.
func resolveRateLimit(v types.Float64, env lookupEnv) (float64, diag.Diagnostics) {
	var diags diag.Diagnostics
	p := path.Root("rate_limit")
	switch {
	case !v.IsNull():
		r := v.ValueFloat64()
		if msg := rateLimitProblem(r); msg != "" {
			diags.AddAttributeError(p, "Invalid rate_limit", fmt.Sprintf("rate_limit is %v, but it %s.", r, msg))
		}
		return r, diags
	default:
		raw, ok := env(envRateLimit)
		if !ok || strings.TrimSpace(raw) == "" {
			return defaultRateLimit, diags
		}
		r, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		msg := rateLimitProblem(r)
		if err != nil {
			msg = "is not a number"
		}
		if msg != "" {
			diags.AddAttributeError(p, "Invalid "+envRateLimit, fmt.Sprintf(
				"The %s environment variable is used because rate_limit is not set, but its value %q %s.\n\n"+
					"Set it to a number of requests per second such as \"10\", unset it to use the default (%v), or set rate_limit in the provider block.",
				envRateLimit, raw, msg, defaultRateLimit))
		}
		return r, diags
	}
}

func rateLimitProblem(r float64) string {
	if math.IsNaN(r) || r < minRateLimit || r > maxRateLimit {
		return fmt.Sprintf("must be between %v and %v requests per second", minRateLimit, maxRateLimit)
	}
	return ""
}

// newRateLimiter returns the limiter shared by every request of a provider
// instance.
func newRateLimiter(rate float64, c clock.Clock) (*ratelimit.Limiter, error) {
	return ratelimit.New(rate, ratelimit.Options{Clock: c})
}
