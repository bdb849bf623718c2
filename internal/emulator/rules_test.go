package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Expected job states, as the wire has them after "job_id":"...",.
const (
	pendingJob = `"status":0,"error_code":"","error_msg":"","execute_msg":null}`
	runningJob = `"status":1,"error_code":"","error_msg":"","execute_msg":null}`
)

func doneJob(status int, code, msg string, out *string) string {
	o := "null"
	if out != nil {
		o = fmt.Sprintf("%q", *out)
	}
	return fmt.Sprintf(`"status":%d,"error_code":%q,"error_msg":%q,"execute_msg":%s}`, status, code, msg, o)
}

// jobStates returns the jobs of a task as the wire has them, without their
// job_id.
func jobStates(t *testing.T, r resp) []string {
	t.Helper()
	out := make([]string, len(jobsOf(t, r)))
	for i := range out {
		_, state, _ := strings.Cut(jobJSON(t, r, i), `",`)
		out[i] = state
	}
	return out
}

func status(s int) *int                  { return &s }
func duration(d time.Duration) *Duration { v := Duration(d); return &v }

// submitWork submits a command, or with install an app install of
// objectName, to phones, and returns the task id.
func (v *env) submitWork(install bool, commandOrApp string, phones []string) string {
	v.t.Helper()
	if install {
		body := validInstall()
		body["object_name"], body["instance_id_list"] = commandOrApp, phones
		id, _ := submitData(v.t, v.do(http.MethodPost, pathInstall, body))
		return id
	}
	id, _ := submitData(v.t, v.do(http.MethodPost, pathAsync, map[string]any{"command": commandOrApp, "instance_ids": phones}))
	return id
}

func TestSubmitRules(t *testing.T) {
	const jobDuration = 10 * time.Second
	type check struct {
		at   time.Duration // since the submit
		want []string      // one state per phone
	}
	fail := func(index int) string {
		return doneJob(StatusFailed, "EMULATOR.0001", fmt.Sprintf("Failed by rules[%d] of the KooPhone emulator.", index), nil)
	}
	installFail := func(index int) string {
		return doneJob(StatusInstallFailed, "EMULATOR.0001", fmt.Sprintf("Failed by rules[%d] of the KooPhone emulator.", index), nil)
	}
	success := doneJob(StatusSucceeded, "", "", sp("Success"))
	shell := doneJob(StatusSucceeded, "", "", sp("shell\n"))
	notFound := doneJob(StatusFailed, "CPS0005", "Phone not found.", nil)
	cases := []struct {
		name      string
		rules     []Rule
		instances []string // Options.Instances
		install   bool
		work      string // the command, or the app's object_name
		phones    []string
		checks    []check
	}{
		{
			name: "no rule: success, CPS0005 for an unknown phone", instances: []string{"p1"},
			work: "whoami", phones: []string{"p1", "ghost"},
			checks: []check{{jobDuration - 1, []string{runningJob, runningJob}}, {jobDuration, []string{shell, notFound}}},
		},
		{
			name: "the first matching rule wins",
			rules: []Rule{
				{Kind: RuleCommand, Command: "^reboot", Status: status(StatusFailed), ErrorCode: sp("E1"), ErrorMsg: sp("no reboot")},
				{Kind: RuleCommand, Status: status(StatusSucceeded), ExecuteMsg: sp("anything")},
			},
			work: "reboot now", phones: []string{"p1"},
			checks: []check{{jobDuration, []string{doneJob(StatusFailed, "E1", "no reboot", nil)}}},
		},
		{
			name: "a later rule decides when the first does not match",
			rules: []Rule{
				{Kind: RuleCommand, Command: "^reboot", Status: status(StatusFailed)},
				{Kind: RuleCommand, Status: status(StatusSucceeded), ExecuteMsg: sp("anything")},
			},
			work: "ls /", phones: []string{"p1"},
			checks: []check{{jobDuration, []string{doneJob(StatusSucceeded, "", "", sp("anything"))}}},
		},
		{
			name:  "phone globs",
			rules: []Rule{{Kind: RuleCommand, Phones: []string{"bad-*", "odd-[13]"}, Status: status(StatusFailed)}},
			work:  "whoami", phones: []string{"bad-1", "good-1", "bad", "odd-1", "odd-2"},
			checks: []check{{jobDuration, []string{fail(0), shell, shell, fail(0), shell}}},
		},
		{
			name:  "the command regexp matches anywhere unless anchored",
			rules: []Rule{{Kind: RuleCommand, Command: `install`, Status: status(StatusFailed)}, {Kind: RuleCommand, Command: `^pm$`, Status: status(StatusFailed)}},
			work:  "pm install /sdcard/x.apk", phones: []string{"p1"},
			checks: []check{{jobDuration, []string{fail(0)}}},
		},
		{
			name:    "command rules do not match installs",
			rules:   []Rule{{Kind: RuleCommand, Status: status(StatusFailed)}},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{{jobDuration, []string{success}}},
		},
		{
			name: "install by object_name",
			rules: []Rule{
				{Kind: RuleAppInstall, ObjectName: "com.example.other", Status: status(StatusSucceeded)},
				{Kind: RuleAppInstall, ObjectName: "com.example.app", Status: status(StatusInstallFailed), ErrorCode: sp("INSTALL_FAILED"), ExecuteMsg: sp("Failure")},
			},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{{jobDuration, []string{doneJob(StatusInstallFailed, "INSTALL_FAILED", "Failed by rules[1] of the KooPhone emulator.", sp("Failure"))}}},
		},
		{
			name:    "install rules do not match another app",
			rules:   []Rule{{Kind: RuleAppInstall, ObjectName: "com.example.other", Status: status(StatusInstallFailed)}},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{{jobDuration, []string{success}}},
		},
		{
			name: "a rule decides for a phone that does not exist", instances: []string{"p1"},
			rules: []Rule{{Kind: RuleCommand, Phones: []string{"ghost"}, Status: status(StatusSucceeded)}},
			work:  "whoami", phones: []string{"ghost", "other-ghost"},
			checks: []check{{jobDuration, []string{shell, notFound}}},
		},
		{
			name:    "install timing: start_after and after",
			rules:   []Rule{{Kind: RuleAppInstall, Status: status(StatusSucceeded), After: duration(4 * time.Second), StartAfter: duration(time.Second)}},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{
				{time.Second - 1, []string{pendingJob}}, {time.Second, []string{runningJob}},
				{4*time.Second - 1, []string{runningJob}}, {4 * time.Second, []string{success}},
			},
		},
		{
			name:    "install timing: start_after defaults to half of after",
			rules:   []Rule{{Kind: RuleAppInstall, Status: status(StatusInstallFailed), After: duration(4 * time.Second)}},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{{2*time.Second - 1, []string{pendingJob}}, {2 * time.Second, []string{runningJob}}, {4 * time.Second, []string{installFail(0)}}},
		},
		{
			name:    "install timing: after defaults to the job duration",
			rules:   []Rule{{Kind: RuleAppInstall, Status: status(StatusInstallFailed), StartAfter: duration(0)}},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{{0, []string{runningJob}}, {jobDuration - 1, []string{runningJob}}, {jobDuration, []string{installFail(0)}}},
		},
		{
			name:    "an install that ends before it starts goes from 0 to its status",
			rules:   []Rule{{Kind: RuleAppInstall, Status: status(StatusInstallFailed), After: duration(time.Second), StartAfter: duration(time.Minute)}},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{{time.Second - 1, []string{pendingJob}}, {time.Second, []string{installFail(0)}}},
		},
		{
			name:  "command timing: after, and 0s is at once",
			rules: []Rule{{Kind: RuleCommand, Phones: []string{"slow"}, Status: status(StatusSucceeded), After: duration(time.Minute)}, {Kind: RuleCommand, Status: status(StatusFailed), After: duration(0)}},
			work:  "whoami", phones: []string{"slow", "fast"},
			checks: []check{{0, []string{runningJob, fail(1)}}, {time.Minute - 1, []string{runningJob, fail(1)}}, {time.Minute, []string{shell, fail(1)}}},
		},
		{
			name:  "a command that never finishes",
			rules: []Rule{{Kind: RuleCommand, Status: status(StatusRunning)}},
			work:  "sleep 100", phones: []string{"p1"},
			checks: []check{{0, []string{runningJob}}, {1000 * time.Hour, []string{runningJob}}},
		},
		{
			name:    "an install that never finishes starts after start_after",
			rules:   []Rule{{Kind: RuleAppInstall, Status: status(StatusRunning), StartAfter: duration(3 * time.Second)}},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{{3*time.Second - 1, []string{pendingJob}}, {3 * time.Second, []string{runningJob}}, {1000 * time.Hour, []string{runningJob}}},
		},
		{
			name:    "an install that never starts",
			rules:   []Rule{{Kind: RuleAppInstall, Status: status(StatusPending)}},
			install: true, work: "com.example.app", phones: []string{"p1"},
			checks: []check{{0, []string{pendingJob}}, {1000 * time.Hour, []string{pendingJob}}},
		},
		{
			name:  "a success with its own output, error code and message",
			rules: []Rule{{Kind: RuleCommand, Status: status(StatusSucceeded), ErrorCode: sp("0"), ErrorMsg: sp("ok"), ExecuteMsg: sp("")}},
			work:  "whoami", phones: []string{"p1"},
			checks: []check{{jobDuration, []string{doneJob(StatusSucceeded, "0", "ok", sp(""))}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := bubbleEnv(t, Options{JobDuration: jobDuration, Instances: c.instances})
				if err := v.emu.AddRules(c.rules...); err != nil {
					t.Fatal(err)
				}
				id := v.submitWork(c.install, c.work, c.phones)
				start := time.Now()
				for _, ch := range c.checks {
					time.Sleep(ch.at - time.Since(start))
					if got := jobStates(t, v.getTask(id)); strings.Join(got, "\n") != strings.Join(ch.want, "\n") {
						t.Fatalf("at %s:\n got %v\nwant %v", ch.at, got, ch.want)
					}
				}
			})
		})
	}
}

// Rules are checked field by field, in a seed file as through AddRules,
// and an invalid rule adds none of its list.
func TestRuleValidation(t *testing.T) {
	long := strings.Repeat("x", maxExecuteMsg)
	cases := []struct {
		name string
		rule string // the JSON of rules[1]
		want string // "" means valid
	}{
		{"kind missing", `{"status":2}`, `rules[1].kind: required: "command", "app_install", "reboot" or "reset"`},
		{"kind unknown", `{"kind":"shell","status":2}`, `rules[1].kind: "shell": want "command", "app_install", "reboot" or "reset"`},
		{"command for an install", `{"kind":"app_install","command":"x","status":2}`, `rules[1].command: applies only to rules of kind "command"`},
		{"object_name for a command", `{"kind":"command","object_name":"x","status":2}`, `rules[1].object_name: applies only to rules of kind "app_install"`},
		{"start_after for a command", `{"kind":"command","start_after":"1s","status":2}`, `rules[1].start_after: applies only to rules of kind "app_install"`},
		{"invalid regexp", `{"kind":"command","command":"(","status":2}`, `rules[1].command: invalid regular expression "(": missing closing )`},
		{"invalid glob", `{"kind":"command","phones":["ok-*","phone-["],"status":2}`, `rules[1].phones[1]: invalid glob pattern "phone-[": syntax error in pattern (want an instance id, or a pattern of one with * ? [a-z] \ as path.Match has them)`},
		{"empty glob", `{"kind":"command","phones":[""],"status":2}`, `rules[1].phones[0]: an empty pattern matches no phone`},
		{"empty phone list", `{"kind":"command","phones":[],"status":2}`, `rules[1].phones: an empty list matches no phone`},
		{"status missing", `{"kind":"command"}`, `rules[1].status: required`},
		{"install status for a command", `{"kind":"command","status":3}`, `rules[1].status: 3: want, for a rule of kind "command", 2 (succeeded), -1 (failed) or 1 (never finishes)`},
		{"0 for a command", `{"kind":"command","status":0}`, `rules[1].status: 0: want`},
		{"command status for an install", `{"kind":"app_install","status":-1}`, `rules[1].status: -1: want, for a rule of kind "app_install", 2 (succeeded), 3 (failed), 1 (never finishes) or 0 (never starts)`},
		{"error_code that never shows", `{"kind":"command","status":1,"error_code":"E"}`, `rules[1].error_code: a job with status 1 never finishes, so this never applies: leave error_code out`},
		{"error_msg that never shows", `{"kind":"app_install","status":0,"error_msg":"E"}`, `rules[1].error_msg: a job with status 0 never starts`},
		{"execute_msg that never shows", `{"kind":"command","status":1,"execute_msg":""}`, `rules[1].execute_msg: a job with status 1 never finishes`},
		{"after that never comes", `{"kind":"command","status":1,"after":"1s"}`, `rules[1].after: a job with status 1 never finishes`},
		{"start_after that never comes", `{"kind":"app_install","status":0,"start_after":"1s"}`, `rules[1].start_after: a job with status 0 never starts`},
		{"negative after", `{"kind":"command","status":2,"after":"-1s"}`, `rules[1].after: must not be negative, got -1s`},
		{"negative start_after", `{"kind":"app_install","status":2,"start_after":"-1ms"}`, `rules[1].start_after: must not be negative, got -1ms`},
		{"execute_msg too long", `{"kind":"command","status":2,"execute_msg":"` + long + `x"}`, `rules[1].execute_msg: must be at most 1024 bytes, as the API's, got 1025`},
		{"unknown field", `{"kind":"command","comand":"x","status":2}`, `rules[1]: unknown field "comand"`},
		{"status as a string", `{"kind":"command","status":"2"}`, `rules[1].status: must be a JSON integer, got string`},
		{"invalid duration", `{"kind":"command","status":2,"after":"5"}`, `rules[1].after: invalid duration "5"`},
		{"negative listed_after", `{"kind":"command","status":2,"listed_after":"-1s"}`, `rules[1].listed_after: must not be negative, got -1s`},
		{"negative listed_after_polls", `{"kind":"app_install","status":0,"listed_after_polls":-2}`, `rules[1].listed_after_polls: must not be negative, got -2`},
		{"listed_after as a number", `{"kind":"command","status":2,"listed_after":5}`, `rules[1].listed_after: must be a JSON string, got number`},
		{"execute_msg of 1024 bytes", `{"kind":"command","status":2,"execute_msg":"` + long + `"}`, ""},
		{"listed late, never finishing", `{"kind":"command","status":1,"listed_after":"1s","listed_after_polls":2}`, ""},
		{"listed late, never starting", `{"kind":"app_install","status":0,"listed_after_polls":1}`, ""},
		{"never starts", `{"kind":"app_install","status":0,"phones":["p[0-9]"]}`, ""},
		{"never finishes, starting late", `{"kind":"app_install","status":1,"start_after":"1s"}`, ""},
		{"everything", `{"kind":"app_install","object_name":"a.b","phones":["x"],"status":3,"error_code":"E","error_msg":"M","execute_msg":"O","after":"2s","start_after":"1s"}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := seedRule(t, c.rule, c.want)
			if c.want != "" && len(e.rules) != 0 {
				t.Errorf("%d rules added, want none", len(e.rules))
			}
		})
	}
	e := New(Options{Token: testToken})
	if err := e.AddRules(Rule{Kind: RuleCommand, Status: status(StatusSucceeded)}, Rule{Kind: RuleCommand}); err == nil ||
		err.Error() != `emulator: rules[1].status: required: the status the jobs end with; for a rule of kind "command", 2 (succeeded), -1 (failed) or 1 (never finishes)` {
		t.Errorf("AddRules: %v", err)
	}
}

// A rule can make the jobs it decides listed late: the submit's cmd_jobs
// names them at once, the task query only after ListedAfterPolls reads and
// ListedAfter, counted from the submit.
func TestRuleJobsListedLate(t *testing.T) {
	synctest.Test(t, testRuleJobsListedLate)
}

func testRuleJobsListedLate(t *testing.T) {
	v := bubbleEnv(t, Options{JobDuration: -1})
	err := v.emu.AddRules(
		Rule{Kind: RuleCommand, Phones: []string{"late"}, Status: status(StatusSucceeded), ExecuteMsg: sp("ok"), ListedAfterPolls: 2},
		Rule{Kind: RuleAppInstall, Phones: []string{"slow"}, Status: status(StatusPending), ListedAfter: Duration(5 * time.Second)},
	)
	if err != nil {
		t.Fatal(err)
	}
	taskID, cmdJobs := submitData(t, v.do(http.MethodPost, pathAsync, map[string]any{"command": "whoami", "instance_ids": []string{"early", "late"}}))
	if len(cmdJobs) != 2 || cmdJobs[0]["instance_id"] != "early" || cmdJobs[1]["instance_id"] != "late" {
		t.Fatalf("cmd_jobs %v, want both phones' jobs at once", cmdJobs)
	}
	early, late := str(t, cmdJobs[0]["job_id"]), str(t, cmdJobs[1]["job_id"])
	for read, want := range [][]string{{early}, {early}, {early, late}} {
		if got := jobIDs(t, v.getTask(taskID)); !slices.Equal(got, want) {
			t.Errorf("read %d: jobs %v, want %v (early %s, late %s)", read+1, got, want, early, late)
		}
	}
	// Once listed, the job is as the rule decided it.
	if got := jobStates(t, v.getTask(taskID))[1]; got != doneJob(StatusSucceeded, "", "", sp("ok")) {
		t.Errorf("the late job: %s", got)
	}

	body := validInstall()
	body["instance_id_list"] = []string{"slow", "other"}
	taskID, cmdJobs = submitData(t, v.do(http.MethodPost, pathInstall, body))
	slow, other := str(t, cmdJobs[0]["job_id"]), str(t, cmdJobs[1]["job_id"])
	time.Sleep(5*time.Second - time.Nanosecond)
	if got := jobIDs(t, v.getTask(taskID)); !slices.Equal(got, []string{other}) {
		t.Errorf("before 5s: jobs %v, want only %s", got, other)
	}
	time.Sleep(time.Nanosecond)
	if got := jobIDs(t, v.getTask(taskID)); !slices.Equal(got, []string{slow, other}) {
		t.Errorf("at 5s: jobs %v, want %s and %s", got, slow, other)
	}
	if got := jobStates(t, v.getTask(taskID))[0]; got != pendingJob {
		t.Errorf("the slow install, which never starts: %s", got)
	}
}

// AddRules keeps its own copy: changing the caller's rule afterwards
// changes nothing.
func TestAddRulesCopies(t *testing.T) {
	v := newEnv(t, Options{JobDuration: -1})
	r := Rule{Kind: RuleCommand, Phones: []string{"p1"}, Status: status(StatusFailed), ErrorCode: sp("E1")}
	if err := v.emu.AddRules(r); err != nil {
		t.Fatal(err)
	}
	r.Phones[0], *r.Status, *r.ErrorCode = "p2", StatusSucceeded, "changed"
	id := v.submitWork(false, "whoami", []string{"p1", "p2"})
	got := jobStates(t, v.getTask(id))
	if want := doneJob(StatusFailed, "E1", "Failed by rules[0] of the KooPhone emulator.", nil); got[0] != want || !strings.HasPrefix(got[1], `"status":2`) {
		t.Errorf("jobs %v", got)
	}
}

// Reset keeps the rules, as it keeps the phones.
func TestResetKeepsRules(t *testing.T) {
	v := newEnv(t, Options{JobDuration: -1})
	if err := v.emu.AddRules(Rule{Kind: RuleCommand, Status: status(StatusFailed)}); err != nil {
		t.Fatal(err)
	}
	v.emu.Reset()
	id := v.submitWork(false, "whoami", []string{"p1"})
	if got := jobStates(t, v.getTask(id)); got[0] != doneJob(StatusFailed, "EMULATOR.0001", "Failed by rules[0] of the KooPhone emulator.", nil) {
		t.Errorf("after Reset: %v", got)
	}
}
