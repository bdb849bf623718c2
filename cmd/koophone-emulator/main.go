// Command koophone-emulator serves the fake KooPhone API of package
// internal/emulator over HTTP: for `make demo`, shell-driven tests, and
// users who test their Terraform modules offline (`terraform test`). Its
// reference is docs/guides/emulator.md.
//
// Usage:
//
//	koophone-emulator [-listen 127.0.0.1:8765] [-token T]
//	                  [-access-key AK -secret-key SK [-security-token ST]]
//	                  [-seed FILE] [-job-duration 5s] [-instances a,b,c]
//	                  [-install-response flat|nested] [-reset-response task|none] [-latency 50ms]
//	                  [-url-file FILE] [-env-file FILE] [-quiet] [-allow-remote]
//	koophone-emulator -version
//
// Credentials (a token, an access key, or both must be accepted): the token
// is -token, else $KOOPHONE_TOKEN, else the seed file's credentials.token.
// The access key, secret key and security token (accepted AK/SK signatures,
// SDK-HMAC-SHA256) come, all three from one place, from the flags if any is
// given, else from $KOOPHONE_ACCESS_KEY, $KOOPHONE_SECRET_KEY and
// $KOOPHONE_SECURITY_TOKEN if any is set, else from their HW_ counterparts,
// else from the seed file's credentials. With a token and an access key,
// either kind is accepted.
//
// The seed file (emulator.Seed; reference: examples/emulator/seed.json)
// gives credentials, the phones listed by GET /v1/instances/batch-query,
// with the apps of each (GET /v1/instances/{instance_id}/app-list)
// (then only their ids, and those of -instances, exist for submitted jobs),
// rules that decide how submitted jobs end, and tasks and faults to start
// with. It is checked in full before the emulator listens; an error names
// the file and the field. Seeded task ids are printed to stdout, one per
// line; logs go to stderr.
//
// Once listening, it writes its base URL to -url-file and, to -env-file,
// KOOPHONE_ENDPOINT and the credentials the provider needs, as NAME=value
// lines that a shell can source (set -a; . FILE) and that can be appended
// to $GITHUB_ENV. It removes both files when it stops. SIGINT or SIGTERM
// stops it cleanly (exit status 0); a second signal during the shutdown
// kills it. Exit status 1 is any other failure, 2 a usage error.
//
// The admin API (unauthenticated) lives under /_emulator/, which is why a
// non-loopback listen address needs -allow-remote. -install-response picks
// the shape of the app-install answer: flat data {task_id, cmd_jobs} (the
// default, as the API answers since Huawei SDK 3.1.207) or nested data
// {data: {task_id, cmd_jobs}} (earlier versions). -reset-response picks the
// answer to a phone reset (POST /v1/instances/batch-reset): a task, data
// {task_id: "RM_...", cmd_jobs} (the default, as the API answers since SDK
// 3.1.198), or none, no data (earlier versions); the phones reset on the
// same schedule either way. Reboots and status queries (POST
// /v1/instances/reboot and batch-query-status) need no flag: seed phones
// with "running_status": 2 to reboot them.
//
// -latency (else the seed file's "latency") holds each API request that
// long before it is handled, as the round trip to a distant API would:
// timing a configuration against it then shows what concurrency saves.
// Requests to the admin API are not held.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one has its default effect
		// (the program ends at once), even during the shutdown.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a problem with the command line: exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// exitCode reports err on stderr and maps it to the process exit status:
// 0 success, -h or -version, 2 usage errors, 1 anything else.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "koophone-emulator:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "koophone-emulator:", err)
		return 1
	}
}

type config struct {
	listen string
	token  string
	// tokenSource says where the token comes from, for the start-up
	// line: "-token", "KOOPHONE_TOKEN" or "the seed file".
	tokenSource string
	credentials akskFlags
	seed        string
	jobDuration time.Duration
	instances   []string
	urlFile     string
	envFile     string
	quiet       bool
	allowRemote bool
	showVersion bool
	// installResponse is emulator.InstallResponseFlat or
	// emulator.InstallResponseNested.
	installResponse string
	// resetResponse is emulator.ResetResponseTask or
	// emulator.ResetResponseNone.
	resetResponse string
	// latency holds each API request; latencySet says -latency was given,
	// which then wins over the seed file's latency.
	latency    time.Duration
	latencySet bool
}

// parseFlags parses the command line; getenv supplies the credentials'
// environment variables. Credentials may still be missing: the seed file
// can give them (see useSeedCredentials).
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	var instances string
	fs := flag.NewFlagSet("koophone-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8765", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&c.token, "token", "", "accepted X-Auth-Token value (default $KOOPHONE_TOKEN, then the seed file's credentials.token)")
	c.credentials.register(fs)
	fs.StringVar(&c.seed, "seed", "", `JSON file {"credentials":{...},"phones":[...],"tasks":[...],"rules":[...],"faults":[...],"latency":"50ms"} to load at start (reference: examples/emulator/seed.json)`)
	fs.DurationVar(&c.jobDuration, "job-duration", 5*time.Second, "how long jobs of submitted tasks take to finish, unless a rule says otherwise; app installs report 0 (not started) for the first half (negative: finish at once)")
	fs.StringVar(&instances, "instances", "", "comma-separated known phone ids, besides the seed's phones (default: every id is known, unless the seed has phones)")
	fs.StringVar(&c.installResponse, "install-response", emulator.InstallResponseFlat,
		`shape of the app-install answer: "flat" data {task_id, cmd_jobs} (SDK >= 3.1.207) or "nested" data {data: {...}} (earlier)`)
	fs.StringVar(&c.resetResponse, "reset-response", emulator.ResetResponseTask,
		`answer to a phone reset: "task" data {task_id, cmd_jobs} (SDK >= 3.1.198) or "none" without data (earlier); the phones reset either way`)
	fs.StringVar(&c.urlFile, "url-file", "", "once listening, atomically write the base URL to this file; removed on exit")
	fs.StringVar(&c.envFile, "env-file", "", "once listening, atomically write KOOPHONE_ENDPOINT=... and the credentials (KOOPHONE_TOKEN=..., else KOOPHONE_ACCESS_KEY=... and KOOPHONE_SECRET_KEY=...) to this file, for a shell or $GITHUB_ENV; removed on exit")
	fs.DurationVar(&c.latency, "latency", 0, `hold each API request this long before handling it, as a distant API's round trip would (not the /_emulator/ admin API); default: the seed file's "latency", else none`)
	fs.BoolVar(&c.quiet, "quiet", false, "do not log each request")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback listen address (the admin API has no auth)")
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	}
	fs.Visit(func(f *flag.Flag) { c.latencySet = c.latencySet || f.Name == "latency" })
	if c.latency < 0 {
		return c, usageError{fmt.Sprintf("-latency %v: must not be negative", c.latency)}
	}
	if c.showVersion {
		return c, nil
	}
	// Checked here, as a usage error, because emulator.New panics on it.
	if c.installResponse != emulator.InstallResponseFlat && c.installResponse != emulator.InstallResponseNested {
		return c, usageError{fmt.Sprintf("-install-response %q: want %q or %q", c.installResponse, emulator.InstallResponseFlat, emulator.InstallResponseNested)}
	}
	if c.resetResponse != emulator.ResetResponseTask && c.resetResponse != emulator.ResetResponseNone {
		return c, usageError{fmt.Sprintf("-reset-response %q: want %q or %q", c.resetResponse, emulator.ResetResponseTask, emulator.ResetResponseNone)}
	}
	switch {
	case c.token != "":
		c.tokenSource = "-token"
	case getenv("KOOPHONE_TOKEN") != "":
		c.token, c.tokenSource = getenv("KOOPHONE_TOKEN"), "KOOPHONE_TOKEN"
	}
	if err := c.credentials.resolve(getenv); err != nil {
		return c, err
	}
	if c.envFile != "" && c.envFile == c.urlFile {
		return c, usageError{"-env-file and -url-file must be different files"}
	}
	for _, id := range strings.Split(instances, ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.instances = append(c.instances, id)
		}
	}
	if !c.allowRemote {
		if err := checkLoopback(c.listen); err != nil {
			return c, err
		}
	}
	return c, nil
}

// useSeedCredentials completes the credentials with the seed file's: its
// token when neither -token nor KOOPHONE_TOKEN gives one, its access key
// when neither the flags nor the environment give one. Then at least one
// credential must be accepted.
func (c *config) useSeedCredentials(seed *emulator.Credentials) error {
	if c.token == "" && seed != nil && seed.Token != "" {
		c.token, c.tokenSource = seed.Token, "the seed file"
	}
	c.credentials.useSeed(seed)
	if c.token == "" && c.credentials.accessKey == "" {
		return usageError{"no credentials: pass -token (or set KOOPHONE_TOKEN), or -access-key and -secret-key " +
			"(or set KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY, or HW_ACCESS_KEY and HW_SECRET_KEY), " +
			`or give them in the seed file's "credentials"`}
	}
	return nil
}

// checkLoopback refuses listen addresses reachable from other machines,
// because the admin API is unauthenticated.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError{fmt.Sprintf("-listen %q: %v", addr, err)}
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	shown := host
	if shown == "" {
		shown = "all interfaces"
	}
	return usageError{fmt.Sprintf("-listen %q would listen on %s, not loopback; the admin API has no authentication, so pass -allow-remote if you really mean it", addr, shown)}
}

// run starts the emulator as configured by args and serves until ctx ends,
// then shuts down cleanly. Seeded task ids go to stdout, logs to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.showVersion {
		fmt.Fprintln(stdout, versionString())
		return nil
	}
	s, err := start(cfg, stdout, stderr)
	if err != nil {
		return err
	}
	return s.serveUntil(ctx)
}

// server is a started emulator program: listening, seeded, URL published.
type server struct {
	emu        *emulator.Emulator
	url        string
	srv        *http.Server
	served     chan error
	cancelBase context.CancelFunc
	// files are the -url-file and -env-file written, removed on exit.
	files  []string
	stderr io.Writer
}

// loadSeed reads and parses the -seed file; no file is an empty seed.
func loadSeed(file string) (emulator.Seed, error) {
	if file == "" {
		return emulator.Seed{}, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return emulator.Seed{}, fmt.Errorf("seed file: %w", err)
	}
	seed, err := emulator.ParseSeed(data)
	if err != nil {
		return emulator.Seed{}, fmt.Errorf("seed file %s: %w", file, err)
	}
	return seed, nil
}

// start builds the emulator, applies the seed file, listens, starts
// serving and publishes the URL; serveUntil then waits and shuts down.
// Everything that can be checked is checked before it listens.
func start(cfg config, stdout, stderr io.Writer) (*server, error) {
	seed, err := loadSeed(cfg.seed)
	if err != nil {
		return nil, err
	}
	if err := cfg.useSeedCredentials(seed.Credentials); err != nil {
		return nil, err
	}
	// Checked now, with the credentials known, to fail before listening;
	// the endpoint is added once it is known.
	env, err := envFileLines(cfg.token, cfg.credentials)
	if err != nil && cfg.envFile != "" {
		return nil, err
	}
	opts := emulator.Options{Token: cfg.token, JobDuration: cfg.jobDuration, Instances: cfg.instances, InstallResponse: cfg.installResponse,
		ResetResponse: cfg.resetResponse}
	cfg.credentials.apply(&opts)
	if !cfg.quiet {
		opts.Logf = log.New(stderr, "", log.LstdFlags|log.Lmicroseconds).Printf
	}
	emu := emulator.New(opts)
	ids, err := emu.ApplySeed(seed)
	if err != nil {
		return nil, fmt.Errorf("seed file %s: %w", cfg.seed, err)
	}
	for _, id := range ids {
		fmt.Fprintln(stdout, id)
	}
	if n := len(emu.Phones()); n > 0 { // the seed's ranges expanded
		fmt.Fprintf(stderr, "koophone-emulator lists %d phones from the seed; jobs for other phone ids fail with CPS0005 unless a rule decides\n", n)
	}
	latency := time.Duration(seed.Latency)
	if cfg.latencySet {
		latency = cfg.latency
	}
	if latency > 0 {
		fmt.Fprintf(stderr, "koophone-emulator holds each API request %v before handling it\n", latency)
	}
	if n := len(seed.Rules); n > 0 {
		fmt.Fprintf(stderr, "koophone-emulator decides the jobs of submitted work with the seed's rules (%d)\n", n)
	}
	// Stale files from an earlier run must not look like readiness.
	for _, f := range []string{cfg.urlFile, cfg.envFile} {
		if err := removeIfExists(f); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return nil, err
	}
	baseCtx, cancelBase := context.WithCancel(context.Background())
	s := &server{
		emu: emu,
		url: "http://" + ln.Addr().String(),
		srv: &http.Server{
			Handler:           emulator.WithAPILatency(emu, latency),
			ConnState:         emu.ConnState,
			ReadHeaderTimeout: 10 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return baseCtx },
			ErrorLog:          log.New(stderr, "http: ", log.LstdFlags),
		},
		served:     make(chan error, 1),
		cancelBase: cancelBase,
		stderr:     stderr,
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	// The env file first, then the url file, then the log line: whichever
	// a reader waits for, what comes before it is already there.
	for _, f := range []struct {
		name, path, content string
		mode                os.FileMode
	}{
		// 0600: it holds the credentials.
		{"env file", cfg.envFile, "KOOPHONE_ENDPOINT=" + s.url + "\n" + env, 0o600},
		{"url file", cfg.urlFile, s.url + "\n", 0o644},
	} {
		if f.path == "" {
			continue
		}
		if err := writeFileAtomic(f.path, f.content, f.mode); err != nil {
			s.close()
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		s.files = append(s.files, f.path)
	}
	fmt.Fprintf(stderr, "koophone-emulator listening on %s\n", s.url)
	fmt.Fprintf(stderr, "koophone-emulator accepts %s\n", describeAuth(cfg.tokenSource, cfg.credentials))
	return s, nil
}

// close stops serving at once and removes the files written.
func (s *server) close() {
	s.cancelBase()
	_ = s.srv.Close()
	for _, f := range s.files {
		_ = os.Remove(f)
	}
}

func removeIfExists(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// envFileLines are the credential lines of -env-file: KOOPHONE_TOKEN when a
// token is accepted, else KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY (and
// KOOPHONE_SECURITY_TOKEN), never both kinds, which the provider refuses.
// The lines are NAME=value, unquoted, as $GITHUB_ENV wants them, so a
// value a shell would need quoted is refused.
func envFileLines(token string, a akskFlags) (string, error) {
	vars := [][2]string{{"KOOPHONE_TOKEN", token}}
	if token == "" {
		vars = [][2]string{{"KOOPHONE_ACCESS_KEY", a.accessKey}, {"KOOPHONE_SECRET_KEY", a.secretKey}, {"KOOPHONE_SECURITY_TOKEN", a.securityToken}}
	}
	var b strings.Builder
	for _, v := range vars {
		if v[1] == "" {
			continue
		}
		if i := strings.IndexFunc(v[1], needsQuoting); i >= 0 {
			// The byte offset only: the value is a secret.
			return "", usageError{fmt.Sprintf("-env-file: the value of %s has a character at byte %d that a shell would need quoted; "+
				"the env file holds NAME=value lines without quotes, so use credentials of letters, digits and _ . + / = : @ %% , -", v[0], i)}
		}
		fmt.Fprintf(&b, "%s=%s\n", v[0], v[1])
	}
	return b.String(), nil
}

// needsQuoting reports whether r is not safe unquoted in the value of a
// shell assignment.
func needsQuoting(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("_.+/=:@%,-", r)
}

// serveUntil serves until ctx ends (or the server fails), then shuts down:
// pending delay faults end at once, other requests may finish (for 5s at
// most). The url and env files are removed either way.
func (s *server) serveUntil(ctx context.Context) error {
	defer s.cancelBase()
	defer func() {
		for _, f := range s.files {
			_ = os.Remove(f)
		}
	}()
	select {
	case err := <-s.served:
		return err
	case <-ctx.Done():
	}
	s.cancelBase()
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(s.stderr, "koophone-emulator stopped")
	return nil
}

// writeFileAtomic writes content via a temp file in the same directory and
// a rename, so a reader never sees a partial file.
func writeFileAtomic(path, content string, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := tmp.WriteString(content)
	merr := tmp.Chmod(mode)
	cerr := tmp.Close()
	if err := errors.Join(werr, merr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}
