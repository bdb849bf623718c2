package provider

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// Environment variables read when an argument is not set in configuration.
const (
	envEndpoint = "KOOPHONE_ENDPOINT"
	envToken    = "KOOPHONE_TOKEN"
)

// Defaults of the provider's arguments.
const (
	defaultRequestTimeout = 30 * time.Second
	defaultMaxRetries     = 4
	minRequestTimeout     = time.Second
	maxMaxRetries         = 10
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
		RequestTimeout: defaultRequestTimeout,
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
		d, d2 := m.RequestTimeout.ValueGoDuration()
		diags.Append(d2...)
		if !d2.HasError() {
			if d < minRequestTimeout {
				diags.AddAttributeError(path.Root("request_timeout"), "Duration too short",
					fmt.Sprintf("request_timeout is %s, but it must be at least %s.", d, minRequestTimeout))
			}
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
	return s, diags
}
