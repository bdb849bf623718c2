package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestDescribeVersion(t *testing.T) {
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/koophone/terraform-provider-koophone", Version: "v1.2.3"}}
	local := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}}}
	cases := []struct {
		name            string
		version, commit string
		info            *debug.BuildInfo
		want            string
	}{
		{"stamped by goreleaser", "1.2.3", "0123abcd", installed, "koophone-emulator 1.2.3 (commit 0123abcd)"},
		{"go install ...@v1.2.3", "", "", installed, "koophone-emulator 1.2.3"},
		{"a pseudo-version", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.1-0.20260102030405-abcdef123456"}}, "koophone-emulator 0.1.1-0.20260102030405-abcdef123456"},
		{"a local build", "", "", local, "koophone-emulator dev (commit abc123)"},
		{"stamped version, VCS commit", "9.9.9", "", local, "koophone-emulator 9.9.9 (commit abc123)"},
		{"nothing known", "", "", nil, "koophone-emulator dev"},
	}
	for _, c := range cases {
		if got := describeVersion(c.version, c.commit, c.info); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// -version prints the version and exits 0, without credentials or
// listening.
func TestRunVersion(t *testing.T) {
	var stdout, stderr syncBuffer
	err := run(t.Context(), []string{"-version"}, env(nil), &stdout, &stderr)
	if err != nil || exitCode(err, &stderr) != 0 {
		t.Fatalf("run -version: %v", err)
	}
	if got := strings.TrimSuffix(stdout.String(), "\n"); got != versionString() || !strings.HasPrefix(got, "koophone-emulator ") {
		t.Errorf("stdout %q, want %q", got, versionString())
	}
}

// The version stamp: what goreleaser passes with -ldflags is what
// -version prints.
func TestVersionStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := filepath.Join(t.TempDir(), "koophone-emulator")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=9.8.7-test -X main.commit=0123abcd", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("-version: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "koophone-emulator 9.8.7-test (commit 0123abcd)"; got != want {
		t.Errorf("-version printed %q, want %q", got, want)
	}
}
