// Package provider implements the koophone Terraform provider with
// terraform-plugin-framework: the provider configuration (this file, with
// its arguments resolved in config.go, credentials.go and
// transport_config.go), one file per data source, and one per resource
// (the two resources share task_resource.go).
package provider

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/jonboulle/clockwork"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

var (
	_ provider.Provider                   = (*koophoneProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*koophoneProvider)(nil)
)

// koophoneProvider is the provider. One instance serves one provider block.
type koophoneProvider struct {
	version string
	clock   clockwork.Clock
	env     lookupEnv
	// signingClock dates AK/SK signatures; nil means clock.
	signingClock clockwork.Clock
}

// Option changes how the provider is built; tests use it to inject clocks.
type Option func(*koophoneProvider)

// WithClock makes the provider time its waits, retries and pacing with c.
func WithClock(c clockwork.Clock) Option {
	return func(p *koophoneProvider) { p.clock = c }
}

// WithSigningClock makes the provider date its AK/SK signatures
// (X-Sdk-Date) with c instead of its own clock. Tests use it to sign with a
// clock that is off.
func WithSigningClock(c clockwork.Clock) Option {
	return func(p *koophoneProvider) { p.signingClock = c }
}

// New returns a constructor of the provider, as providerserver expects.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &koophoneProvider{version: version, clock: clockwork.NewRealClock(), env: os.LookupEnv}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

// providerModel maps the provider block.
type providerModel struct {
	Endpoint       types.String  `tfsdk:"endpoint"`
	Token          types.String  `tfsdk:"token"`
	AccessKey      types.String  `tfsdk:"access_key"`
	SecretKey      types.String  `tfsdk:"secret_key"`
	SecurityToken  types.String  `tfsdk:"security_token"`
	ProjectID      types.String  `tfsdk:"project_id"`
	RequestTimeout types.String  `tfsdk:"request_timeout"`
	MaxRetries     types.Int64   `tfsdk:"max_retries"`
	CACertPEM      types.String  `tfsdk:"ca_cert_pem"`
	CACertFile     types.String  `tfsdk:"ca_cert_file"`
	Insecure       types.Bool    `tfsdk:"insecure"`
	RateLimit      types.Float64 `tfsdk:"rate_limit"`
}

// providerData is what Configure hands to the data sources and resources.
type providerData struct {
	client *koophone.Client
	clock  clockwork.Clock
	// secrets are masked out of every log entry of a read.
	secrets []string
	// auth says how requests authenticate, for diagnostics.
	auth authSummary
	// unknown lists the arguments whose values were not known when the
	// provider was configured; the client is nil then.
	unknown []string
}

func (p *koophoneProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "koophone"
	resp.Version = p.version
}

// Schema is the provider block, every argument of it. Defaults, limits and
// environment variables are named in config.go, credentials.go and
// transport_config.go, which resolve the arguments.
func (p *koophoneProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads and waits on asynchronous [KooPhone](https://support.huaweicloud.com/intl/en-us/api-koophone/kp_01_0001.html) " +
			"cloud phone tasks (adb commands and app installs sent to many phones at once).",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Base URL of the KooPhone API. Falls back to the `%s` environment variable, "+
					"then to `%s`. Must be an absolute `https://` (or, for a local emulator, `http://`) URL; "+
					"a path prefix, for a proxy, is kept and a trailing slash is ignored.", envEndpoint, koophone.DefaultEndpoint),
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtMost(maxEndpointLength), endpointValidator{}},
			},

			// Credentials: exactly one way of authenticating (credentials.go).
			"token": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Project-scoped Huawei Cloud IAM token, sent as `X-Auth-Token`. Falls back to the `%s` "+
					"environment variable. Tokens are valid for 24 hours. Never stored in state or written to logs. Conflicts with "+
					"`access_key` and `secret_key`; see [Authentication](#authentication).", envToken),
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{stringvalidator.LengthAtMost(maxCredentialLength), credentialValidator},
			},
			"access_key": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Huawei Cloud access key (AK) to sign requests with (`SDK-HMAC-SHA256`), together with "+
					"`secret_key`. Falls back to `%s`, then `%s`. Conflicts with `token`; see [Authentication](#authentication) "+
					"for the precedence rules.", envAccessKey, envHWAccessKey),
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{credentialValidator},
			},
			"secret_key": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Secret key (SK) of `access_key`. Falls back to `%s`, then `%s`. "+
					"Used to sign requests, never sent, stored in state or written to logs.", envSecretKey, envHWSecretKey),
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{credentialValidator},
			},
			"security_token": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Security token of temporary AK/SK credentials, sent (and signed) as `X-Security-Token`; "+
					"requires `access_key` and `secret_key`. Falls back to `%s`, then `%s`.", envSecurityToken, envHWSecurityToken),
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{credentialValidator},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Huawei Cloud project id, sent (and signed) as `X-Project-Id` on AK/SK-signed requests; "+
					"not used with a token, which is project-scoped already. Falls back to `%s`, then `%s`. Optional.",
					envProjectID, envHWProjectID),
				Optional:   true,
				Validators: []validator.String{headerValueValidator{}},
			},

			// Requests: timeouts, retries and pacing (config.go).
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Time limit for one HTTP attempt, from sending the request to reading the whole answer, "+
					"as a Go duration such as `\"30s\"` or `\"1m\"`. At least `%s`. Defaults to `%s`.", minRequestTimeout, koophone.DefaultRequestTimeout),
				Optional:   true,
				Validators: []validator.String{durationAtLeast{min: minRequestTimeout}},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many times a read is sent again after a transient failure (connection error, "+
					"timeout, HTTP 429/500/502/503/504, `KOOPHONE.API.9999`, `APIGW.0308`), with exponential backoff and jitter, "+
					"honouring `Retry-After`. While a data source waits (`wait_for_completion`), each poll is one request and a "+
					"failed poll is retried at the next poll instead. A submit (the resources) is sent again only after a throttling "+
					"answer or a failure before the request left: a second submit would run the work twice. Between 0 and %d. "+
					"Defaults to `%d`.", maxMaxRetries, defaultMaxRetries),
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, maxMaxRetries)},
			},
			"rate_limit": schema.Float64Attribute{
				MarkdownDescription: fmt.Sprintf("Most requests per second that this provider sends to the KooPhone API, across all its "+
					"data sources and resources, retries included; requests beyond it wait their turn, first come first served. Falls back to the "+
					"`%s` environment variable. Unset, requests are not paced: at most %d are in flight at once, and a throttling "+
					"answer (HTTP 429, `APIGW.0308`) pauses every request and halves the pace, which then recovers. Between `%v` and `%v`.",
					envRateLimit, koophone.DefaultMaxConcurrentRequests, minRateLimit, maxRateLimit),
				Optional:   true,
				Validators: []validator.Float64{float64validator.Between(minRateLimit, maxRateLimit)},
			},

			// Connection (transport_config.go).
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "PEM-encoded CA certificate(s) trusted for the endpoint in addition to the system's, for a KooPhone " +
					"endpoint behind a TLS-inspecting proxy or a private CA. Conflicts with `ca_cert_file`.",
				Optional: true,
				Validators: []validator.String{
					caPEMValidator{},
					stringvalidator.ConflictsWith(path.MatchRoot("ca_cert_file")),
				},
			},
			"ca_cert_file": schema.StringAttribute{
				MarkdownDescription: "Path of a file of PEM-encoded CA certificate(s), as `ca_cert_pem`. Conflicts with `ca_cert_pem`.",
				Optional:            true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.ConflictsWith(path.MatchRoot("ca_cert_pem")),
				},
			},
			"insecure": schema.BoolAttribute{
				MarkdownDescription: "Skip TLS certificate verification. Defaults to `false`. Anyone on the network path could then read " +
					"the credentials; when `true`, every plan shows a warning. Prefer `ca_cert_pem`.",
				Optional: true,
			},
		},
	}
}

// ValidateConfig checks, at plan time, that the credentials of the
// provider block fit together. Values not known yet are checked when the
// provider is configured.
func (p *koophoneProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if c := configCredentials(m); c.anySet() {
		resp.Diagnostics.Append(checkCredentialSet(configPlace, c)...)
	}
}

func (p *koophoneProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// A value that depends on a resource not yet created is unknown during
	// plan. That is not an error: Terraform configures the provider again
	// with known values before it applies.
	var unknown []string
	for name, v := range map[string]interface{ IsUnknown() bool }{
		"endpoint": m.Endpoint, "token": m.Token, "request_timeout": m.RequestTimeout, "max_retries": m.MaxRetries,
		"ca_cert_pem": m.CACertPEM, "ca_cert_file": m.CACertFile, "insecure": m.Insecure,
		"access_key": m.AccessKey, "secret_key": m.SecretKey, "security_token": m.SecurityToken, "project_id": m.ProjectID,
		"rate_limit": m.RateLimit,
	} {
		if v.IsUnknown() {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		tflog.Info(ctx, "KooPhone provider configuration is not fully known yet; reads are deferred", map[string]any{"unknown": unknown})
		data := &providerData{clock: p.clock, unknown: unknown}
		resp.DataSourceData = data
		resp.ResourceData = data
		return
	}

	s, diags := resolveSettings(m, p.env)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	transport, diags := transportSettings(m, s.Endpoint)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	limiter, err := ratelimit.New(s.RateLimit, p.clock)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("rate_limit"), "Invalid rate_limit", capitalize(err.Error())+".")
		return
	}
	signingClock := p.signingClock
	if signingClock == nil {
		signingClock = p.clock
	}
	creds := s.Auth.credentials(signingClock)
	ctx = withSecretsMasked(ctx, creds.Secrets())

	client, err := koophone.New(koophone.Config{
		Endpoint:       s.Endpoint,
		Credentials:    creds,
		RequestTimeout: s.RequestTimeout,
		MaxRetries:     s.MaxRetries,
		UserAgent:      fmt.Sprintf("terraform-provider-koophone/%s Terraform/%s", p.version, req.TerraformVersion),
		Transport:      transport,
		Clock:          p.clock,
		Logger:         tflogLogger{},
		Limiter:        limiter,
	})
	if err != nil {
		resp.Diagnostics.AddError("Cannot create the KooPhone API client", capitalize(err.Error())+".")
		return
	}
	pacing := "none until the API throttles"
	if s.RateLimit > 0 {
		pacing = fmt.Sprintf("at most %v requests per second", s.RateLimit)
	}
	tflog.Debug(ctx, "KooPhone provider configured", map[string]any{
		"endpoint":        client.Endpoint(),
		"request_timeout": s.RequestTimeout.String(),
		"max_retries":     s.MaxRetries,
		"authentication":  s.Auth.String(),
		"pacing":          pacing,
	})
	data := &providerData{client: client, clock: p.clock, secrets: creds.Secrets(), auth: s.Auth.authSummary}
	resp.DataSourceData = data
	resp.ResourceData = data
}

func (p *koophoneProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newInstanceCommandResource, newInstanceAppInstallResource}
}

func (p *koophoneProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newInstanceTaskDataSource,
		newInstanceTasksDataSource,
		newInstancesDataSource,
	}
}
