//go:build tools

// Package tools pins the versions of the Go programs used to develop this
// provider (documentation generation). It is a separate module so that these
// dependencies never end up in the provider's own go.mod.
//
// Run them from this directory, e.g.
//
//	go run github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs version
//
// or, better, through scripts/docs.sh (make docs / make docs-check).
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
