package main

import (
	"runtime/debug"
	"strings"
)

// version and commit are stamped at build time by goreleaser, as the
// provider's are: -ldflags "-X main.version=1.2.3 -X main.commit=<sha>".
var (
	version = ""
	commit  = ""
)

// versionString is what -version prints: "koophone-emulator VERSION",
// then " (commit COMMIT)" when the commit is known.
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return describeVersion(version, commit, info)
}

// describeVersion picks the version: the stamped one; else the module
// version the go command recorded (for `go install
// .../cmd/koophone-emulator@v1.2.3`, v1.2.3, shown as 1.2.3, the way the
// releases name it); else "dev". The commit is the stamped one, else the
// VCS revision the go command recorded, if any.
func describeVersion(stampedVersion, stampedCommit string, info *debug.BuildInfo) string {
	v, c := stampedVersion, stampedCommit
	if info != nil {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = strings.TrimPrefix(info.Main.Version, "v")
		}
		for _, s := range info.Settings {
			if c == "" && s.Key == "vcs.revision" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	out := "koophone-emulator " + v
	if c != "" {
		out += " (commit " + c + ")"
	}
	return out
}
