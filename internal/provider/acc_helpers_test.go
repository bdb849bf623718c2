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
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

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
	return newAccEnvWith(t, emulator.Options{Token: accToken})
}

// newAccEnvWith is newAccEnv with emulator options of the test's choosing
// (the job duration is set here when it is zero), its handler optionally
// wrapped.
func newAccEnvWith(t *testing.T, opts emulator.Options, wrap ...func(http.Handler) http.Handler) *accEnv {
	t.Helper()
	e := unstartedAccEnv(t, opts, wrap...)
	e.server.Start()
	return e
}

// newAccEnvTLS serves the emulator over HTTPS, with httptest's self-signed
// certificate (valid for 127.0.0.1 and example.com).
func newAccEnvTLS(t *testing.T) *accEnv {
	t.Helper()
	e := unstartedAccEnv(t, emulator.Options{Token: accToken})
	e.server.StartTLS()
	return e
}

func unstartedAccEnv(t *testing.T, opts emulator.Options, wrap ...func(http.Handler) http.Handler) *accEnv {
	if opts.JobDuration == 0 {
		opts.JobDuration = accJobDuration
	}
	emu := emulator.New(opts)
	var h http.Handler = emu
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewUnstartedServer(h)
	t.Cleanup(srv.Close)
	return &accEnv{t: t, emu: emu, server: srv}
}

// providerFactories serve the provider in the test process.
func providerFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"koophone": providerserver.NewProtocol6WithError(New("acctest")()),
	}
}

// parallelTest runs steps through the Terraform CLI against the emulator,
// in parallel with other tests.
func (e *accEnv) parallelTest(steps ...resource.TestStep) {
	e.t.Helper()
	resource.ParallelTest(e.t, resource.TestCase{ProtoV6ProviderFactories: providerFactories(), Steps: steps})
}

// serialTest is parallelTest for tests that set environment variables,
// which cannot run in parallel.
func (e *accEnv) serialTest(steps ...resource.TestStep) {
	e.t.Helper()
	resource.Test(e.t, resource.TestCase{ProtoV6ProviderFactories: providerFactories(), Steps: steps})
}

// rejectedAtPlan is a step whose plan of config must fail with an error
// that contains the phrases of want, in order. A plan that succeeds fails
// the step: it is allowed to be non-empty, so that it is no error whose
// text (the plan) could match want by chance.
func rejectedAtPlan(config string, want ...string) resource.TestStep {
	return resource.TestStep{Config: config, ExpectError: errRE(want...), PlanOnly: true, ExpectNonEmptyPlan: true}
}

// providerBlock configures the provider for the emulator, with extra
// arguments appended.
func (e *accEnv) providerBlock(extra ...string) string {
	return tokenProvider(e.server.URL, extra...)
}

// tokenProvider is a provider block for endpoint with the emulator's token,
// and extra arguments appended.
func tokenProvider(endpoint string, extra ...string) string {
	return fmt.Sprintf("provider \"koophone\" {\n  endpoint = %q\n  token    = %q\n  %s\n}\n",
		endpoint, accToken, strings.Join(extra, "\n  "))
}

const taskAddr = "data.koophone_instance_task.t"

// taskBlock is the koophone_instance_task data source under test, reading
// taskID, with more arguments.
func taskBlock(taskID string, args ...string) string {
	return fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n  task_id = %q\n  %s\n}\n", taskID, strings.Join(args, "\n  "))
}

// expectAt returns the state checks of one attribute of the resource or
// data source at addr.
func expectAt(addr string) func(tfjsonpath.Path, knownvalue.Check) statecheck.StateCheck {
	return func(path tfjsonpath.Path, v knownvalue.Check) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(addr, path, v)
	}
}

// expectAttr checks an attribute of the data source under test.
var expectAttr = expectAt(taskAddr)

// unknownAtPlan checks that the plan leaves attrs of addr unknown, which
// defers the read to apply.
func unknownAtPlan(addr string, attrs ...string) resource.ConfigPlanChecks {
	checks := make([]plancheck.PlanCheck, len(attrs))
	for i, attr := range attrs {
		checks[i] = plancheck.ExpectUnknownValue(addr, at(attr))
	}
	return resource.ConfigPlanChecks{PreApply: checks}
}

// expectState checks the state of the data source under test and as many of
// its counts as given, in this order: job_count, pending_count,
// running_count, successful_count, failed_count, unknown_count.
func expectState(state string, counts ...int64) []statecheck.StateCheck {
	return expectStateOf(taskAddr, state, counts...)
}

// expectStateOf is expectState for the resource or data source at addr:
// they all count their jobs (or phones) alike.
func expectStateOf(addr, state string, counts ...int64) []statecheck.StateCheck {
	expect := expectAt(addr)
	checks := []statecheck.StateCheck{expect(at("state"), knownvalue.StringExact(state))}
	for i, name := range []string{"job_count", "pending_count", "running_count", "successful_count", "failed_count", "unknown_count"} {
		if i < len(counts) {
			checks = append(checks, expect(at(name), knownvalue.Int64Exact(counts[i])))
		}
	}
	return checks
}

func at(name string) tfjsonpath.Path { return tfjsonpath.New(name) }

func job(i int, name string) tfjsonpath.Path {
	return tfjsonpath.New("jobs").AtSliceIndex(i).AtMapKey(name)
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

// addSucceededTask seeds a task of one job that has succeeded.
func (e *accEnv) addSucceededTask() string {
	e.t.Helper()
	return e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
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

// refreshTainted is the step after an apply that failed and left the
// resource tainted: it refreshes state, whose plan then replaces the
// resource, and checks what state kept.
func refreshTainted(checks ...resource.TestCheckFunc) resource.TestStep {
	return resource.TestStep{RefreshState: true, ExpectNonEmptyPlan: true, Check: resource.ComposeTestCheckFunc(checks...)}
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
