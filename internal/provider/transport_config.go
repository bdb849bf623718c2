package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// This file holds the provider arguments that shape the connection: extra
// trusted CAs, TLS verification, and the warnings about insecure transport.

// transportAttributes are the schema of the connection arguments.
func transportAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
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
	}
}

// transportSettings resolves the connection arguments into client options,
// reading ca_cert_file, and adds the warnings the configuration deserves.
func transportSettings(m providerModel, endpoint string) (koophone.TransportOptions, diag.Diagnostics) {
	var (
		opts  koophone.TransportOptions
		diags diag.Diagnostics
	)
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
			diags.AddAttributeError(path.Root("ca_cert_file"), "Cannot read CA certificate file",
				fmt.Sprintf("Reading %q failed: %v.", file, err))
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

// isLoopbackHost reports whether host is this machine: localhost or a
// loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// caPEMValidator rejects, at plan time, PEM data without a usable
// certificate.
type caPEMValidator struct{}

var _ validator.String = caPEMValidator{}

func (caPEMValidator) Description(context.Context) string {
	return "must contain one or more PEM CERTIFICATE blocks"
}

func (v caPEMValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (caPEMValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := koophone.ParseCAPEM([]byte(req.ConfigValue.ValueString())); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid CA certificate", capitalize(err.Error())+".")
	}
}
