package provider

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// This file resolves the provider's arguments other than credentials and
// the connection: endpoint, request timeout, retries and rate limit.

// Environment variables read when an argument is not set in configuration.
const (
	envEndpoint  = "KOOPHONE_ENDPOINT"
	envToken     = "KOOPHONE_TOKEN"
	envRateLimit = "KOOPHONE_RATE_LIMIT"
)

// Defaults and limits of the provider's arguments (the request timeout's
// default is the client's, koophone.DefaultRequestTimeout).
const (
	defaultMaxRetries = 4
	minRequestTimeout = time.Second
	maxMaxRetries     = 10
	minRateLimit      = 0.01
	maxRateLimit      = 10000.0
	// maxEndpointLength and maxCredentialLength bound what can go into a
	// URL or a header; IAM tokens are a few kilobytes.
	maxEndpointLength   = 2048
	maxCredentialLength = 65536
)

// settings are the provider's effective configuration, after configuration
// and environment are merged and checked.
type settings struct {
	Endpoint       string
	Auth           authSettings
	RequestTimeout time.Duration
	MaxRetries     int
	// RateLimit is the most requests per second; 0 means no cap.
	RateLimit float64
}

// lookupEnv reads an environment variable; os.LookupEnv in production, a map
// in tests.
type lookupEnv func(key string) (string, bool)

// resolveSettings merges the (fully known) provider configuration with the
// environment: an explicit argument wins, then the environment variable,
// then the default. Problems are reported against the argument they concern.
func resolveSettings(m providerModel, env lookupEnv) (settings, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := settings{
		Endpoint:       koophone.DefaultEndpoint,
		RequestTimeout: koophone.DefaultRequestTimeout,
		MaxRetries:     defaultMaxRetries,
	}

	switch {
	case !m.Endpoint.IsNull():
		// Checked at plan time too; checked again here because a value that
		// was unknown then (from a resource) is only known now.
		s.Endpoint = m.Endpoint.ValueString()
		if _, err := koophone.ParseEndpoint(s.Endpoint); err != nil {
			diags.AddAttributeError(path.Root("endpoint"), "Invalid KooPhone endpoint", capitalize(err.Error())+".")
		}
	default:
		if v, ok := env(envEndpoint); ok && v != "" {
			if _, err := koophone.ParseEndpoint(v); err != nil {
				diags.AddAttributeError(path.Root("endpoint"), "Invalid "+envEndpoint,
					fmt.Sprintf("The %s environment variable is used because endpoint is not set, but it is not usable: %s.\n\n"+
						"Set %s to the base URL of the KooPhone API (for example %q), unset it to use that default, or set endpoint in the provider block.",
						envEndpoint, err, envEndpoint, koophone.DefaultEndpoint))
			}
			s.Endpoint = v
		}
	}

	auth, authDiags := resolveCredentials(m, env)
	diags.Append(authDiags...)
	s.Auth = auth

	if !m.RequestTimeout.IsNull() {
		// Checked at plan time too, unless it was unknown then.
		d, timeoutDiags := durationAtLeast{min: minRequestTimeout}.parse(path.Root("request_timeout"), m.RequestTimeout.ValueString())
		diags.Append(timeoutDiags...)
		if !timeoutDiags.HasError() {
			s.RequestTimeout = d
		}
	}

	if !m.MaxRetries.IsNull() {
		n := m.MaxRetries.ValueInt64()
		if n < 0 || n > maxMaxRetries {
			diags.AddAttributeError(path.Root("max_retries"), "Invalid max_retries",
				fmt.Sprintf("max_retries is %d, but it must be between 0 and %d.", n, maxMaxRetries))
		} else {
			s.MaxRetries = int(n)
		}
	}

	rate, rateDiags := resolveRateLimit(m.RateLimit, env)
	diags.Append(rateDiags...)
	s.RateLimit = rate
	return s, diags
}

// resolveRateLimit merges rate_limit with KOOPHONE_RATE_LIMIT; the argument
// wins, and neither means no cap (0).
func resolveRateLimit(v types.Float64, env lookupEnv) (float64, diag.Diagnostics) {
	var diags diag.Diagnostics
	p := path.Root("rate_limit")
	if !v.IsNull() {
		r := v.ValueFloat64()
		if msg := rateLimitProblem(r); msg != "" {
			diags.AddAttributeError(p, "Invalid rate_limit", fmt.Sprintf("rate_limit is %v, but it %s.", r, msg))
		}
		return r, diags
	}
	raw, ok := env(envRateLimit)
	if !ok || strings.TrimSpace(raw) == "" {
		return 0, diags
	}
	r, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	msg := rateLimitProblem(r)
	if err != nil {
		msg = "is not a number"
	}
	if msg != "" {
		diags.AddAttributeError(p, "Invalid "+envRateLimit, fmt.Sprintf(
			"The %s environment variable is used because rate_limit is not set, but its value %q %s.\n\n"+
				"Set it to a number of requests per second such as \"10\", unset it for no cap, or set rate_limit in the provider block.",
			envRateLimit, raw, msg))
	}
	return r, diags
}

func rateLimitProblem(r float64) string {
	if math.IsNaN(r) || r < minRateLimit || r > maxRateLimit {
		return fmt.Sprintf("must be between %v and %v requests per second", minRateLimit, maxRateLimit)
	}
	return ""
}
