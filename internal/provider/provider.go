// Package provider implements the koophone Terraform provider with
// terraform-plugin-framework: the provider configuration and one file per
// data source.
package provider

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
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

	"github.com/koophone/terraform-provider-koophone/internal/clock"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

var _ provider.Provider = (*koophoneProvider)(nil)

// koophoneProvider is the provider. One instance serves one provider block.
type koophoneProvider struct {
	version string
	clock   clock.Clock
	env     lookupEnv
	// signingClock dates AK/SK signatures; nil means clock.
	signingClock clock.Clock
}

// Option changes how the provider is built; tests use it to inject a clock.
type Option func(*koophoneProvider)

// WithClock makes the provider time its waits and retries with c.
func WithClock(c clock.Clock) Option {
	return func(p *koophoneProvider) { p.clock = c }
}

// New returns a constructor of the provider, as providerserver expects.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &koophoneProvider{version: version, clock: clock.Real(), env: os.LookupEnv}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

// providerModel maps the provider block.
type providerModel struct {
	Endpoint       types.String         `tfsdk:"endpoint"`
	Token          types.String         `tfsdk:"token"`
	AccessKey      types.String         `tfsdk:"access_key"`
	SecretKey      types.String         `tfsdk:"secret_key"`
	SecurityToken  types.String         `tfsdk:"security_token"`
	ProjectID      types.String         `tfsdk:"project_id"`
	RequestTimeout timetypes.GoDuration `tfsdk:"request_timeout"`
	MaxRetries     types.Int64          `tfsdk:"max_retries"`
	CACertPEM      types.String         `tfsdk:"ca_cert_pem"`
	CACertFile     types.String         `tfsdk:"ca_cert_file"`
	Insecure       types.Bool           `tfsdk:"insecure"`
	RateLimit      types.Float64        `tfsdk:"rate_limit"`
}

// providerData is what Configure hands to the data sources.
type providerData struct {
	client *koophone.Client
	clock  clock.Clock
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

func (p *koophoneProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads and waits on asynchronous [KooPhone](https://support.huaweicloud.com/intl/en-us/api-koophone/kp_01_0001.html) " +
			"cloud phone tasks (adb commands and app installs sent to many phones at once).",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Base URL of the KooPhone API. Falls back to the `KOOPHONE_ENDPOINT` environment variable, " +
					"then to `" + koophone.DefaultEndpoint + "`. Must be an absolute `https://` (or, for a local emulator, `http://`) URL; " +
					"a path prefix, for a proxy, is kept and a trailing slash is ignored.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtMost(maxEndpointLength), endpointValidator{}},
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Project-scoped Huawei Cloud IAM token, sent as `X-Auth-Token`. Falls back to the `KOOPHONE_TOKEN` " +
					"environment variable. Tokens are valid for 24 hours. Never stored in state or written to logs. Conflicts with " +
					"`access_key` and `secret_key`; see [Authentication](#authentication).",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{stringvalidator.LengthAtMost(maxCredentialLength), credentialValidator},
			},
			"access_key":     accessKeyAttribute(),
			"secret_key":     secretKeyAttribute(),
			"security_token": securityTokenAttribute(),
			"project_id":     projectIDAttribute(),
			"request_timeout": schema.StringAttribute{
				CustomType: timetypes.GoDurationType{},
				MarkdownDescription: fmt.Sprintf("Time limit for one HTTP attempt, from sending the request to reading the whole answer, "+
					"as a Go duration such as `\"30s\"` or `\"1m\"`. At least `%s`. Defaults to `%s`.", minRequestTimeout, defaultRequestTimeout),
				Optional:   true,
				Validators: []validator.String{durationAtLeast{min: minRequestTimeout}},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many times a request is sent again after a transient failure (connection error, "+
					"timeout, HTTP 429/500/502/503/504, `KOOPHONE.API.9999`, `APIGW.0308`), with exponential backoff and jitter, "+
					"honouring `Retry-After`. Between 0 and %d. Defaults to `%d`.", maxMaxRetries, defaultMaxRetries),
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, maxMaxRetries)},
			},
			"rate_limit": rateLimitAttribute(),
		},
	}
	for name, a := range transportAttributes() {
		resp.Schema.Attributes[name] = a
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
	rateLimit, diags := resolveRateLimit(m.RateLimit, p.env)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	transport, diags := transportSettings(m, s.Endpoint)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	limiter, err := newRateLimiter(rateLimit, p.clock)
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
	tflog.Debug(ctx, "KooPhone provider configured", map[string]any{
		"endpoint":        client.Endpoint(),
		"request_timeout": s.RequestTimeout.String(),
		"max_retries":     s.MaxRetries,
		"authentication":  s.Auth.String(),
		"rate_limit":      rateLimit,
	})
	data := &providerData{client: client, clock: p.clock, secrets: creds.Secrets(), auth: s.Auth.authSummary}
	resp.DataSourceData = data
	resp.ResourceData = data
}

func (p *koophoneProvider) Resources(context.Context) []func() resource.Resource {
	return nil
}

func (p *koophoneProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newInstanceTaskDataSource,
		newInstanceTasksDataSource,
	}
}
