package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The version stamp: what goreleaser and the GNUmakefile pass with -ldflags
// is what `-version` prints, and -version exits 0 without serving.
func TestVersionFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the provider binary")
	}
	bin := filepath.Join(t.TempDir(), "terraform-provider-koophone")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.version=9.8.7-test -X main.commit=0123abcd", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s -version: %v\n%s", bin, err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "terraform-provider-koophone 9.8.7-test (commit 0123abcd)"; got != want {
		t.Errorf("-version printed %q, want %q", got, want)
	}
}

func TestVersionString(t *testing.T) {
	oldVersion, oldCommit := version, commit
	t.Cleanup(func() { version, commit = oldVersion, oldCommit })

	version, commit = "dev", ""
	if got, want := versionString(), "terraform-provider-koophone dev"; got != want {
		t.Errorf("versionString() = %q, want %q", got, want)
	}
	version, commit = "1.2.3", "abc"
	if got, want := versionString(), "terraform-provider-koophone 1.2.3 (commit abc)"; got != want {
		t.Errorf("versionString() = %q, want %q", got, want)
	}
}
