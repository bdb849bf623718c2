package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// Section 9: koophone_instance_apps on a fleet, the read behind a
// post-rollout gate.

const (
	appsPhones   = 1000
	appsPerPhone = 10
	appsLatency  = 50 * time.Millisecond
	// appsSlack is how far above what the client's requests in flight
	// allow the read may go.
	appsSlack = 2.0
	// appsMaxPeakRSS is the target for the provider's peak memory.
	appsMaxPeakRSS = 200 << 20
	// appsPackage is on every phone.
	appsPackage = "com.example.app05"
	// appsFailingPhone is the phone whose read fails in the second run:
	// one in the middle of the sorted ids, so that phones are read before
	// it and would be after it.
	appsFailingPhone = "phone-0500"
)

// appsRounds is how many round trips one after the other the client's
// limit of requests in flight allows for one page per phone.
func appsRounds() int {
	return (appsPhones + koophone.DefaultMaxConcurrentRequests - 1) / koophone.DefaultMaxConcurrentRequests
}

// appsBound is what the client's requests in flight allow: appsRounds
// round trips of appsLatency (the default has no rate_limit to add).
func appsBound() time.Duration { return time.Duration(appsRounds()) * appsLatency }

func appsTarget() time.Duration { return time.Duration(appsSlack * float64(appsBound())) }

type appsResult struct {
	// The read that succeeds.
	Plan     runResult
	Read     time.Duration // from the first app-list request sent to the last answer
	Requests int           // app-list requests
	Others   int           // any other request
	Pages    int           // pages there are: one per phone
	// The read with appsFailingPhone failing.
	FailPlan      runResult
	FailNamed     bool // the error names the phone and the code
	FailRequests  int  // app-list requests that arrived
	BeforeFail    int  // of them, before the failing answer was written
	AfterFail     int  // of them, after: requests started after the failure
	PhonesNotRead int  // phones no request was sent for
}

// appsRecorder records when app-list requests arrive, before the latency
// each is given, and answers the failing phone at once. From the moment
// the failing request arrives, every other answer is held, after its
// latency, until the provider gives up on it (or appsHold passes): no
// request slot frees but the failing one's, so a request that arrives
// after the failing answer was written was started after the provider
// had seen the failure, not in the moments before its answer reached it.
type appsRecorder struct {
	failing string // path of the failing phone's app list; "" for none
	mu      sync.Mutex
	arrived []time.Time
	paths   map[string]bool
	done    time.Time     // when the last answer was written
	failed  time.Time     // when the failing answer was written
	hold    chan struct{} // closed when the failing request arrives
}

// appsHold bounds how long an answer is held once the failing request has
// arrived; a provider that did not cancel its requests in flight would
// then see them answered, and start more.
const appsHold = 5 * time.Second

func (r *appsRecorder) wrap(emu *emulator.Emulator) http.Handler {
	slow := emulator.WithLatency(emu, appsLatency)
	r.hold = make(chan struct{})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		isList := strings.HasSuffix(req.URL.Path, "/app-list")
		if isList {
			r.mu.Lock()
			r.arrived = append(r.arrived, time.Now())
			r.paths[req.URL.Path] = true
			r.mu.Unlock()
		}
		switch {
		case r.failing != "" && req.URL.Path == r.failing:
			close(r.hold)
			emu.ServeHTTP(w, req)
			r.mu.Lock()
			r.failed = time.Now()
			r.mu.Unlock()
			return
		case r.failing != "" && isList:
			select {
			case <-time.After(appsLatency):
			case <-req.Context().Done():
				return
			}
			select {
			case <-r.hold:
				select {
				case <-req.Context().Done():
					return
				case <-time.After(appsHold):
				}
			default:
			}
			emu.ServeHTTP(w, req)
		default:
			slow.ServeHTTP(w, req)
		}
		if isList {
			r.mu.Lock()
			r.done = time.Now()
			r.mu.Unlock()
		}
	})
}

func appsConfigFile() string {
	return requiredProviders + fmt.Sprintf(`
data "koophone_instance_apps" "fleet" {
  instance_ids = jsondecode(file("${path.module}/ids.json"))
  package_name = %q
}

output "phones" {
  value = data.koophone_instance_apps.fleet.instance_count
}

output "missing" {
  value = length(data.koophone_instance_apps.fleet.missing_instance_ids)
}
`, appsPackage)
}

func appsFleet() ([]emulator.Phone, []string) {
	apps := make([]emulator.App, appsPerPhone)
	for i := range apps {
		apps[i] = emulator.App{AppPkg: fmt.Sprintf("com.example.app%02d", i), AppName: fmt.Sprintf("App %d", i), AppVersion: "1.0." + fmt.Sprint(i)}
	}
	phones := make([]emulator.Phone, appsPhones)
	ids := make([]string, appsPhones)
	for i := range phones {
		ids[i] = fmt.Sprintf("phone-%04d", i)
		phones[i] = emulator.Phone{InstanceID: ids[i], Apps: apps}
	}
	return phones, ids
}

// benchApps plans koophone_instance_apps on 1,000 phones, once as it
// succeeds and once with one phone failing.
func benchApps(ctx context.Context, tfr *tfRunner, work string) (*appsResult, error) {
	phones, ids := appsFleet()
	dir, err := workspace(work, "apps", map[string]string{"main.tf": appsConfigFile(), "ids.json": jsonIDs(ids)})
	if err != nil {
		return nil, err
	}
	res := &appsResult{Pages: appsPhones}

	rec := &appsRecorder{paths: map[string]bool{}}
	srv := serveEmulator(emulator.New(emulator.Options{Token: benchToken, Phones: phones}), 0, rec.wrap)
	res.Plan, err = tfr.plan(ctx, dir, srv.server.URL)
	srv.close()
	if err != nil {
		return nil, err
	}
	if !regexp.MustCompile(fmt.Sprintf(`phones\s+=\s+%d\b`, appsPhones)).MatchString(res.Plan.Output) ||
		!regexp.MustCompile(`missing\s+=\s+0\b`).MatchString(res.Plan.Output) {
		return nil, fmt.Errorf("the plan did not read %d phones with %s on each:\n%s", appsPhones, appsPackage, tail(res.Plan.Output, 30))
	}
	for _, r := range srv.emu.Requests() {
		if !strings.HasSuffix(r.Path, "/app-list") {
			res.Others++
		}
	}
	res.Requests = len(rec.arrived)
	res.Read = rec.done.Sub(rec.arrived[0])
	logf("  read of %d phones: %v (target %v), plan %v, %d app-list requests, provider peak RSS %.0f MiB",
		appsPhones, res.Read.Round(time.Millisecond), appsTarget(), res.Plan.Wall.Round(time.Millisecond), res.Requests, mib(res.Plan.ProviderPeakRSS))

	fail := &appsRecorder{failing: "/v1/instances/" + appsFailingPhone + "/app-list", paths: map[string]bool{}}
	emu := emulator.New(emulator.Options{Token: benchToken, Phones: phones})
	if err := emu.AddFault(emulator.Fault{Match: fail.failing, Kind: emulator.FaultError, Status: http.StatusOK,
		Code: "KOOPHONE.API.1004", Message: "Service not subscribed."}); err != nil {
		return nil, err
	}
	srv = serveEmulator(emu, 0, fail.wrap)
	res.FailPlan, err = tfr.plan(ctx, dir, srv.server.URL)
	srv.close()
	if err == nil {
		return nil, fmt.Errorf("the plan with %s failing succeeded:\n%s", appsFailingPhone, tail(res.FailPlan.Output, 30))
	}
	flat := strings.Join(strings.Fields(res.FailPlan.Output), " ")
	res.FailNamed = strings.Contains(flat, `phone "`+appsFailingPhone+`"`) && strings.Contains(flat, "KOOPHONE.API.1004") &&
		strings.Contains(flat, "request id")
	if fail.failed.IsZero() {
		return nil, fmt.Errorf("%s was never read:\n%s", appsFailingPhone, tail(res.FailPlan.Output, 30))
	}
	res.FailRequests = len(fail.arrived)
	for _, at := range fail.arrived {
		if at.After(fail.failed) {
			res.AfterFail++
		} else {
			res.BeforeFail++
		}
	}
	res.PhonesNotRead = appsPhones - len(fail.paths)
	logf("  with %s failing: %d app-list requests, %d after the failing answer, %d phones not read, error names the phone: %v",
		appsFailingPhone, res.FailRequests, res.AfterFail, res.PhonesNotRead, res.FailNamed)
	return res, nil
}

func (r *report) appsSection(w writer, a *appsResult) {
	w("\n## 9. App gates\n\n")
	w("One `terraform plan` of one `koophone_instance_apps` on %d phones (`instance_ids` from a file) with "+
		"`package_name = %q`, against the emulator with %d apps on each phone (one page of the API's 200) and %v of latency "+
		"per request, at the provider's defaults: no `rate_limit`, and the client's %d requests in flight. One page per "+
		"phone is %d requests; %d at a time, they are %d round trips one after the other: %d x %v = %s is what the "+
		"requests in flight allow, and the target allows %.0fx that, %s. The read is timed from the first app-list "+
		"request's arrival to the last answer; the plan from the start of Terraform.\n\n",
		appsPhones, appsPackage, appsPerPhone, appsLatency, koophone.DefaultMaxConcurrentRequests,
		appsPhones, koophone.DefaultMaxConcurrentRequests, appsRounds(), appsRounds(), appsLatency, secs(appsBound()), appsSlack, secs(appsTarget()))
	w("| measure | result | target |\n|---|---|---|\n")
	w("| the read: first app-list request to last answer | %s, %.2fx the bound (%s) | at most %s |\n",
		secs(a.Read), ratio(a.Read, appsBound()), status(a.Read <= appsTarget()), secs(appsTarget()))
	w("| the whole `terraform plan` | %s, %.2fx the bound (%s) | at most %s |\n",
		secs(a.Plan.Wall), ratio(a.Plan.Wall, appsBound()), status(a.Plan.Wall <= appsTarget()), secs(appsTarget()))
	w("| the plan outside the read: Terraform, the provider's start, the state of %d phones' apps | %s | |\n",
		appsPhones, secs(a.Plan.Wall-a.Read))
	w("| app-list requests | %d for %d pages (%s) | exactly one per page |\n", a.Requests, a.Pages, status(a.Requests == a.Pages))
	w("| other requests | %d (%s) | none |\n", a.Others, status(a.Others == 0))
	w("| provider peak memory (VmHWM) / CPU | %.0f MiB (%s) / %s | under %.0f MiB |\n",
		mib(a.Plan.ProviderPeakRSS), status(a.Plan.ProviderPeakRSS < appsMaxPeakRSS), secs(a.Plan.ProviderCPU), mib(appsMaxPeakRSS))
	w("| Terraform's own peak memory / CPU (with the provider's), for context | %.0f MiB / %s | |\n",
		mib(a.Plan.TerraformPeakRSS), secs(a.Plan.TotalCPU))
	w("\nThe same plan with `%s` failing: its app list answers at once (no latency) with HTTP 200 `KOOPHONE.API.1004`, "+
		"which is not retried, and from the moment its request arrives every other answer is held, after its %v of latency, "+
		"until the provider gives up on it (at most %v): no request slot frees but the failing one's, so a request that "+
		"arrives after the failing answer was written was started after the provider had seen the failure.\n\n",
		appsFailingPhone, appsLatency, appsHold)
	w("| measure | result | target |\n|---|---|---|\n")
	w("| the plan fails with an error naming `%s`, `KOOPHONE.API.1004` and the request id | %s | yes |\n", appsFailingPhone,
		status(a.FailNamed))
	w("| app-list requests that arrived after the failing answer | %d (%s) | 0 |\n", a.AfterFail, status(a.AfterFail == 0))
	w("| app-list requests up to it (its own included) / phones never requested | %d / %d of %d | |\n", a.BeforeFail, a.PhonesNotRead, appsPhones)
	w("| the plan's wall time | %s | |\n", secs(a.FailPlan.Wall))
}
