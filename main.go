// Command terraform-provider-koophone serves the koophone Terraform provider
// over the plugin protocol (version 6).
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/koophone/terraform-provider-koophone/internal/provider"
)

// version is set at build time with -ldflags "-X main.version=...", by
// goreleaser for releases and by the GNUmakefile for local builds.
var version = "dev"

// providerAddress is where users get the provider: source = "koophone/koophone".
const providerAddress = "registry.terraform.io/koophone/koophone"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve; prints TF_REATTACH_PROVIDERS to use")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: providerAddress,
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
