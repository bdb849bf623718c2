package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// clientReady reports whether the provider has an API client to read with,
// and explains in a diagnostic when it has not.
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

// configuredData is what a data source's Configure keeps: the provider's
// data, or nil before the provider is configured (Terraform calls
// Configure early too, with no provider data).
func configuredData(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider.", data))
		return nil
	}
	return pd
}
