// Package provider is the koophone Terraform provider, built on
// terraform-plugin-framework: one file per data source and resource (schema,
// typed model, CRUD) and what they share: submit_lifecycle.go, task_read.go,
// diagnostics.go, validators.go.
//
// Lists are built by hand instead of through typed models where the
// framework's per-element reflection is too slow at fleet size: the phones of
// koophone_instances, the tasks and jobs of koophone_instance_tasks, and the
// apps of koophone_instance_apps.
// BenchmarkInstancesList and BenchmarkTasksList measure both ways (section 6
// of BENCHMARKS.md).
package provider

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

var (
	_ provider.ProviderWithValidateConfig = (*koophoneProvider)(nil)
	_ provider.ProviderWithActions        = (*koophoneProvider)(nil)
)

// Environment variables read when an argument is not set.
const (
	envEndpoint  = "KOOPHONE_ENDPOINT"
	envToken     = "KOOPHONE_TOKEN"
	envRateLimit = "KOOPHONE_RATE_LIMIT"
)

// Defaults and limits of the provider's arguments; the request timeout's
// default is the client's.
const (
	defaultMaxRetries = 4
	minRequestTimeout = time.Second
	maxMaxRetries     = 10
	minRateLimit      = 0.01
	maxRateLimit      = 10000.0
	// What can go into a URL or a header; IAM tokens are a few kilobytes.
	maxEndpointLength   = 2048
	maxCredentialLength = 65536
)

type koophoneProvider struct {
	version string
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Option changes how the provider is built; tests use it.
type Option func(*koophoneProvider)

// WithDialContext makes the client connect with dial instead of the network,
// so that tests can serve the emulator in memory, inside a testing/synctest
// bubble.
func WithDialContext(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(p *koophoneProvider) { p.dial = dial }
}

// lookupEnv is os.LookupEnv, or a map in tests.
type lookupEnv func(key string) (string, bool)

// New returns the provider's constructor, for providerserver.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &koophoneProvider{version: version}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

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
	client   *koophone.Client
	endpoint string      // for diagnostics
	secrets  []string    // masked out of every log entry
	auth     authSummary // for diagnostics
	// unknown lists the arguments not known yet when the provider was
	// configured; client is nil then.
	unknown []string
}

func (p *koophoneProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "koophone"
	resp.Version = p.version
}

func (p *koophoneProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	credential := func(description string, more ...validator.String) schema.StringAttribute {
		return schema.StringAttribute{
			MarkdownDescription: description,
			Optional:            true,
			Sensitive:           true,
			Validators:          append(more, credentialRule),
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads and waits on asynchronous [KooPhone](https://support.huaweicloud.com/intl/en-us/api-koophone/kp_01_0001.html) " +
			"cloud phone tasks (adb commands and app installs sent to many phones at once).",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Base URL of the KooPhone API. Falls back to the `%s` environment variable, "+
					"then to `%s`. Must be an absolute `https://` (or, for a local emulator, `http://`) URL; "+
					"a path prefix, for a proxy, is kept and a trailing slash is ignored.", envEndpoint, koophone.DefaultEndpoint),
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtMost(maxEndpointLength), endpointRule},
			},

			// Credentials: exactly one way of authenticating (see credentials.go).
			"token": credential(fmt.Sprintf("Project-scoped Huawei Cloud IAM token, sent as `X-Auth-Token`. Falls back to the `%s` "+
				"environment variable. Tokens are valid for 24 hours. Never stored in state or written to logs. Conflicts with "+
				"`access_key` and `secret_key`; see [Authentication](#authentication).", envToken),
				stringvalidator.LengthAtMost(maxCredentialLength)),
			"access_key": credential(fmt.Sprintf("Huawei Cloud access key (AK) to sign requests with (`SDK-HMAC-SHA256`), together with "+
				"`secret_key`. Falls back to `%s`, then `%s`. Conflicts with `token`; see [Authentication](#authentication) "+
				"for the precedence rules.", envAccessKey, envHWAccessKey)),
			"secret_key": credential(fmt.Sprintf("Secret key (SK) of `access_key`. Falls back to `%s`, then `%s`. "+
				"Used to sign requests, never sent, stored in state or written to logs.", envSecretKey, envHWSecretKey)),
			"security_token": credential(fmt.Sprintf("Security token of temporary AK/SK credentials, sent (and signed) as `X-Security-Token`; "+
				"requires `access_key` and `secret_key`. Falls back to `%s`, then `%s`.", envSecurityToken, envHWSecurityToken)),
			"project_id": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Huawei Cloud project id, sent (and signed) as `X-Project-Id` on AK/SK-signed requests; "+
					"not used with a token, which is project-scoped already. Falls back to `%s`, then `%s`. Optional.",
					envProjectID, envHWProjectID),
				Optional:   true,
				Validators: []validator.String{headerValueRule},
			},

			// Requests: timeouts, retries and pacing.
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Time limit for one HTTP attempt, from sending the request to reading the whole answer, "+
					"as a Go duration such as `\"30s\"` or `\"1m\"`. At least `%s`. Defaults to `%s`.", minRequestTimeout, koophone.DefaultRequestTimeout),
				Optional:   true,
				Validators: []validator.String{durationAtLeast(minRequestTimeout)},
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

			// Connection.
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "PEM-encoded CA certificate(s) trusted for the endpoint in addition to the system's, for a KooPhone " +
					"endpoint behind a TLS-inspecting proxy or a private CA. Conflicts with `ca_cert_file`.",
				Optional: true,
				Validators: []validator.String{
					caPEMRule,
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

// ValidateConfig checks at plan time that the provider block's credentials
// fit together; values not known yet are checked by Configure.
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
	// plan: Terraform configures the provider again before it applies.
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
		resp.DataSourceData = &providerData{unknown: unknown}
		resp.ResourceData, resp.ActionData = resp.DataSourceData, resp.DataSourceData
		return
	}

	s, diags := resolveSettings(m, os.LookupEnv)
	resp.Diagnostics.Append(diags...)
	transport, diags := transportSettings(m, s.Endpoint)
	transport.DialContext = p.dial
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	limiter, err := ratelimit.New(s.RateLimit)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("rate_limit"), "Invalid rate_limit", capitalize(err.Error())+".")
		return
	}
	creds := s.Auth.credentials()
	ctx = withSecretsMasked(ctx, creds.Secrets())

	client, err := koophone.New(koophone.Config{
		Endpoint:       s.Endpoint,
		Credentials:    creds,
		RequestTimeout: s.RequestTimeout,
		MaxRetries:     s.MaxRetries,
		UserAgent:      fmt.Sprintf("terraform-provider-koophone/%s Terraform/%s", p.version, req.TerraformVersion),
		Transport:      transport,
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
	resp.DataSourceData = &providerData{client: client, endpoint: client.Endpoint(), secrets: creds.Secrets(), auth: s.Auth.authSummary}
	resp.ResourceData, resp.ActionData = resp.DataSourceData, resp.DataSourceData
}

func (p *koophoneProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newInstanceCommandResource, newInstanceAppInstallResource}
}

// Actions need Terraform 1.14 or later; older CLIs never ask for them.
func (p *koophoneProvider) Actions(context.Context) []func() action.Action {
	return []func() action.Action{newInstanceCommandAction, newInstanceAppInstallAction, newInstanceRebootAction, newInstanceResetAction}
}

func (p *koophoneProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newInstanceTaskDataSource, newInstanceTasksDataSource, newInstancesDataSource,
		newInstanceAppsDataSource,
	}
}

// settings are the provider's effective configuration.
type settings struct {
	Endpoint       string
	Auth           authSettings
	RequestTimeout time.Duration
	MaxRetries     int
	RateLimit      float64 // requests per second; 0 means no cap
}

// resolveSettings merges the fully known provider block with the
// environment: argument, else environment variable, else default. The
// validators checked the arguments at plan time already, but not those
// that were unknown then.
func resolveSettings(m providerModel, env lookupEnv) (settings, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := settings{Endpoint: koophone.DefaultEndpoint, RequestTimeout: koophone.DefaultRequestTimeout, MaxRetries: defaultMaxRetries}

	switch v, fromEnv := env(envEndpoint); {
	case !m.Endpoint.IsNull():
		s.Endpoint = m.Endpoint.ValueString()
		if _, err := koophone.ParseEndpoint(s.Endpoint); err != nil {
			diags.AddAttributeError(path.Root("endpoint"), "Invalid KooPhone endpoint", capitalize(err.Error())+".")
		}
	case fromEnv && v != "":
		if _, err := koophone.ParseEndpoint(v); err != nil {
			diags.AddAttributeError(path.Root("endpoint"), "Invalid "+envEndpoint,
				fmt.Sprintf("The %s environment variable is used because endpoint is not set, but it is not usable: %s.\n\n"+
					"Set %s to the base URL of the KooPhone API (for example %q), unset it to use that default, or set endpoint in the provider block.",
					envEndpoint, err, envEndpoint, koophone.DefaultEndpoint))
		}
		s.Endpoint = v
	}

	var more diag.Diagnostics
	s.Auth, more = resolveCredentials(m, env)
	diags.Append(more...)

	if !m.RequestTimeout.IsNull() {
		d, timeoutDiags := parseDuration(path.Root("request_timeout"), m.RequestTimeout.ValueString(), minRequestTimeout)
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
	s.RateLimit, more = resolveRateLimit(m.RateLimit, env)
	diags.Append(more...)
	return s, diags
}

// resolveRateLimit merges rate_limit with KOOPHONE_RATE_LIMIT; neither
// means no cap (0).
func resolveRateLimit(v types.Float64, env lookupEnv) (float64, diag.Diagnostics) {
	var diags diag.Diagnostics
	problem := func(r float64) string {
		if math.IsNaN(r) || r < minRateLimit || r > maxRateLimit {
			return fmt.Sprintf("must be between %v and %v requests per second", minRateLimit, maxRateLimit)
		}
		return ""
	}
	if !v.IsNull() {
		r := v.ValueFloat64()
		if msg := problem(r); msg != "" {
			diags.AddAttributeError(path.Root("rate_limit"), "Invalid rate_limit", fmt.Sprintf("rate_limit is %v, but it %s.", r, msg))
		}
		return r, diags
	}
	raw, ok := env(envRateLimit)
	if !ok || strings.TrimSpace(raw) == "" {
		return 0, diags
	}
	r, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	msg := problem(r)
	if err != nil {
		msg = "is not a number"
	}
	if msg != "" {
		diags.AddAttributeError(path.Root("rate_limit"), "Invalid "+envRateLimit, fmt.Sprintf(
			"The %s environment variable is used because rate_limit is not set, but its value %q %s.\n\n"+
				"Set it to a number of requests per second such as \"10\", unset it for no cap, or set rate_limit in the provider block.",
			envRateLimit, raw, msg))
	}
	return r, diags
}

// transportSettings resolves the CA and TLS arguments, and warns about a
// transport that exposes the credentials.
func transportSettings(m providerModel, endpoint string) (koophone.TransportOptions, diag.Diagnostics) {
	var opts koophone.TransportOptions
	var diags diag.Diagnostics
	switch {
	case !m.CACertPEM.IsNull():
		opts.ExtraCAPEM = []byte(m.CACertPEM.ValueString())
		if _, err := koophone.ParseCAPEM(opts.ExtraCAPEM); err != nil {
			diags.AddAttributeError(path.Root("ca_cert_pem"), "Invalid CA certificate", capitalize(err.Error())+".")
		}
	case !m.CACertFile.IsNull():
		file := m.CACertFile.ValueString()
		data, err := os.ReadFile(file)
		if err != nil {
			diags.AddAttributeError(path.Root("ca_cert_file"), "Cannot read CA certificate file", fmt.Sprintf("Reading %q failed: %v.", file, err))
			break
		}
		if _, err := koophone.ParseCAPEM(data); err != nil {
			diags.AddAttributeError(path.Root("ca_cert_file"), "Invalid CA certificate file", fmt.Sprintf("%s: %s.", file, err))
		}
		opts.ExtraCAPEM = data
	}

	opts.InsecureSkipVerify = m.Insecure.ValueBool()
	if opts.InsecureSkipVerify {
		diags.AddAttributeWarning(path.Root("insecure"), "TLS verification is disabled",
			"insecure = true: the provider does not check the KooPhone endpoint's certificate, so anyone on the network path "+
				"could impersonate the API and read the credentials. Use ca_cert_pem or ca_cert_file to trust a private CA instead.")
	}
	if u, err := url.Parse(endpoint); err == nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		diags.AddAttributeWarning(path.Root("endpoint"), "Credentials sent in clear text",
			fmt.Sprintf("The endpoint %q uses http://, so the credentials cross the network unencrypted. "+
				"Use https:// (plain http:// is meant for an emulator on this machine).", endpoint))
	}
	return opts, diags
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientReady reports whether the provider has an API client, and explains
// in a diagnostic when it has not.
func clientReady(data *providerData, diags *diag.Diagnostics) bool {
	switch {
	case data == nil:
		diags.AddError("KooPhone provider not configured",
			"The provider was used before it was configured. This is a bug in the provider or in Terraform; please report it.")
		return false
	case data.client == nil:
		diags.AddError("KooPhone provider configuration not known yet",
			fmt.Sprintf("The provider's %s depend(s) on values that are only known after apply, so the KooPhone API cannot be called during this plan.\n\n"+
				"Make the data source or resource depend on the same values (or on the resources that produce them, with depends_on), "+
				"so that Terraform uses it during apply, when the provider configuration is known.",
				strings.Join(data.unknown, ", ")))
		return false
	}
	return true
}

// configuredData is what Configure keeps: the provider's data, or nil when
// Terraform calls Configure before the provider is configured.
func configuredData(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider.", data))
	}
	return pd
}

// dataSource is the type name and Configure that every data source shares.
type dataSource struct {
	typeSuffix string // after the provider's name, such as "_instances"
	data       *providerData
}

func (d *dataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + d.typeSuffix
}

func (d *dataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}
