// Command terraform-provider-koophone serves the koophone Terraform provider
// over the plugin protocol (version 6).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/koophone/terraform-provider-koophone/internal/provider"
)

// version and commit are set at build time with -ldflags "-X main.version=...
// -X main.commit=...", by goreleaser for releases and by the GNUmakefile for
// local builds.
var (
	version = "dev"
	commit  = ""
)

// providerAddress is where users get the provider: source = "koophone/koophone".
const providerAddress = "registry.terraform.io/koophone/koophone"

func main() {
	var debug, showVersion bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve; prints TF_REATTACH_PROVIDERS to use")
	flag.BoolVar(&showVersion, "version", false, "print the provider version and exit")
	flag.Parse()

	if showVersion {
		fmt.Fprintln(os.Stdout, versionString())
		return
	}

	provider.QuietUnseenLogs()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: providerAddress,
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}

// versionString is what -version prints: "terraform-provider-koophone
// VERSION", followed by " (commit COMMIT)" when the commit was stamped.
func versionString() string {
	s := "terraform-provider-koophone " + version
	if commit != "" {
		s += " (commit " + commit + ")"
	}
	return s
}
