package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// This file resolves the provider arguments that shape the connection
// (extra trusted CAs, TLS verification) and warns about insecure transport.

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
