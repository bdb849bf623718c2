package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

var referenceSeed = filepath.Join("..", "..", "examples", "emulator", "seed.json")

// The reference seed file starts the program: its credentials are
// accepted, written to -env-file with the endpoint, and the file is
// removed when the program stops.
func TestRunReferenceSeed(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "koophone.env")
	url, stdout, stderr, stop := startRunEnv(t, []string{"-seed", referenceSeed, "-env-file", envFile, "-quiet"}, nil)
	// startRunEnv waits for the url file, which is written after the env file.
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := "KOOPHONE_ENDPOINT=" + url + "\nKOOPHONE_TOKEN=emulator-test-token\n"; string(b) != want {
		t.Errorf("env file:\n%s\nwant:\n%s", b, want)
	}
	if info, err := os.Stat(envFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("env file mode: %v %v, want 0600: it holds the credentials", info.Mode(), err)
	}
	if got := stdout.String(); got != "command-task-succeeds-after-3s\ninstall-task-starts-late\ntask-never-finishes\n" {
		t.Errorf("stdout %q, want the seeded task ids", got)
	}
	// The seed's token is accepted (an unknown task: 400 KOOPHONE.API.1323,
	// past authentication), another is not.
	if status, body, _ := get(t, url+"/v1/instances/tasks/unknown", map[string]string{"X-Auth-Token": "emulator-test-token", "X-Request-Id": "r1"}); status != 400 || !strings.Contains(body, "KOOPHONE.API.1323") {
		t.Errorf("with the seed's token: %d %s", status, body)
	}
	if status, _, _ := get(t, url+"/v1/instances/tasks/unknown", map[string]string{"X-Auth-Token": token, "X-Request-Id": "r2"}); status != 401 {
		t.Errorf("with another token: %d", status)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(envFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("env file not removed on exit: %v", err)
	}
	log := stderr.String()
	for _, want := range []string{
		"koophone-emulator lists 4 phones from the seed",
		"koophone-emulator decides the jobs of submitted work with the seed's rules (10)",
		"koophone-emulator accepts X-Auth-Token (from the seed file) and temporary AK/SK signatures with X-Security-Token (from the seed file)",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
}

// The flags and the environment take precedence over the seed file's
// credentials: the token and the access key each on its own, and the
// access key, secret key and security token always from one place.
func TestCredentialPrecedence(t *testing.T) {
	seed := &emulator.Credentials{Token: "seed-token", AccessKey: "SEEDAK", SecretKey: "seed-sk", SecurityToken: "seed-st"}
	cases := []struct {
		name        string
		args        []string
		env         map[string]string
		seed        *emulator.Credentials
		token, from string // the token and its source
		ak          akskFlags
	}{
		{"seed only", nil, nil, seed, "seed-token", "the seed file",
			akskFlags{accessKey: "SEEDAK", secretKey: "seed-sk", securityToken: "seed-st", source: "the seed file"}},
		{"seed token only", nil, nil, &emulator.Credentials{Token: "seed-token"}, "seed-token", "the seed file", akskFlags{}},
		{"KOOPHONE_TOKEN beats the seed", nil, map[string]string{"KOOPHONE_TOKEN": "env-token"}, seed, "env-token", "KOOPHONE_TOKEN",
			akskFlags{accessKey: "SEEDAK", secretKey: "seed-sk", securityToken: "seed-st", source: "the seed file"}},
		{"-token beats the seed", []string{"-token", "flag-token"}, nil, seed, "flag-token", "-token",
			akskFlags{accessKey: "SEEDAK", secretKey: "seed-sk", securityToken: "seed-st", source: "the seed file"}},
		{"HW_ keys beat the seed's, never mixed", nil, map[string]string{"HW_ACCESS_KEY": "HWAK", "HW_SECRET_KEY": "hw-sk"}, seed, "seed-token", "the seed file",
			akskFlags{accessKey: "HWAK", secretKey: "hw-sk", source: "HW_*"}},
		{"flag keys beat the seed's", []string{"-access-key", "FLAGAK", "-secret-key", "flag-sk"}, nil, seed, "seed-token", "the seed file",
			akskFlags{accessKey: "FLAGAK", secretKey: "flag-sk", source: "flags"}},
		{"no seed", []string{"-token", "flag-token"}, nil, nil, "flag-token", "-token", akskFlags{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parseFlags(c.args, env(c.env), &syncBuffer{})
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.useSeedCredentials(c.seed); err != nil {
				t.Fatal(err)
			}
			if cfg.token != c.token || cfg.tokenSource != c.from || cfg.credentials != c.ak {
				t.Errorf("token %q from %q, keys %+v\nwant %q from %q, keys %+v", cfg.token, cfg.tokenSource, cfg.credentials, c.token, c.from, c.ak)
			}
		})
	}
	cfg, err := parseFlags(nil, env(nil), &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	var ue usageError
	if err := cfg.useSeedCredentials(nil); !errors.As(err, &ue) || !strings.Contains(err.Error(), `or give them in the seed file's "credentials"`) {
		t.Errorf("no credentials anywhere: %v", err)
	}
}

// -env-file holds KOOPHONE_TOKEN when a token is accepted, else the access
// key, and refuses values a shell would need quoted.
func TestEnvFileLines(t *testing.T) {
	cases := []struct {
		name  string
		token string
		ak    akskFlags
		want  string // "" with wantErr
		err   string
	}{
		{"token", "t0k3n_.+/=:@%,-", akskFlags{}, "KOOPHONE_TOKEN=t0k3n_.+/=:@%,-\n", ""},
		{"the token only, with an access key too", "t", akskFlags{accessKey: "AK", secretKey: "SK"}, "KOOPHONE_TOKEN=t\n", ""},
		{"access key", "", akskFlags{accessKey: "AK", secretKey: "SK"}, "KOOPHONE_ACCESS_KEY=AK\nKOOPHONE_SECRET_KEY=SK\n", ""},
		{"temporary access key", "", akskFlags{accessKey: "AK", secretKey: "SK", securityToken: "ST"},
			"KOOPHONE_ACCESS_KEY=AK\nKOOPHONE_SECRET_KEY=SK\nKOOPHONE_SECURITY_TOKEN=ST\n", ""},
		{"a space", "my token", akskFlags{}, "", "the value of KOOPHONE_TOKEN has a character at byte 2 that a shell would need quoted"},
		{"a dollar", "", akskFlags{accessKey: "AK", secretKey: "S$K"}, "", "KOOPHONE_SECRET_KEY has a character at byte 1"},
		{"a tilde", "~t", akskFlags{}, "", "at byte 0"},
		{"a newline", "t\n", akskFlags{}, "", "at byte 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := envFileLines(c.token, c.ak)
			var ue usageError
			switch {
			case c.err == "" && (err != nil || got != c.want):
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			case c.err != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), c.err)):
				t.Errorf("err %v, want a usage error containing %q", err, c.err)
			case c.err != "" && (strings.Contains(err.Error(), c.token) && c.token != "" || strings.Contains(err.Error(), "S$K")):
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	// The program refuses such a credential before it listens, and only
	// with -env-file.
	dir := t.TempDir()
	err := run(t.Context(), []string{"-listen", "127.0.0.1:0", "-token", "a b", "-env-file", filepath.Join(dir, "env")}, env(nil), &syncBuffer{}, &syncBuffer{})
	if exitCode(err, &syncBuffer{}) != 2 || !strings.Contains(err.Error(), "-env-file") {
		t.Errorf("run: %v", err)
	}
}
