package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// accToken is the emulator's token in acceptance tests. It is distinctive so
// that a test can search logs and state for it.
const accToken = "acc-TOKEN-7f3c9e21-do-not-leak"

// accJobDuration is how long the emulator's submitted jobs take in
// acceptance tests. These tests run on the wall clock: Terraform drives the
// provider over real sockets, and a testing/synctest bubble moves its fake
// clock only while everything in it is blocked on something inside it,
// which a socket is not. So they use short durations instead, and the
// provider's schedule (a first poll at once, then pauses from 1 s) sees a
// job of this length finish at its second poll.
const accJobDuration = 500 * time.Millisecond

// accEnv is one emulator served on loopback plus a provider wired to it.
type accEnv struct {
	t      *testing.T
	emu    *emulator.Emulator
	server *httptest.Server
}

func newAccEnv(t *testing.T) *accEnv {
	t.Helper()
	return startAccEnv(t, false)
}

// newAccEnvTLS serves the emulator over HTTPS, with httptest's self-signed
// certificate (valid for 127.0.0.1 and example.com).
func newAccEnvTLS(t *testing.T) *accEnv {
	t.Helper()
	return startAccEnv(t, true)
}

func startAccEnv(t *testing.T, useTLS bool) *accEnv {
	t.Helper()
	emu := emulator.New(emulator.Options{Token: accToken, JobDuration: accJobDuration})
	srv := httptest.NewUnstartedServer(emu)
	srv.Config.ConnState = emu.ConnState
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return &accEnv{t: t, emu: emu, server: srv}
}

// factories serve the provider in the test process.
func (e *accEnv) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"koophone": providerserver.NewProtocol6WithError(New("acctest")()),
	}
}

// providerBlock configures the provider for the emulator, with extra
// arguments appended.
func (e *accEnv) providerBlock(extra ...string) string {
	return fmt.Sprintf("provider \"koophone\" {\n  endpoint = %q\n  token    = %q\n  %s\n}\n",
		e.server.URL, accToken, strings.Join(extra, "\n  "))
}

// configureFromEnvironment points KOOPHONE_ENDPOINT and KOOPHONE_TOKEN at
// the emulator, for configurations with no provider block (or one that
// leaves them unset).
func (e *accEnv) configureFromEnvironment() {
	e.t.Setenv("KOOPHONE_ENDPOINT", e.server.URL)
	e.t.Setenv("KOOPHONE_TOKEN", accToken)
}

// addTask seeds a task and fails the test on error.
func (e *accEnv) addTask(spec emulator.TaskSpec) string {
	e.t.Helper()
	id, err := e.emu.AddTask(spec)
	if err != nil {
		e.t.Fatalf("AddTask: %v", err)
	}
	return id
}

// addFault programs a fault and fails the test on error.
func (e *accEnv) addFault(f emulator.Fault) {
	e.t.Helper()
	if err := e.emu.AddFault(f); err != nil {
		e.t.Fatalf("AddFault: %v", err)
	}
}

// apiRequests counts the API requests the emulator received for a path
// suffix ("" for all).
func (e *accEnv) apiRequests(pathSuffix string) int {
	n := 0
	for _, r := range e.emu.Requests() {
		if strings.HasSuffix(r.Path, pathSuffix) {
			n++
		}
	}
	return n
}

// checkNoRequests fails when any API request reached the emulator: used to
// prove that bad input is rejected before the provider calls the API.
func (e *accEnv) checkNoRequests() {
	e.t.Helper()
	if n := len(e.emu.Requests()); n != 0 {
		e.t.Errorf("%d API requests were sent; want none", n)
	}
}

func str(s string) *string { return &s }

// mountedUnder serves h below prefix only, as a path-prefixed reverse proxy
// would.
func mountedUnder(prefix string, h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
	return mux
}

// TestMain makes sure Terraform never phones home during the tests.
func TestMain(m *testing.M) {
	_ = os.Setenv("CHECKPOINT_DISABLE", "1")
	os.Exit(m.Run())
}

// errRE matches an error that contains each phrase, in order. Terraform
// wraps diagnostic text at about 80 columns, so a space in a phrase matches
// any run of white space, and the phrases are literal otherwise.
func errRE(phrases ...string) *regexp.Regexp {
	parts := make([]string, len(phrases))
	for i, p := range phrases {
		words := strings.Fields(p)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		parts[i] = strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}
