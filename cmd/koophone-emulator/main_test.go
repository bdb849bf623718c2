package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const token = "prog-token-123"

// runMainEnv, set to 1, makes the test binary run the program's main
// instead of the tests, so a test can run the real program (signals, exit
// status) without building it.
const runMainEnv = "KOOPHONE_EMULATOR_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(config) bool
		wantErr string // "" means success; "help" means flag.ErrHelp
	}{
		{"defaults with token flag", []string{"-token", "t"}, nil, func(c config) bool {
			return c.listen == "127.0.0.1:8765" && c.token == "t" && c.jobDuration == 5*time.Second &&
				c.instances == nil && !c.quiet && !c.allowRemote && c.seed == "" && c.urlFile == "" &&
				c.envFile == "" && !c.showVersion && c.installResponse == "flat" && c.resetResponse == "task"
		}, ""},
		{"token from env", nil, map[string]string{"KOOPHONE_TOKEN": "e"}, func(c config) bool { return c.token == "e" && c.tokenSource == "KOOPHONE_TOKEN" }, ""},
		{"flag beats env", []string{"-token", "f"}, map[string]string{"KOOPHONE_TOKEN": "e"}, func(c config) bool { return c.token == "f" && c.tokenSource == "-token" }, ""},
		// The seed file may have them: start checks (TestRunErrors).
		{"no credentials yet", nil, nil, func(c config) bool { return c.token == "" && c.credentials == akskFlags{} }, ""},
		{"version", []string{"-version"}, nil, func(c config) bool { return c.showVersion }, ""},
		{"version needs nothing else", []string{"-version", "-listen", ":1", "-install-response", "x"}, nil, func(c config) bool { return c.showVersion }, ""},
		{"env file", []string{"-token", "t", "-env-file", "e"}, nil, func(c config) bool { return c.envFile == "e" }, ""},
		{"latency", []string{"-token", "t", "-latency", "50ms"}, nil, func(c config) bool { return c.latency == 50*time.Millisecond && c.latencySet }, ""},
		{"no latency flag", []string{"-token", "t"}, nil, func(c config) bool { return c.latency == 0 && !c.latencySet }, ""},
		{"negative latency", []string{"-token", "t", "-latency", "-1ms"}, nil, nil, "-latency -1ms: must not be negative"},
		{"env file is not the url file", []string{"-token", "t", "-env-file", "f", "-url-file", "f"}, nil, nil, "must be different files"},
		{"access key flags", []string{"-access-key", "a", "-secret-key", "s"}, nil, func(c config) bool {
			return c.token == "" && c.credentials == akskFlags{accessKey: "a", secretKey: "s", source: "flags"}
		}, ""},
		{"temporary access key flags", []string{"-access-key", "a", "-secret-key", "s", "-security-token", "st"}, nil, func(c config) bool {
			return c.credentials.securityToken == "st"
		}, ""},
		{"access key from KOOPHONE_", nil, map[string]string{"KOOPHONE_ACCESS_KEY": "a", "KOOPHONE_SECRET_KEY": "s", "HW_ACCESS_KEY": "h", "HW_SECRET_KEY": "hs"}, func(c config) bool {
			return c.credentials == akskFlags{accessKey: "a", secretKey: "s", source: "KOOPHONE_*"}
		}, ""},
		{"access key from HW_", nil, map[string]string{"HW_ACCESS_KEY": "h", "HW_SECRET_KEY": "hs", "HW_SECURITY_TOKEN": "hst"}, func(c config) bool {
			return c.credentials == akskFlags{accessKey: "h", secretKey: "hs", securityToken: "hst", source: "HW_*"}
		}, ""},
		{"flags beat environment", []string{"-access-key", "a", "-secret-key", "s"}, map[string]string{"KOOPHONE_ACCESS_KEY": "e", "KOOPHONE_SECRET_KEY": "es"}, func(c config) bool {
			return c.credentials.accessKey == "a" && c.credentials.source == "flags"
		}, ""},
		{"token and access key", []string{"-token", "t", "-access-key", "a", "-secret-key", "s"}, nil, func(c config) bool {
			return c.token == "t" && c.credentials.accessKey == "a"
		}, ""},
		{"access key without secret key", []string{"-token", "t", "-access-key", "a"}, nil, nil, "-access-key is set, but -secret-key is not"},
		{"secret key without access key", nil, map[string]string{"HW_SECRET_KEY": "s"}, nil, "HW_SECRET_KEY is set, but HW_ACCESS_KEY is not"},
		{"security token alone", []string{"-token", "t", "-security-token", "st"}, nil, nil, "a security token needs its access key"},
		{"no mixing of places", nil, map[string]string{"KOOPHONE_ACCESS_KEY": "a", "HW_SECRET_KEY": "s"}, nil, "KOOPHONE_ACCESS_KEY is set, but KOOPHONE_SECRET_KEY is not"},
		{"all flags", []string{"-token", "t", "-listen", "[::1]:0", "-seed", "s.json", "-job-duration", "250ms",
			"-instances", " a, b,,c ", "-url-file", "u", "-quiet"}, nil, func(c config) bool {
			return c.listen == "[::1]:0" && c.seed == "s.json" && c.jobDuration == 250*time.Millisecond &&
				strings.Join(c.instances, "|") == "a|b|c" && c.urlFile == "u" && c.quiet
		}, ""},
		{"install response flat", []string{"-token", "t", "-install-response", "flat"}, nil, func(c config) bool { return c.installResponse == "flat" }, ""},
		{"install response nested", []string{"-token", "t", "-install-response", "nested"}, nil, func(c config) bool { return c.installResponse == "nested" }, ""},
		{"install response unknown", []string{"-token", "t", "-install-response", "deep"}, nil, nil, `-install-response "deep": want "flat" or "nested"`},
		{"install response is case-sensitive", []string{"-token", "t", "-install-response", "Nested"}, nil, nil, `-install-response "Nested"`},
		{"install response empty", []string{"-token", "t", "-install-response", ""}, nil, nil, `-install-response ""`},
		{"reset response task", []string{"-token", "t", "-reset-response", "task"}, nil, func(c config) bool { return c.resetResponse == "task" }, ""},
		{"reset response none", []string{"-token", "t", "-reset-response", "none"}, nil, func(c config) bool { return c.resetResponse == "none" }, ""},
		{"reset response unknown", []string{"-token", "t", "-reset-response", "nested"}, nil, nil, `-reset-response "nested": want "task" or "none"`},
		{"reset response empty", []string{"-token", "t", "-reset-response", ""}, nil, nil, `-reset-response ""`},
		{"localhost", []string{"-token", "t", "-listen", "localhost:0"}, nil, nil, ""},
		{"127.0.0.2", []string{"-token", "t", "-listen", "127.0.0.2:0"}, nil, nil, ""},
		{"all interfaces refused", []string{"-token", "t", "-listen", ":8765"}, nil, nil, "all interfaces, not loopback"},
		{"0.0.0.0 refused", []string{"-token", "t", "-listen", "0.0.0.0:1"}, nil, nil, "-allow-remote"},
		{"hostname refused", []string{"-token", "t", "-listen", "example.com:1"}, nil, nil, "-allow-remote"},
		{"remote allowed", []string{"-token", "t", "-listen", "0.0.0.0:1", "-allow-remote"}, nil, func(c config) bool { return c.allowRemote }, ""},
		{"bad listen", []string{"-token", "t", "-listen", "nonsense"}, nil, nil, "-listen"},
		{"bad duration", []string{"-token", "t", "-job-duration", "5"}, nil, nil, "job-duration"},
		{"unknown flag", []string{"-token", "t", "-bogus"}, nil, nil, "bogus"},
		{"extra args", []string{"-token", "t", "extra"}, nil, nil, "unexpected arguments"},
		{"help", []string{"-h"}, nil, nil, "help"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cfg, err := parseFlags(c.args, env(c.env), &stderr)
			switch {
			case c.wantErr == "help":
				if !errors.Is(err, flag.ErrHelp) || exitCode(err, io.Discard) != 0 {
					t.Fatalf("err %v", err)
				}
			case c.wantErr != "":
				var ue usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want a usage error containing %q", err, c.wantErr)
				}
				if exitCode(err, io.Discard) != 2 {
					t.Error("usage error does not exit 2")
				}
			case err != nil:
				t.Fatalf("err %v", err)
			case c.check != nil && !c.check(cfg):
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	var b bytes.Buffer
	if exitCode(nil, &b) != 0 || exitCode(errors.New("boom"), &b) != 1 || exitCode(usageError{"u"}, &b) != 2 {
		t.Error("exit codes")
	}
	if !strings.Contains(b.String(), "koophone-emulator: boom") {
		t.Errorf("stderr %q", b.String())
	}
}

// syncBuffer is a goroutine-safe bytes.Buffer for captured output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRun runs the program in the background, with KOOPHONE_TOKEN set to
// token, and returns its base URL.
func startRun(t *testing.T, args []string) (url string, stdout, stderr *syncBuffer, stop func() error) {
	t.Helper()
	return startRunEnv(t, args, map[string]string{"KOOPHONE_TOKEN": token})
}

// startRunEnv runs the program in the background with the environment
// vars, and returns its base URL.
func startRunEnv(t *testing.T, args []string, vars map[string]string) (url string, stdout, stderr *syncBuffer, stop func() error) {
	t.Helper()
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	// A stale file must not be mistaken for readiness.
	if err := os.WriteFile(urlFile, []byte("http://stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0", "-url-file", urlFile}, args...), env(vars), stdout, stderr)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(urlFile)
		if err == nil && !strings.Contains(string(b), "stale") {
			if !strings.HasSuffix(string(b), "\n") {
				t.Fatalf("url file %q lacks a newline", b)
			}
			url = strings.TrimSpace(string(b))
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\nstderr: %s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("url file never appeared")
		}
		time.Sleep(time.Millisecond)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				runErr = errors.New("run did not stop")
			}
			if _, err := os.Stat(urlFile); !errors.Is(err, os.ErrNotExist) {
				runErr = errors.Join(runErr, errors.New("url file not removed on shutdown"))
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return url, stdout, stderr, stop
}

func get(t *testing.T, url string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	return send(t, http.MethodGet, url, "", hdr)
}

// post sends body with the token and the request id requestID.
func post(t *testing.T, url, body, requestID string) (int, string) {
	t.Helper()
	status, b, _ := send(t, http.MethodPost, url, body, map[string]string{"X-Auth-Token": token, "X-Request-Id": requestID})
	return status, b
}

func send(t *testing.T, method, url, body string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func TestRunEndToEnd(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	err := os.WriteFile(seed, []byte(`{
		"tasks": [
			{"task_id": "seeded-1", "jobs": [{"job_id": "j1", "status": 2, "execute_msg": "hello"}]},
			{"jobs": []}
		],
		"faults": [{"match": "seeded-1", "kind": "error", "status": 503, "retry_after": "1"}]
	}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	url, stdout, stderr, stop := startRun(t, []string{"-seed", seed, "-job-duration", "-1s", "-instances", "p1"})
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("url %q", url)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || lines[0] != "seeded-1" || len(lines[1]) != 32 {
		t.Errorf("stdout %q", stdout.String())
	}
	hdr := map[string]string{"X-Auth-Token": token, "X-Request-Id": "e2e-1"}
	status, body, h := get(t, url+"/v1/instances/tasks/seeded-1", hdr)
	if status != 503 || h.Get("Retry-After") != "1" {
		t.Errorf("seeded fault: %d %s", status, body)
	}
	status, body, _ = get(t, url+"/v1/instances/tasks/seeded-1", hdr)
	want := `{"error_code":"0","error_msg":"ok","data":{"jobs":[{"job_id":"j1","status":2,"error_code":null,"error_msg":null,"execute_msg":"hello"}]}}`
	if status != 200 || body != want {
		t.Errorf("seeded task: %d %s", status, body)
	}
	if status, _, _ := get(t, url+"/v1/instances/tasks/seeded-1", map[string]string{"X-Request-Id": "x"}); status != 401 {
		t.Errorf("no token: %d", status)
	}
	// Submitted jobs finish at once (-job-duration -1s) and unknown phones fail.
	_, submitted := post(t, url+"/v1/instances/async-command", `{"command":"echo hi","instance_ids":["p1","p2"]}`, "e2e-2")
	taskID := between(submitted, `"task_id":"`, `"`)
	_, body, _ = get(t, url+"/v1/instances/tasks/"+taskID, hdr)
	if !strings.Contains(body, `"status":2,"error_code":"","error_msg":"","execute_msg":"hi\n"`) || !strings.Contains(body, `"CPS0005"`) {
		t.Errorf("submitted task: %s", body)
	}
	// Admin API.
	res, err := http.Post(url+"/_emulator/reset", "", nil)
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("reset: %v %v", res, err)
	}
	res.Body.Close()
	if status, _, _ := get(t, url+"/v1/instances/tasks/seeded-1", hdr); status != 400 {
		t.Errorf("after reset: %d", status)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	log := stderr.String()
	for _, want := range []string{"koophone-emulator listening on " + url, "GET /v1/instances/tasks/seeded-1 -> 503 request_id=e2e-1 fault=error",
		"POST /v1/instances/async-command -> 200 request_id=e2e-2 fault=-", "koophone-emulator stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, token) {
		t.Error("token in log")
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return ""
}

func TestShutdownEndsDelayFaults(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	// A real-clock delay of an hour must not block shutdown.
	if err := os.WriteFile(seed, []byte(`{"faults":[{"kind":"delay","delay":"1h"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	cfg, err := parseFlags([]string{"-quiet", "-listen", "127.0.0.1:0", "-seed", seed}, env(map[string]string{"KOOPHONE_TOKEN": token}), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := start(cfg, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serveUntil(ctx) }()
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/v1/instances/tasks/x", nil)
		req.Header.Set("X-Auth-Token", token)
		req.Header.Set("X-Request-Id", "delayed")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	// The fault is taken just before the handler starts waiting.
	deadline := time.Now().Add(5 * time.Second)
	for len(s.emu.PendingFaults()) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never took the delay fault")
		}
		time.Sleep(time.Millisecond)
	}
	begin := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if err := <-errc; err == nil {
		t.Error("the delayed request got a response")
	}
	reqs := s.emu.Requests()
	if len(reqs) != 1 || reqs[0].Fault != "delay" || reqs[0].Status != 0 {
		t.Errorf("requests %+v", reqs)
	}
	if strings.Contains(stderr.String(), "GET /v1") {
		t.Errorf("-quiet still logged requests:\n%s", stderr.String())
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing seed", []string{"-seed", filepath.Join(dir, "nope.json")}, "seed"},
		{"bad seed JSON", []string{"-seed", write("bad.json", `{"tasks":[`)}, "not valid JSON"},
		{"seed typo", []string{"-seed", write("typo.json", `{"taks":[]}`)}, `unknown field "taks"`},
		{"seed invalid task", []string{"-seed", write("dup.json", `{"tasks":[{"task_id":"a"},{"task_id":"a"}]}`)}, "tasks[1]"},
		{"seed invalid fault", []string{"-seed", write("fault.json", `{"faults":[{"kind":"boom"}]}`)}, "faults[0]"},
		{"seed invalid rule", []string{"-seed", write("rule.json", `{"rules":[{"kind":"command","status":2},{"kind":"app_install","status":3},{"kind":"command","command":"(","status":-1}]}`)},
			"seed file " + filepath.Join(dir, "rule.json") + `: rules[2].command: invalid regular expression "(": missing closing )`},
		{"seed nested typo", []string{"-seed", write("nested.json", `{"tasks":[{"jobs":[{"stauts":2}]}]}`)},
			"seed file " + filepath.Join(dir, "nested.json") + `: tasks[0].jobs[0]: unknown field "stauts"`},
		{"seed invalid credentials", []string{"-seed", write("creds.json", `{"credentials":{"access_key":"a"}}`)}, "credentials.secret_key: required with access_key"},
		{"port in use", []string{"-listen", busy.Addr().String()}, "address already in use"},
		{"url file dir missing", []string{"-listen", "127.0.0.1:0", "-url-file", filepath.Join(dir, "no", "such", "url")}, "url file"},
		{"env file dir missing", []string{"-listen", "127.0.0.1:0", "-env-file", filepath.Join(dir, "no", "such", "env")}, "env file"},
		{"no credentials", []string{"-token", ""}, "no credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			getenv := env(map[string]string{"KOOPHONE_TOKEN": token})
			if c.name == "no credentials" {
				getenv = env(nil)
			}
			var stdout, stderr syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, append([]string{"-listen", "127.0.0.1:0"}, c.args...), getenv, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want containing %q", err, c.want)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, content := range []string{"one\n", "two\n"} {
		if err := writeFileAtomic(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Errorf("content %q", b)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", info.Mode())
	}
}

// -install-response reaches the emulator: the app-install answer comes in
// the shape asked for.
func TestRunInstallResponse(t *testing.T) {
	install := `{"object_name":"com.example.app","file_name":"app.apk","object_version":"1","object_size":"1",
		"biz_type":"apk","content_type":"obs","install_package_url":"https://b.obs.example.com/app.apk","instance_id_list":["p1"]}`
	for _, c := range []struct {
		args   []string
		prefix string // of the answer's data
	}{
		{nil, `{"error_code":"0","error_msg":"ok","data":{"task_id":"ZGCA`},
		{[]string{"-install-response", "flat"}, `{"error_code":"0","error_msg":"ok","data":{"task_id":"ZGCA`},
		{[]string{"-install-response", "nested"}, `{"error_code":"0","error_msg":"ok","data":{"data":{"task_id":"ZGCA`},
	} {
		t.Run(strings.Join(append([]string{"args"}, c.args...), " "), func(t *testing.T) {
			url, _, _, stop := startRun(t, append([]string{"-quiet"}, c.args...))
			status, b := post(t, url+"/v1/instances/app/install", install, "install-1")
			if status != 200 || !strings.HasPrefix(b, c.prefix) {
				t.Errorf("answer %d %s, want a prefix %s", status, b, c.prefix)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// -reset-response reaches the emulator: the reset answer has a task, or no
// data.
func TestRunResetResponse(t *testing.T) {
	for _, c := range []struct {
		args []string
		want *regexp.Regexp
	}{
		{nil, regexp.MustCompile(`^\{"error_code":"0","error_msg":"OK","data":\{"task_id":"RM_[0-9a-f]{32}","cmd_jobs":\[\{"instance_id":"p1","job_id":"[0-9a-f]{32}"\}\]\}\}$`)},
		{[]string{"-reset-response", "none"}, regexp.MustCompile(`^\{"error_code":"0","error_msg":"OK"\}$`)},
	} {
		t.Run(strings.Join(append([]string{"args"}, c.args...), " "), func(t *testing.T) {
			url, _, _, stop := startRun(t, append([]string{"-quiet"}, c.args...))
			status, b := post(t, url+"/v1/instances/batch-reset", `{"instance_ids":["p1"]}`, "reset-1")
			if status != 200 || !c.want.MatchString(b) {
				t.Errorf("answer %d %s, want %s", status, b, c.want)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
