package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var resetTaskRe = regexp.MustCompile(`^RM_[0-9a-f]{32}$`)

// ids body of the phone operations.
func phoneIDs(ids ...string) map[string][]string { return map[string][]string{"instance_ids": ids} }

// statuses queries batch-query-status and returns each phone's status,
// failing the test unless the answer is a success listing exactly ids, in
// order.
func (v *env) statuses(ids ...string) map[string]int {
	v.t.Helper()
	r := v.do(http.MethodPost, pathQueryStatus, phoneIDs(ids...))
	var env struct {
		ErrorCode string `json:"error_code"`
		Data      struct {
			StatusResults []struct {
				InstanceID string `json:"instance_id"`
				Status     int    `json:"status"`
			} `json:"status_results"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || r.status != http.StatusOK || env.ErrorCode != "0" {
		v.t.Fatalf("status query: %d %s (%v)", r.status, r.body, err)
	}
	out := make(map[string]int)
	var order []string
	for _, s := range env.Data.StatusResults {
		out[s.InstanceID] = s.Status
		order = append(order, s.InstanceID)
	}
	if !slices.Equal(order, ids) {
		v.t.Fatalf("status_results list %v, want %v", order, ids)
	}
	return out
}

// listedStatus returns the running_status the listing gives the phone id.
func (v *env) listedStatus(id string) int {
	v.t.Helper()
	r := v.do(http.MethodGet, pathListInstances+"?page_no=1&page_size=1&instance_id="+id, nil)
	var env struct {
		Data struct {
			Result []struct {
				RunningStatus int `json:"running_status"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || len(env.Data.Result) != 1 {
		v.t.Fatalf("listing %s: %s (%v)", id, r.body, err)
	}
	return env.Data.Result[0].RunningStatus
}

// resetData returns the data of a successful reset answer with a task.
func resetData(t *testing.T, r resp) wireSubmitData {
	t.Helper()
	var env struct {
		ErrorCode string          `json:"error_code"`
		ErrorMsg  string          `json:"error_msg"`
		Data      *wireSubmitData `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || r.status != http.StatusOK || env.ErrorCode != "0" || env.ErrorMsg != "OK" || env.Data == nil {
		t.Fatalf("reset answer %d %s, want a task", r.status, r.body)
	}
	return *env.Data
}

// wantOK asserts the answer {"error_code":"0","error_msg":"OK"}, without data.
func wantOK(t *testing.T, r resp) {
	t.Helper()
	if r.status != http.StatusOK || string(r.body) != `{"error_code":"0","error_msg":"OK"}` {
		t.Fatalf("answer %d %s, want 200 without data", r.status, r.body)
	}
}

func TestPhoneStatusStartsAsAdded(t *testing.T) {
	v := newEnv(t, Options{
		Phones: []Phone{
			{InstanceID: "on", RunningStatus: PhoneStatusRunning},
			{InstanceID: "off", RunningStatus: PhoneStatusStopped},
			{InstanceID: "unset"},
			{InstanceID: "odd", RunningStatus: 7},
		},
		Instances: []string{"bare"},
	})
	got := v.statuses("unset", "on", "bare", "off", "odd")
	want := map[string]int{"on": 2, "off": 1, "unset": 0, "bare": 2, "odd": 7}
	if !maps.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if s := v.listedStatus("unset"); s != 0 {
		t.Errorf("listing: running_status %d for a phone added without one, want 0 as always", s)
	}
	if s, ok := v.emu.PhoneStatus("off"); s != 1 || !ok {
		t.Errorf("PhoneStatus(off) = %d, %v", s, ok)
	}
	if _, ok := v.emu.PhoneStatus("ghost"); ok {
		t.Error("PhoneStatus(ghost): exists")
	}

	// One phone that does not exist refuses the whole request.
	m := wantErr(t, v.do(http.MethodPost, pathQueryStatus, phoneIDs("on", "ghost", "ghost-2")), http.StatusBadRequest, "KOOPHONE.API.1001")
	if msg := str(t, m["error_msg"]); !strings.HasSuffix(msg, ": ghost, ghost-2") {
		t.Errorf("error_msg %q does not name the phones", msg)
	}

	// Without phones or instances, every id exists and is running.
	open := newEnv(t, Options{})
	if got := open.statuses("any-1", "any-2"); !maps.Equal(got, map[string]int{"any-1": 2, "any-2": 2}) {
		t.Errorf("open emulator: statuses %v", got)
	}
}

func TestPhoneOperationsValidateTheBody(t *testing.T) {
	v := newEnv(t, Options{})
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("p%d", i)
	}
	cases := map[string]struct {
		body any
		msg  string
	}{
		"no ids":       {phoneIDs(), "instance_ids: must contain 1 to 100 instance ids, got 0"},
		"no member":    {map[string]any{}, "instance_ids: must contain 1 to 100"},
		"101 ids":      {phoneIDs(many...), "got 101"},
		"long id":      {phoneIDs(strings.Repeat("x", 33)), "instance_ids[0]: must be 1 to 32 characters, got 33"},
		"empty id":     {phoneIDs("a", ""), "instance_ids[1]: must be 1 to 32 characters, got 0"},
		"duplicate":    {phoneIDs("a", "a"), "instance_ids[1]: duplicate"},
		"string":       {`{"instance_ids":"a"}`, "instance_ids"},
		"unknown":      {`{"instance_ids":["a"],"force":true}`, `unknown field "force"`},
		"not JSON":     {`instance_ids=a`, ""},
		"ids as a map": {`{"instance_ids":{"a":1}}`, "instance_ids"},
	}
	for _, path := range []string{pathReboot, pathReset, pathQueryStatus} {
		for name, c := range cases {
			t.Run(path+" "+name, func(t *testing.T) {
				m := wantErr(t, v.do(http.MethodPost, path, c.body), http.StatusBadRequest, "KOOPHONE.API.1000")
				if msg := str(t, m["error_msg"]); !strings.Contains(msg, c.msg) {
					t.Errorf("error_msg %q, want it to contain %q", msg, c.msg)
				}
			})
		}
	}
	if n := len(v.emu.TaskIDs()); n != 0 {
		t.Errorf("%d tasks created by refused requests", n)
	}
	v.emu.mu.Lock()
	defer v.emu.mu.Unlock()
	if len(v.emu.phoneOps) != 0 {
		t.Errorf("refused requests changed phones: %v", v.emu.phoneOps)
	}
}

// The new paths are API paths like the others: authenticated, recorded,
// checked for x-request-id, and served only to POST.
func TestPhoneOperationsAreAPIRequests(t *testing.T) {
	v := newEnv(t, Options{})
	for _, path := range []string{pathReboot, pathReset, pathQueryStatus} {
		wantErr(t, v.do(http.MethodPost, path, phoneIDs("p1"), noToken()), http.StatusUnauthorized, "APIGW.0301")
		wantErr(t, v.do(http.MethodPost, path, phoneIDs("p1"), noRequestID()), http.StatusOK, "KOOPHONE.API.0002")
		wantErr(t, v.do(http.MethodGet, path, nil), http.StatusNotFound, "APIGW.0101")
		if rec := lastRequest(t, v.emu); rec.Path != path || rec.Method != http.MethodGet || rec.Status != http.StatusNotFound {
			t.Errorf("recorded %+v", rec)
		}
	}
	if s, _ := v.emu.PhoneStatus("p1"); s != PhoneStatusRunning {
		t.Errorf("p1 is %d after refused requests, want 2", s)
	}
}

func TestReboot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := bubbleEnv(t, Options{JobDuration: time.Minute, Phones: []Phone{
			{InstanceID: "a", RunningStatus: 2}, {InstanceID: "b", RunningStatus: 2}, {InstanceID: "c", RunningStatus: 2},
		}})
		wantOK(t, v.do(http.MethodPost, pathReboot, phoneIDs("a", "b")))
		if got := v.statuses("a", "b", "c"); !maps.Equal(got, map[string]int{"a": 4, "b": 4, "c": 2}) {
			t.Errorf("at once: %v, want a and b starting", got)
		}
		if s := v.listedStatus("a"); s != PhoneStatusStarting {
			t.Errorf("listing: a is %d, want 4", s)
		}
		time.Sleep(time.Minute - time.Nanosecond)
		if s, _ := v.emu.PhoneStatus("a"); s != PhoneStatusStarting {
			t.Errorf("just before a minute: a is %d, want 4", s)
		}
		time.Sleep(time.Nanosecond)
		if got := v.statuses("a", "b", "c"); !maps.Equal(got, map[string]int{"a": 2, "b": 2, "c": 2}) {
			t.Errorf("after a minute: %v, want all running", got)
		}
		if s := v.listedStatus("b"); s != PhoneStatusRunning {
			t.Errorf("listing: b is %d, want 2", s)
		}
		if n := len(v.emu.TaskIDs()); n != 0 {
			t.Errorf("a reboot made %d tasks", n)
		}
	})
}

// A reboot of phones not all running is refused as a whole: KOOPHONE.API.5005,
// and no phone reboots.
func TestRebootNotAllRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := bubbleEnv(t, Options{Phones: []Phone{
			{InstanceID: "a", RunningStatus: 2}, {InstanceID: "off", RunningStatus: 1}, {InstanceID: "unset"},
		}})
		m := wantErr(t, v.do(http.MethodPost, pathReboot, phoneIDs("a", "off", "unset")), http.StatusBadRequest, "KOOPHONE.API.5005")
		if msg := str(t, m["error_msg"]); msg != "Not all instances are running: off is 1 (stopped), unset is 0 (unknown)" {
			t.Errorf("error_msg %q", msg)
		}
		if got := v.statuses("a", "off", "unset"); !maps.Equal(got, map[string]int{"a": 2, "off": 1, "unset": 0}) {
			t.Errorf("after a refused reboot: %v, want nothing changed", got)
		}
		// A phone still starting is not running either.
		wantOK(t, v.do(http.MethodPost, pathReboot, phoneIDs("a")))
		wantErr(t, v.do(http.MethodPost, pathReboot, phoneIDs("a")), http.StatusBadRequest, "KOOPHONE.API.5005")
		// A phone that does not exist: 1001, before 5005.
		wantErr(t, v.do(http.MethodPost, pathReboot, phoneIDs("off", "ghost")), http.StatusBadRequest, "KOOPHONE.API.1001")
	})
}

func TestRebootRules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		phones := make([]Phone, 0, 5)
		for _, id := range []string{"ok", "slow", "bad", "dead", "hang"} {
			phones = append(phones, Phone{InstanceID: id, RunningStatus: 2})
		}
		v := bubbleEnv(t, Options{JobDuration: 10 * time.Second, Phones: phones})
		after := Duration(time.Minute)
		if err := v.emu.AddRules(
			Rule{Kind: RuleCommand, Phones: []string{"ok"}, Status: ip(StatusFailed)}, // another kind: no effect
			Rule{Kind: RuleReboot, Phones: []string{"slow"}, Status: ip(StatusSucceeded), After: &after},
			Rule{Kind: RuleReboot, Phones: []string{"bad"}, Status: ip(StatusFailed)},
			Rule{Kind: RuleReboot, Phones: []string{"dead"}, Status: ip(StatusFailed), PhoneStatus: ip(PhoneStatusShutDown)},
			Rule{Kind: RuleReboot, Phones: []string{"h*"}, Status: ip(StatusRunning)},
		); err != nil {
			t.Fatal(err)
		}
		ids := []string{"ok", "slow", "bad", "dead", "hang"}
		wantOK(t, v.do(http.MethodPost, pathReboot, phoneIDs(ids...)))
		time.Sleep(10 * time.Second)
		if got, want := v.statuses(ids...), map[string]int{"ok": 2, "slow": 4, "bad": 1, "dead": 5, "hang": 4}; !maps.Equal(got, want) {
			t.Errorf("after 10s: %v, want %v", got, want)
		}
		time.Sleep(time.Hour)
		if got, want := v.statuses(ids...), map[string]int{"ok": 2, "slow": 2, "bad": 1, "dead": 5, "hang": 4}; !maps.Equal(got, want) {
			t.Errorf("after an hour: %v, want %v", got, want)
		}
	})
}

func ip(v int) *int { return &v }

func TestResetWithTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := bubbleEnv(t, Options{JobDuration: 20 * time.Second,
			Phones: []Phone{{InstanceID: "a", RunningStatus: 2}, {InstanceID: "b", RunningStatus: 1}, {InstanceID: "bad", RunningStatus: 2}}})
		if err := v.emu.AddRules(Rule{Kind: RuleReset, Phones: []string{"bad"}, Status: ip(StatusFailed), ErrorCode: sp("KPAPI.2209")}); err != nil {
			t.Fatal(err)
		}
		data := resetData(t, v.do(http.MethodPost, pathReset, phoneIDs("b", "ghost", "a", "bad")))
		if !resetTaskRe.MatchString(data.TaskID) || !slices.Equal(v.emu.TaskIDs(), []string{data.TaskID}) {
			t.Errorf("task_id %q, tasks %v", data.TaskID, v.emu.TaskIDs())
		}
		var jobIDs []string
		for i, j := range data.CmdJobs {
			if j.InstanceID != []string{"b", "ghost", "a", "bad"}[i] || !hex32Re.MatchString(j.JobID) {
				t.Errorf("cmd_jobs[%d] = %+v", i, j)
			}
			jobIDs = append(jobIDs, j.JobID)
		}
		if got := v.statuses("a", "b", "bad"); !maps.Equal(got, map[string]int{"a": 4, "b": 4, "bad": 4}) {
			t.Errorf("at once: %v, want all starting", got)
		}
		if got, want := listedJobs(t, v.getTask(data.TaskID)), strings.Join(jobIDs, ":1 ")+":1"; got != want {
			t.Errorf("at once, jobs %s, want %s", got, want)
		}
		time.Sleep(20 * time.Second)
		jobs := jobsOf(t, v.getTask(data.TaskID))
		for i, want := range []struct {
			status int
			code   string
		}{{2, ""}, {-1, "CPS0005"}, {2, ""}, {-1, "KPAPI.2209"}} {
			if fmt.Sprint(jobs[i]["status"]) != fmt.Sprint(want.status) || jobs[i]["error_code"] != want.code {
				t.Errorf("after 20s, job %d: %v, want status %d code %q", i, jobs[i], want.status, want.code)
			}
		}
		if got := v.statuses("a", "b", "bad"); !maps.Equal(got, map[string]int{"a": 2, "b": 2, "bad": 1}) {
			t.Errorf("after 20s: %v, want a and b running, bad stopped", got)
		}
		if _, ok := v.emu.PhoneStatus("ghost"); ok {
			t.Error("the reset made ghost a phone")
		}
	})
}

func TestResetWithoutTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := bubbleEnv(t, Options{ResetResponse: ResetResponseNone, JobDuration: 20 * time.Second, Instances: []string{"a", "hang"}})
		if err := v.emu.AddRules(Rule{Kind: RuleReset, Phones: []string{"hang"}, Status: ip(StatusRunning)}); err != nil {
			t.Fatal(err)
		}
		wantOK(t, v.do(http.MethodPost, pathReset, phoneIDs("a", "hang")))
		if n := len(v.emu.TaskIDs()); n != 0 {
			t.Errorf("%d tasks, want none", n)
		}
		if got := v.statuses("a", "hang"); !maps.Equal(got, map[string]int{"a": 4, "hang": 4}) {
			t.Errorf("at once: %v", got)
		}
		time.Sleep(20 * time.Second)
		if got := v.statuses("a", "hang"); !maps.Equal(got, map[string]int{"a": 2, "hang": 4}) {
			t.Errorf("after 20s: %v, want a running, hang still starting", got)
		}
	})
}

func TestNewRefusesAnUnknownResetResponse(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `Options.ResetResponse "tasks"`) {
			t.Errorf("recovered %v", r)
		}
	}()
	New(Options{Token: "t", ResetResponse: "tasks"})
}

// A fault on a phone operation's path replaces its answer, and the phones
// do not change; with Process they do, and the client never learns it.
func TestFaultsOnPhoneOperations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := bubbleEnv(t, Options{Phones: []Phone{{InstanceID: "a", RunningStatus: 2}}})
		v.addFault(Fault{Match: pathReboot, Kind: FaultError})
		wantErr(t, v.do(http.MethodPost, pathReboot, phoneIDs("a")), http.StatusInternalServerError, "KOOPHONE.API.9999")
		if s, _ := v.emu.PhoneStatus("a"); s != PhoneStatusRunning {
			t.Errorf("a faulted reboot rebooted a: %d", s)
		}
		if rec := lastRequest(t, v.emu); rec.Fault != FaultError || rec.Path != pathReboot {
			t.Errorf("recorded %+v", rec)
		}

		v.addFault(Fault{Match: pathReset, Kind: FaultHTML})
		if r := v.do(http.MethodPost, pathReset, phoneIDs("a")); r.status != http.StatusBadGateway {
			t.Errorf("faulted reset: %d %s", r.status, r.body)
		}
		if s, _ := v.emu.PhoneStatus("a"); s != PhoneStatusRunning || len(v.emu.TaskIDs()) != 0 {
			t.Errorf("a faulted reset reset a: %d, tasks %v", s, v.emu.TaskIDs())
		}

		v.addFault(Fault{Match: pathQueryStatus, Kind: FaultError, Status: 429})
		wantErr(t, v.do(http.MethodPost, pathQueryStatus, phoneIDs("a")), http.StatusTooManyRequests, "APIGW.0308")

		v.addFault(Fault{Match: pathReboot, Kind: FaultDrop, Process: true})
		if _, err := v.send(http.MethodPost, pathReboot, phoneIDs("a")); err == nil {
			t.Error("dropped reboot: no error")
		}
		if s, _ := v.emu.PhoneStatus("a"); s != PhoneStatusStarting {
			t.Errorf("a processed, dropped reboot: a is %d, want 4", s)
		}
		if len(v.emu.PendingFaults()) != 0 {
			t.Errorf("faults left: %v", v.emu.PendingFaults())
		}
	})
}

// Reset forgets reboots and resets: the phones are back at their status
// as added.
func TestEmulatorResetRestoresPhoneStatus(t *testing.T) {
	v := newEnv(t, Options{JobDuration: time.Hour, Phones: []Phone{{InstanceID: "a", RunningStatus: 2}, {InstanceID: "b", RunningStatus: 1}}})
	wantOK(t, v.do(http.MethodPost, pathReboot, phoneIDs("a")))
	v.do(http.MethodPost, pathReset, phoneIDs("b"))
	if got := v.statuses("a", "b"); !maps.Equal(got, map[string]int{"a": 4, "b": 4}) {
		t.Fatalf("before Reset: %v", got)
	}
	v.emu.Reset()
	if got := v.statuses("a", "b"); !maps.Equal(got, map[string]int{"a": 2, "b": 1}) {
		t.Errorf("after Reset: %v, want as added", got)
	}
}

func TestPhoneOperationRuleValidation(t *testing.T) {
	cases := []struct {
		name string
		rule string
		want string // "" means valid
	}{
		{"reboot error_code", `{"kind":"reboot","status":-1,"error_code":"E"}`, `rules[1].error_code: a reboot has no task, so no job to report it: leave error_code out`},
		{"reboot execute_msg", `{"kind":"reboot","status":2,"execute_msg":""}`, `rules[1].execute_msg: a reboot has no task`},
		{"reboot listed_after", `{"kind":"reboot","status":2,"listed_after":"1s"}`, `rules[1].listed_after: a reboot has no task`},
		{"reboot command", `{"kind":"reboot","command":"x","status":2}`, `rules[1].command: applies only to rules of kind "command"`},
		{"reset object_name", `{"kind":"reset","object_name":"x","status":2}`, `rules[1].object_name: applies only to rules of kind "app_install"`},
		{"reset start_after", `{"kind":"reset","status":2,"start_after":"1s"}`, `rules[1].start_after: applies only to rules of kind "app_install"`},
		{"reset install status", `{"kind":"reset","status":3}`, `rules[1].status: 3: want, for a rule of kind "reset", 2 (succeeded), -1 (failed) or 1 (never finishes)`},
		{"reboot 0", `{"kind":"reboot","status":0}`, `rules[1].status: 0: want, for a rule of kind "reboot"`},
		{"phone_status for a command", `{"kind":"command","status":2,"phone_status":1}`, `rules[1].phone_status: applies only to rules of kind "reboot" or "reset"`},
		{"phone_status that never comes", `{"kind":"reboot","status":1,"phone_status":5}`, `rules[1].phone_status: a job with status 1 never finishes`},
		{"phone_status as a string", `{"kind":"reset","status":2,"phone_status":"5"}`, `rules[1].phone_status: must be a JSON integer, got string`},
		{"reboot after", `{"kind":"reboot","phones":["p-*"],"status":-1,"after":"2m","phone_status":5}`, ""},
		{"reset with job fields", `{"kind":"reset","status":-1,"error_code":"E","error_msg":"M","execute_msg":"O","after":"1s","listed_after_polls":1,"phone_status":3}`, ""},
		{"reset never finishing", `{"kind":"reset","status":1}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { seedRule(t, c.rule, c.want) })
	}
}
