// Command koophone-emulator serves the fake KooPhone API of package
// internal/emulator over HTTP, for `make demo` and shell-driven tests.
//
// Usage:
//
//	koophone-emulator [-listen 127.0.0.1:8765] [-token T]
//	                  [-access-key AK -secret-key SK [-security-token ST]]
//	                  [-seed FILE] [-job-duration 5s] [-instances a,b,c]
//	                  [-install-response flat|nested]
//	                  [-url-file FILE] [-quiet] [-allow-remote]
//
// The token defaults to $KOOPHONE_TOKEN. The access key, secret key and
// security token (accepted AK/SK signatures, SDK-HMAC-SHA256) default to
// $KOOPHONE_ACCESS_KEY, $KOOPHONE_SECRET_KEY and $KOOPHONE_SECURITY_TOKEN,
// else to their HW_ counterparts, as in the provider. A token or an access
// key is needed; with both, either kind is accepted. The seed file's phones
// are listed by GET /v1/instances/batch-query, and then only their ids (and
// those of -instances) exist for submitted jobs. Seeded task ids are
// printed to stdout, one per line; logs go to stderr. The admin API (unauthenticated)
// lives under /_emulator/, which is why a non-loopback listen address needs
// -allow-remote. -install-response picks the shape of the app-install answer:
// flat data {task_id, cmd_jobs} (the default, as the API answers since Huawei
// SDK 3.1.207) or nested data {data: {task_id, cmd_jobs}} (earlier versions).
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
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a problem with the command line: exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// exitCode reports err on stderr and maps it to the process exit status:
// 0 success or -h, 2 usage errors, 1 anything else.
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
	listen      string
	token       string
	credentials akskFlags
	seed        string
	jobDuration time.Duration
	instances   []string
	urlFile     string
	quiet       bool
	allowRemote bool
	// installResponse is emulator.InstallResponseFlat or
	// emulator.InstallResponseNested.
	installResponse string
}

// parseFlags parses the command line; getenv supplies KOOPHONE_TOKEN.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	var instances string
	fs := flag.NewFlagSet("koophone-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8765", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&c.token, "token", "", "accepted X-Auth-Token value (default $KOOPHONE_TOKEN)")
	c.credentials.register(fs)
	fs.StringVar(&c.seed, "seed", "", `JSON file {"phones":[Phone...],"tasks":[TaskSpec...],"faults":[Fault...]} to load at start`)
	fs.DurationVar(&c.jobDuration, "job-duration", 5*time.Second, "how long jobs of submitted tasks take to finish; app installs report 0 (not started) for the first half (negative: finish at once)")
	fs.StringVar(&instances, "instances", "", "comma-separated known phone ids, besides the seed's phones (default: every id is known, unless the seed has phones)")
	fs.StringVar(&c.installResponse, "install-response", emulator.InstallResponseFlat,
		`shape of the app-install answer: "flat" data {task_id, cmd_jobs} (SDK >= 3.1.207) or "nested" data {data: {...}} (earlier)`)
	fs.StringVar(&c.urlFile, "url-file", "", "once listening, atomically write the base URL to this file")
	fs.BoolVar(&c.quiet, "quiet", false, "do not log each request")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback listen address (the admin API has no auth)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	}
	// Checked here, as a usage error, because emulator.New panics on it.
	if c.installResponse != emulator.InstallResponseFlat && c.installResponse != emulator.InstallResponseNested {
		return c, usageError{fmt.Sprintf("-install-response %q: want %q or %q", c.installResponse, emulator.InstallResponseFlat, emulator.InstallResponseNested)}
	}
	if c.token == "" {
		c.token = getenv("KOOPHONE_TOKEN")
	}
	if err := c.credentials.resolve(getenv, c.token != ""); err != nil {
		return c, err
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
	urlFile    string
	stderr     io.Writer
}

// start builds the emulator, applies the seed file, listens, starts
// serving and publishes the URL; serveUntil then waits and shuts down.
func start(cfg config, stdout, stderr io.Writer) (*server, error) {
	opts := emulator.Options{Token: cfg.token, JobDuration: cfg.jobDuration, Instances: cfg.instances, InstallResponse: cfg.installResponse}
	cfg.credentials.apply(&opts)
	if !cfg.quiet {
		opts.Logf = log.New(stderr, "", log.LstdFlags|log.Lmicroseconds).Printf
	}
	emu := emulator.New(opts)
	if cfg.seed != "" {
		data, err := os.ReadFile(cfg.seed)
		if err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		seed, err := emulator.ParseSeed(data)
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", cfg.seed, err)
		}
		ids, err := emu.ApplySeed(seed)
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", cfg.seed, err)
		}
		for _, id := range ids {
			fmt.Fprintln(stdout, id)
		}
		if n := len(seed.Phones); n > 0 {
			fmt.Fprintf(stderr, "koophone-emulator lists %d phones from the seed; jobs for other phone ids fail with CPS0005\n", n)
		}
	}
	if cfg.urlFile != "" {
		// A stale file from an earlier run must not look like readiness.
		if err := os.Remove(cfg.urlFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("url file: %w", err)
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
			Handler:           emu,
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
	fmt.Fprintf(stderr, "koophone-emulator listening on %s\n", s.url)
	fmt.Fprintf(stderr, "koophone-emulator accepts %s\n", describeAuth(cfg.token != "", cfg.credentials))
	if cfg.urlFile != "" {
		if err := writeFileAtomic(cfg.urlFile, s.url+"\n"); err != nil {
			cancelBase()
			_ = s.srv.Close()
			return nil, fmt.Errorf("url file: %w", err)
		}
		s.urlFile = cfg.urlFile
	}
	return s, nil
}

// serveUntil serves until ctx ends (or the server fails), then shuts down:
// pending delay faults end at once, other requests may finish.
func (s *server) serveUntil(ctx context.Context) error {
	defer s.cancelBase()
	if s.urlFile != "" {
		defer os.Remove(s.urlFile)
	}
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
func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := tmp.WriteString(content)
	merr := tmp.Chmod(0o644) // readable by whatever script waits for it
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
