package provider

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// The fault matrix: every way the API, its gateway or the network can
// misbehave, each run through the real Terraform CLI twice (reading once,
// and waiting), asserting what the user sees and that the provider stayed
// within its retry budget. Transient faults must be survived; permanent
// ones must fail at once with the code and the request id.

// faultOutcome is what a fault case must lead to.
type faultOutcome int

const (
	// recovers: transient faults are retried, the read succeeds.
	recovers faultOutcome = iota
	// failsAtOnce: one request, then an error.
	failsAtOnce
	// readsData: odd data (or a fault that leaves the data readable); the
	// read succeeds with the state given (or, when waiting on a task that
	// cannot finish, times out).
	readsData
)

type faultCase struct {
	name string
	// faults are programmed for the task under test (Match is filled in).
	faults  []emulator.Fault
	outcome faultOutcome
	// extra provider arguments, such as request_timeout.
	provider string
	// jobs of the task under test; by default two jobs that succeed on the
	// third read.
	jobs []emulator.JobSpec
	// wantErr are the phrases of the expected error (failsAtOnce), and of
	// the timeout of a wait on a task that cannot finish (readsData).
	wantErr     []string
	wantWaitErr []string
	// checks run against the read data source.
	checks []statecheck.StateCheck
}

const maxRetriesInMatrix = 4

func faultMatrix() []faultCase {
	twice := func(f emulator.Fault) []emulator.Fault { f.Count = 2; return []emulator.Fault{f} }

	cases := []faultCase{
		{name: "http 500", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 500})},
		{name: "http 502 json", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 502, Code: "APIGW.0202"})},
		{name: "http 502 html", faults: twice(emulator.Fault{Kind: emulator.FaultHTML, Status: 502})},
		{name: "http 503 json", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 503})},
		{name: "http 503 html", faults: twice(emulator.Fault{Kind: emulator.FaultHTML, Status: 503})},
		{name: "http 504 html", faults: twice(emulator.Fault{Kind: emulator.FaultHTML, Status: 504})},
		{name: "http 429 without retry-after", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 429, Code: "APIGW.0308"})},
		{name: "http 429 retry-after seconds", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 429, Code: "APIGW.0308", RetryAfter: "1"})},
		{name: "http 429 retry-after date", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 429, Code: "APIGW.0308",
			RetryAfter: time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)})},
		{name: "KOOPHONE.API.9999 under 200", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 200, Code: "KOOPHONE.API.9999"})},
		{name: "KOOPHONE.API.9999 under 500", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 500, Code: "KOOPHONE.API.9999"})},
		{name: "APIGW.0308 under 200", faults: twice(emulator.Fault{Kind: emulator.FaultError, Status: 200, Code: "APIGW.0308"})},
		{name: "dropped connection", faults: twice(emulator.Fault{Kind: emulator.FaultDrop})},
		{name: "reset mid-body", faults: twice(emulator.Fault{Kind: emulator.FaultReset})},
		{name: "truncated body", faults: twice(emulator.Fault{Kind: emulator.FaultTruncate})},
		{
			// Longer than the 1 s request_timeout.
			name: "slower than request_timeout", provider: `request_timeout = "1s"`,
			faults: []emulator.Fault{{Kind: emulator.FaultDelay, Delay: emulator.Duration(2 * time.Second)}},
		},
		{name: "wrong content type", faults: twice(emulator.Fault{Kind: emulator.FaultWrongContentType}), outcome: readsData, checks: succeededTwice},

		{name: "malformed json", faults: []emulator.Fault{{Kind: emulator.FaultMalformed, Count: -1}}, outcome: failsAtOnce,
			wantErr: []string{"Unexpected response from the KooPhone API", "not valid KooPhone JSON", "request id"}},
		{name: "body over the size limit", faults: []emulator.Fault{{Kind: emulator.FaultOversize, Count: -1}}, outcome: failsAtOnce,
			wantErr: []string{"Unexpected response from the KooPhone API", "larger than the 4194304-byte limit", "request id"}},
		{name: "empty body", faults: []emulator.Fault{{Kind: emulator.FaultEmpty, Count: -1}}, outcome: failsAtOnce,
			wantErr: []string{"Unexpected response from the KooPhone API", "the body is empty", "request id"}},
		{name: "html under 200", faults: []emulator.Fault{{Kind: emulator.FaultRaw, Count: -1, Body: "<html><body>Sign in</body></html>"}}, outcome: failsAtOnce,
			wantErr: []string{"Unexpected response from the KooPhone API", "HTML page", "Sign in", "request id"}},
		{name: "401 APIGW.0301", faults: []emulator.Fault{{Kind: emulator.FaultError, Count: -1, Status: 401, Code: "APIGW.0301"}}, outcome: failsAtOnce,
			wantErr: []string{"KooPhone rejected the credentials", "APIGW.0301, HTTP 401", "request id"}},
		{name: "403", faults: []emulator.Fault{{Kind: emulator.FaultError, Count: -1, Status: 403, Code: "KOOPHONE.API.1001"}}, outcome: failsAtOnce,
			wantErr: []string{"KooPhone API error", "KOOPHONE.API.1001, HTTP 403", "request id"}},
		{name: "404 APIGW.0101", faults: []emulator.Fault{{Kind: emulator.FaultError, Count: -1, Status: 404, Code: "APIGW.0101"}}, outcome: failsAtOnce,
			wantErr: []string{"KooPhone API not found at this endpoint", "APIGW.0101, HTTP 404", "request id"}},

		{name: "every documented status and undocumented ones", outcome: readsData,
			jobs: []emulator.JobSpec{
				{Status: emulator.StatusPending}, {Status: emulator.StatusInstallFailed}, {Status: 7}, {Status: emulator.StatusSucceeded},
				{Status: emulator.StatusFailed}, {Status: -5}, {Status: emulator.StatusRunning},
			},
			checks: append(expectState("running", 7, 1, 1, 1, 2, 2),
				expectAttr(job(0, "state"), knownvalue.StringExact("pending")),
				expectAttr(job(1, "state"), knownvalue.StringExact("failed")),
				expectAttr(job(2, "status"), knownvalue.Int64Exact(7)),
				expectAttr(job(2, "state"), knownvalue.StringExact("unknown")),
				expectAttr(job(5, "status"), knownvalue.Int64Exact(-5)),
				expectAttr(job(5, "state"), knownvalue.StringExact("unknown")),
			),
			wantWaitErr: []string{"Timed out waiting for KooPhone task", "3 of 7 jobs done (1 successful, 2 failed), 1 still running, 1 not started, 2 in an unknown state"},
		},
		{name: "empty jobs list", outcome: readsData, jobs: []emulator.JobSpec{},
			checks:      append(expectState("running", 0, 0, 0, 0, 0, 0), expectAttr(at("jobs"), knownvalue.ListExact([]knownvalue.Check{}))),
			wantWaitErr: []string{"Timed out waiting for KooPhone task", "The task has no job yet."},
		},
		{name: "duplicate job ids", outcome: readsData,
			faults: []emulator.Fault{{Kind: emulator.FaultRaw, Count: -1,
				Body: `{"error_code":"0","error_msg":"ok","data":{"jobs":[{"job_id":"dup","status":2},{"job_id":"dup","status":-1}]}}`}},
			checks: append(expectState("failed", 2, 0, 0, 1, 1, 0),
				expectAttr(job(0, "job_id"), knownvalue.StringExact("dup")),
				expectAttr(job(1, "job_id"), knownvalue.StringExact("dup"))),
		},
		{name: "execute_msg of 1024 bytes", outcome: readsData,
			jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, ExecuteMsg: str(strings.Repeat("0123456789abcdef", 64))}},
			checks: append(expectState("successful", 1, 0, 0, 1, 0, 0),
				expectAttr(job(0, "execute_msg"), knownvalue.StringExact(strings.Repeat("0123456789abcdef", 64)))),
		},
		{name: "execute_msg with non-UTF-8 bytes", outcome: readsData,
			faults: []emulator.Fault{{Kind: emulator.FaultRaw, Count: -1,
				Body: `{"error_code":"0","error_msg":"ok","data":{"jobs":[{"job_id":"j1","status":2,"error_code":null,"error_msg":null,"execute_msg":"caf` + "\xe9 \xff\xfe" + ` ok"}]}}`}},
			checks: append(expectState("successful", 1, 0, 0, 1, 0, 0),
				expectAttr(job(0, "job_id"), knownvalue.StringExact("j1")),
				expectAttr(job(0, "error_code"), knownvalue.StringExact("")),
				expectAttr(job(0, "execute_msg"), knownvalue.StringExact("caf\uFFFD \uFFFD\uFFFD ok"))),
		},
	}

	// Every non-"0" code of the API fact sheet, under HTTP 200 as the real
	// API sends them: permanent, except the internal error (above).
	for _, code := range []string{
		"KOOPHONE.API.0000", "KOOPHONE.API.0001", "KOOPHONE.API.0002", "KOOPHONE.API.0004", "KOOPHONE.API.0005",
		"KOOPHONE.API.1000", "KOOPHONE.API.1001", "KOOPHONE.API.1002", "KOOPHONE.API.1004", "KOOPHONE.API.1012",
		"KOOPHONE.API.2001", "KOOPHONE.API.2002", "KOOPHONE.API.2003", "KOOPHONE.API.2004", "KOOPHONE.API.2005", "KOOPHONE.API.2006",
		"KOOPHONE.API.3002", "KOOPHONE.API.3003", "KOOPHONE.API.3006", "KOOPHONE.API.3007", "KOOPHONE.API.3008",
		"KOOPHONE.API.4001", "KOOPHONE.API.5005", "KPAPI.2209",
	} {
		cases = append(cases, faultCase{
			name: "200 " + code, outcome: failsAtOnce,
			faults:  []emulator.Fault{{Kind: emulator.FaultError, Count: -1, Status: 200, Code: code, Message: "emulated " + code}},
			wantErr: []string{"KooPhone API error", "error code " + code + ", HTTP 200", `"emulated ` + code + `"`, "request id"},
		})
	}
	cases = append(cases, faultCase{
		name: "200 KOOPHONE.API.1323", outcome: failsAtOnce,
		faults: []emulator.Fault{{Kind: emulator.FaultError, Count: -1, Status: 200, Code: "KOOPHONE.API.1323"}},
		// While waiting, "not found" is tolerated for the 30 s grace: the
		// wait then fails after several polls, checked separately below.
		wantErr: []string{"KooPhone task not found", "KOOPHONE.API.1323, HTTP 200", "request id"},
	})
	return cases
}

func TestAccFaultMatrix(t *testing.T) {
	for _, c := range faultMatrix() {
		t.Run(c.name, func(t *testing.T) {
			runFaultCase(t, c)
		})
	}
}

// succeededTwice is the state of the default task of a case once both its
// jobs have succeeded.
var succeededTwice = append(expectState("successful", 2, 0, 0, 2, 0, 0),
	expectAttr(at("jobs"), knownvalue.ListExact([]knownvalue.Check{
		knownvalue.ObjectPartial(map[string]knownvalue.Check{"state": knownvalue.StringExact("successful"), "execute_msg": knownvalue.StringExact("ok")}),
		knownvalue.ObjectPartial(map[string]knownvalue.Check{"state": knownvalue.StringExact("successful"), "execute_msg": knownvalue.StringExact("ok")}),
	})))

func runFaultCase(t *testing.T, c faultCase) {
	e := newAccEnv(t)
	// By default, a task of two jobs that have succeeded, read once, and
	// one whose jobs succeed on the third read, waited for: both end in
	// the same state, which every case that reads data asserts.
	onceJobs, waitJobs := c.jobs, c.jobs
	if c.jobs == nil {
		onceJobs = []emulator.JobSpec{
			{Status: emulator.StatusSucceeded, ExecuteMsg: str("ok")},
			{Status: emulator.StatusSucceeded, ExecuteMsg: str("ok")},
		}
		waitJobs = []emulator.JobSpec{
			{Status: emulator.StatusSucceeded, AfterPolls: 2, ExecuteMsg: str("ok")},
			{Status: emulator.StatusSucceeded, AfterPolls: 2, ExecuteMsg: str("ok")},
		}
	}
	once := e.addTask(emulator.TaskSpec{Jobs: onceJobs})
	waited := e.addTask(emulator.TaskSpec{Jobs: waitJobs})
	program := func(taskID string) func() {
		return func() {
			for _, f := range c.faults {
				f.Match = taskID
				e.addFault(f)
			}
		}
	}
	config := func(taskID, args string) string {
		return e.providerBlock(fmt.Sprintf("max_retries = %d", maxRetriesInMatrix), c.provider) +
			taskBlock(taskID, args)
	}
	onceStep := resource.TestStep{PreConfig: program(once), Config: config(once, "")}
	// Waits get 10 minutes, except on tasks that cannot finish, which must
	// time out quickly.
	waitTimeout := "10m"
	if c.wantWaitErr != nil {
		waitTimeout = "3s"
	}
	waitStep := resource.TestStep{
		PreConfig: program(waited),
		Config:    config(waited, fmt.Sprintf("wait_for_completion = true\n  timeouts = { read = %q }", waitTimeout)),
	}
	switch c.outcome {
	case recovers:
		onceStep.ConfigStateChecks = succeededTwice
		waitStep.ConfigStateChecks = succeededTwice
	case failsAtOnce:
		onceStep.ExpectError = errRE(c.wantErr...)
		waitStep.ExpectError = errRE(c.wantErr...)
		if strings.Contains(c.name, "1323") {
			waitStep.ExpectError = errRE("KooPhone task not found", "invisible for the 30s grace period")
		}
	case readsData:
		onceStep.ConfigStateChecks = c.checks
		waitStep.ConfigStateChecks = c.checks
		if c.wantWaitErr != nil {
			// Pending, running and unknown jobs never finish, which the
			// wait step covers.
			waitStep.ConfigStateChecks = nil
			waitStep.ExpectError = errRE(c.wantWaitErr...)
		}
	}
	e.parallelTest(onceStep, waitStep)
	checkRetryBudget(t, e, c, once, false)
	checkRetryBudget(t, e, c, waited, true)
}

// checkRetryBudget checks the requests the emulator received for one task:
// a transient fault costs exactly one retry each, within max_retries; a
// permanent one costs exactly one request.
func checkRetryBudget(t *testing.T, e *accEnv, c faultCase, taskID string, waiting bool) {
	t.Helper()
	var reqs []emulator.Request
	for _, r := range e.emu.Requests() {
		if strings.HasSuffix(r.Path, "/"+taskID) {
			reqs = append(reqs, r)
		}
	}
	mode := "read once"
	if waiting {
		mode = "wait"
	}
	switch c.outcome {
	case failsAtOnce:
		if strings.Contains(c.name, "1323") && waiting {
			if len(reqs) < 2 {
				t.Errorf("%s: a wait gave up on a not-yet-visible task after %d requests", mode, len(reqs))
			}
			return
		}
		if len(reqs) != 1 {
			t.Errorf("%s: %d requests for a permanent failure, want exactly 1", mode, len(reqs))
		}
	case recovers:
		programmed := 0
		for _, f := range c.faults {
			programmed += max(f.Count, 1) // 0 means once
		}
		faulted := 0
		for faulted < len(reqs) && reqs[faulted].Fault != "" {
			faulted++
		}
		if faulted != programmed || faulted >= len(reqs) {
			t.Errorf("%s: the first %d of %d requests were faulted, want the %d programmed faults then a clean request", mode, faulted, len(reqs), programmed)
			return
		}
		if faulted+1 > maxRetriesInMatrix+1 {
			t.Errorf("%s: %d attempts exceed the budget of %d", mode, faulted+1, maxRetriesInMatrix+1)
		}
		for _, r := range reqs[faulted:] {
			if r.Fault != "" {
				t.Errorf("%s: a fault was left over: %+v", mode, r)
			}
		}
	}
}
