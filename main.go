// Command terraform-provider-koophone serves the koophone Terraform provider
// over the plugin protocol (version 6).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

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

	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	// The framework's protocol 6 server, with the provider's encoding of
	// large task lists (see internal/provider/server.go).
	err := tf6server.Serve(providerAddress, provider.NewProtocol6Server(provider.New(version)()), opts...)
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
