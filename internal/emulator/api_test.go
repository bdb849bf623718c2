package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestNewPanicsWithoutToken(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New with an empty token did not panic")
		}
	}()
	New(Options{})
}

func TestUnknownRoutes(t *testing.T) {
	v := newEnv(t, Options{})
	v.addTask(TaskSpec{TaskID: "known"})
	for _, route := range []string{
		"GET /",
		"GET /v1/instances/tasks/",
		"GET /v1/instances/tasks",
		"GET /v1/instances/tasks/known/extra",
		"POST /v1/instances/tasks/known",
		"DELETE /v1/instances/tasks/known",
		"GET /v1/instances/async-command",
		"PUT /v1/instances/async-command",
		"GET /v1/instances/app/install",
		"POST /v1/instances/sync-command",
		"GET /prefix/v1/instances/tasks/known",
		"GET /V1/instances/tasks/known",
	} {
		t.Run(route, func(t *testing.T) {
			method, path, _ := strings.Cut(route, " ")
			// Routing comes before auth: no token still gives 404.
			for _, opts := range [][]reqOpt{nil, {noToken()}} {
				r := v.do(method, path, nil, opts...)
				m := wantErr(t, r, http.StatusNotFound, "APIGW.0101")
				if m["error_msg"] != "The API does not exist or has not been published in the environment" {
					t.Errorf("error_msg %q", m["error_msg"])
				}
				if m["request_id"] != r.header.Get("X-Request-Id") || m["request_id"] == "" {
					t.Errorf("request_id %v, header %q", m["request_id"], r.header.Get("X-Request-Id"))
				}
				if got := r.header.Get("Content-Type"); got != jsonContentType {
					t.Errorf("Content-Type %q", got)
				}
			}
		})
	}
}

func TestAuth(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{TaskID: "t1", Jobs: []JobSpec{{Status: StatusSucceeded}}})
	cases := []struct {
		name     string
		opts     []reqOpt
		wantCode int
	}{
		{"missing", []reqOpt{noToken()}, http.StatusUnauthorized},
		{"empty", []reqOpt{withToken("")}, http.StatusUnauthorized},
		{"wrong", []reqOpt{withToken("not-the-token")}, http.StatusUnauthorized},
		{"prefix of token", []reqOpt{withToken(testToken[:5])}, http.StatusUnauthorized},
		{"token plus suffix", []reqOpt{withToken(testToken + "x")}, http.StatusUnauthorized},
		{"canonical header", nil, http.StatusOK},
		{"lower-case header", []reqOpt{noToken(), withHeader("x-auth-token", testToken)}, http.StatusOK},
		{"mixed-case header", []reqOpt{noToken(), withHeader("x-Auth-Token", testToken)}, http.StatusOK},
		{"upper-case header", []reqOpt{noToken(), withHeader("X-AUTH-TOKEN", testToken)}, http.StatusOK},
		{"lower-case header, wrong value", []reqOpt{noToken(), withHeader("x-auth-token", "nope")}, http.StatusUnauthorized},
		// Auth comes before the x-request-id check.
		{"missing token and request id", []reqOpt{noToken(), noRequestID()}, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := v.getTask(id, c.opts...)
			if c.wantCode == http.StatusOK {
				jobsOf(t, r)
				return
			}
			m := wantErr(t, r, http.StatusUnauthorized, "APIGW.0301")
			if !strings.HasPrefix(str(t, m["error_msg"]), "Incorrect IAM authentication information: ") {
				t.Errorf("error_msg %q", m["error_msg"])
			}
			if m["request_id"] == "" || m["request_id"] != r.header.Get("X-Request-Id") {
				t.Errorf("request_id %v vs header %q", m["request_id"], r.header.Get("X-Request-Id"))
			}
			if strings.Contains(string(r.body), testToken[:8]) || strings.Contains(string(r.body), "not-the-token") {
				t.Errorf("token echoed: %s", r.body)
			}
		})
	}
	// Unauthenticated requests are recorded but have no token.
	var sawNoToken bool
	for _, rq := range v.emu.Requests() {
		if !rq.HasToken {
			sawNoToken = true
			if rq.Status != http.StatusUnauthorized {
				t.Errorf("request without token recorded with status %d", rq.Status)
			}
		}
	}
	if !sawNoToken {
		t.Error("no request recorded with HasToken=false")
	}
	if v.emu.Reads(id) != 4 {
		t.Errorf("Reads = %d, want 4 (one per authorised request)", v.emu.Reads(id))
	}
}

func TestMissingRequestID(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
	paths := []struct{ method, path string }{
		{http.MethodGet, "/v1/instances/tasks/" + id},
		{http.MethodPost, "/v1/instances/async-command"},
		{http.MethodPost, "/v1/instances/app/install"},
	}
	for _, p := range paths {
		t.Run(p.path, func(t *testing.T) {
			var body any
			if p.method == http.MethodPost {
				body = "{}" // never parsed: the header check comes first
			}
			r := v.do(p.method, p.path, body, noRequestID())
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200 (as the real API): %s", r.status, r.body)
			}
			want := `{"error_code":"KOOPHONE.API.0002","error_msg":"missing request header 'x-request-id'"}`
			if string(r.body) != want {
				t.Errorf("body %s\nwant %s", r.body, want)
			}
			if got := r.header.Get("X-Request-Id"); !uuidRe.MatchString(got) {
				t.Errorf("generated X-Request-Id %q is not a UUID", got)
			}
			if got := r.header.Get("Content-Type"); got != jsonContentType {
				t.Errorf("Content-Type %q", got)
			}
			if rq := lastRequest(t, v.emu); rq.RequestID != "" || rq.Status != 200 {
				t.Errorf("recorded %+v", rq)
			}
		})
	}
	if v.emu.Reads(id) != 0 {
		t.Errorf("a rejected request counted as a read")
	}
	// Header name is case-insensitive.
	r := v.getTask(id, noRequestID(), withHeader("x-request-id", "lower-id"))
	jobsOf(t, r)
	if r.header.Get("X-Request-Id") != "lower-id" {
		t.Errorf("X-Request-Id %q", r.header.Get("X-Request-Id"))
	}
}

func TestRequestIDEchoed(t *testing.T) {
	synctest.Test(t, testRequestIDEchoed)
}

func testRequestIDEchoed(t *testing.T) {
	v := bubbleEnv(t, Options{})
	r := v.getTask("nope", withHeader("X-Request-Id", "my-id-123"))
	if got := r.header.Get("X-Request-Id"); got != "my-id-123" {
		t.Errorf("X-Request-Id %q", got)
	}
	rq := lastRequest(t, v.emu)
	if rq.RequestID != "my-id-123" || rq.UserAgent != "emulator-test/1.0" || !rq.HasToken ||
		rq.Method != "GET" || rq.Path != "/v1/instances/tasks/nope" || rq.Status != 400 || rq.Fault != "" ||
		!rq.Time.Equal(epoch) {
		t.Errorf("recorded %+v", rq)
	}
}

func TestGetTaskNotFound(t *testing.T) {
	v := newEnv(t, Options{})
	r := v.getTask("0123456789abcdef0123456789abcdef")
	want := `{"error_code":"KOOPHONE.API.1323","error_msg":"The app installation task does not exist."}`
	if r.status != http.StatusBadRequest || string(r.body) != want {
		t.Fatalf("got %d %s\nwant 400 %s", r.status, r.body, want)
	}
}

func TestGetTaskFinalValuesAndNulls(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{TaskID: "ZGCA0123", Jobs: []JobSpec{
		{JobID: "j-ok", Status: StatusSucceeded, ErrorCode: sp(""), ErrorMsg: sp(""), ExecuteMsg: sp("total 0")},
		{JobID: "j-fail", Status: StatusFailed, ErrorCode: sp("CPS0005"), ErrorMsg: sp("Phone not found.")},
		{JobID: "j-nulls", Status: StatusSucceeded},
		{JobID: "j-unknown", Status: 7, ExecuteMsg: sp(`quote " and <tag> & unicode ✓`)},
	}})
	r := v.getTask(id)
	want := `{"error_code":"0","error_msg":"ok","data":{"jobs":[` +
		`{"job_id":"j-ok","status":2,"error_code":"","error_msg":"","execute_msg":"total 0"},` +
		`{"job_id":"j-fail","status":-1,"error_code":"CPS0005","error_msg":"Phone not found.","execute_msg":null},` +
		`{"job_id":"j-nulls","status":2,"error_code":null,"error_msg":null,"execute_msg":null},` +
		`{"job_id":"j-unknown","status":7,"error_code":null,"error_msg":null,"execute_msg":"quote \" and <tag> & unicode ✓"}]}}`
	if r.status != 200 || string(r.body) != want {
		t.Fatalf("got %d %s\nwant %s", r.status, r.body, want)
	}
	if got := r.header.Get("Content-Type"); got != jsonContentType {
		t.Errorf("Content-Type %q", got)
	}
	if v.emu.Reads(id) != 1 || v.emu.Reads("other") != 0 {
		t.Errorf("Reads = %d", v.emu.Reads(id))
	}
}

func TestGetTaskNoJobs(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{})
	r := v.getTask(id)
	if string(r.body) != `{"error_code":"0","error_msg":"ok","data":{"jobs":[]}}` {
		t.Fatalf("body %s", r.body)
	}
}

const runningJSON = `"status":1,"error_code":"","error_msg":"","execute_msg":null}`

func TestJobProgressByTime(t *testing.T) {
	synctest.Test(t, testJobProgressByTime)
}

func testJobProgressByTime(t *testing.T) {
	v := bubbleEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{
		{JobID: "now", Status: StatusSucceeded, ExecuteMsg: sp("a")},
		{JobID: "ten", Status: StatusFailed, After: Duration(10 * time.Second), ErrorCode: sp("E1"), ErrorMsg: sp("boom"), ExecuteMsg: sp("b")},
		{JobID: "never", Status: StatusRunning, After: Duration(time.Second), ErrorCode: sp("ignored")},
	}})
	steps := []struct {
		advance time.Duration
		want    []string
	}{
		{0, []string{`"status":2`, runningJSON, runningJSON}},
		{10*time.Second - time.Nanosecond, []string{`"status":2`, runningJSON, runningJSON}},
		{time.Nanosecond, []string{`"status":2`, `{"job_id":"ten","status":-1,"error_code":"E1","error_msg":"boom","execute_msg":"b"}`, runningJSON}},
		{time.Hour, []string{`"status":2`, `"status":-1`, `{"job_id":"never",` + runningJSON}},
	}
	for i, s := range steps {
		time.Sleep(s.advance)
		r := v.getTask(id)
		jobs := jobsOf(t, r)
		if len(jobs) != 3 {
			t.Fatalf("step %d: %d jobs", i, len(jobs))
		}
		for j, frag := range s.want {
			if !strings.Contains(jobJSON(t, r, j), frag) {
				t.Errorf("step %d job %d: %s does not contain %s", i, j, jobJSON(t, r, j), frag)
			}
		}
	}
}

// jobJSON returns the raw JSON of job i in a task response, in wire order.
func jobJSON(t *testing.T, r resp, i int) string {
	t.Helper()
	var env struct {
		Data struct {
			Jobs []json.RawMessage `json:"jobs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || i >= len(env.Data.Jobs) {
		t.Fatalf("cannot get job %d from %s: %v", i, r.body, err)
	}
	return string(env.Data.Jobs[i])
}

// timedRead is a read of a task in a synctest bubble, after the clock
// moved by advance: want is the jobs it lists, as "job_id:status" in order
// and separated by spaces, or notVisible when it must not find the task.
type timedRead struct {
	advance time.Duration
	want    string
}

const notVisible = "(not visible)"

// A task's jobs progress, become visible, are listed and start by polls
// and by time, alone or combined: the same reads and the same elapsed time
// drive them all.
func TestReadsOverTime(t *testing.T) {
	progress := func(after time.Duration, polls int) TaskSpec {
		return TaskSpec{Jobs: []JobSpec{{JobID: "j", Status: StatusSucceeded, After: Duration(after), AfterPolls: polls}}}
	}
	// AfterPolls counts only visible reads: the job is final on the second.
	visible := func(after time.Duration, polls int) TaskSpec {
		return TaskSpec{VisibleAfter: Duration(after), VisibleAfterPolls: polls, Jobs: []JobSpec{{JobID: "j", Status: StatusSucceeded, AfterPolls: 1}}}
	}
	for _, c := range []struct {
		name  string
		spec  TaskSpec
		reads []timedRead
	}{
		{"progress: immediate", progress(0, 0), []timedRead{{0, "j:2"}}},
		{"progress: two polls", progress(0, 2), []timedRead{{0, "j:1"}, {0, "j:1"}, {0, "j:2"}, {0, "j:2"}}},
		{"progress: time only", progress(5*time.Second, 0), []timedRead{{0, "j:1"}, {4 * time.Second, "j:1"}, {time.Second, "j:2"}}},
		{"progress: polls satisfied first, then time", progress(5*time.Second, 1),
			[]timedRead{{0, "j:1"}, {0, "j:1"}, {0, "j:1"}, {5 * time.Second, "j:2"}}},
		{"progress: time satisfied first, then polls", progress(time.Second, 3),
			[]timedRead{{time.Hour, "j:1"}, {0, "j:1"}, {0, "j:1"}, {0, "j:2"}}},
		{"visible by time", visible(3*time.Second, 0),
			[]timedRead{{0, notVisible}, {2 * time.Second, notVisible}, {time.Second, "j:1"}, {0, "j:2"}}},
		{"visible by polls", visible(0, 2), []timedRead{{0, notVisible}, {0, notVisible}, {0, "j:1"}, {0, "j:2"}}},
		{"visible by polls then time", visible(3*time.Second, 1), []timedRead{{0, notVisible}, {0, notVisible}, {3 * time.Second, "j:1"}}},
		{"visible by time then polls", visible(time.Second, 2), []timedRead{{time.Hour, notVisible}, {0, notVisible}, {0, "j:1"}}},
		{
			// Until a job is listed the task query leaves it out, as the
			// real API can, though the task and its other jobs are there;
			// a read that leaves a job out still counts.
			name: "listed late by polls",
			spec: TaskSpec{Jobs: []JobSpec{
				{JobID: "first", Status: StatusSucceeded},
				{JobID: "second", Status: StatusSucceeded, ListedAfterPolls: 2},
			}},
			reads: []timedRead{{0, "first:2"}, {0, "first:2"}, {0, "first:2 second:2"}, {0, "first:2 second:2"}},
		},
		{
			// A job listed late may be final, or still running, when it
			// first appears.
			name: "listed late by time",
			spec: TaskSpec{Jobs: []JobSpec{
				{JobID: "by-time", Status: StatusSucceeded, ListedAfter: Duration(3 * time.Second)},
				{JobID: "by-both", Status: StatusFailed, ListedAfter: Duration(time.Second), ListedAfterPolls: 2, AfterPolls: 3},
				{JobID: "never", Status: StatusSucceeded, ListedAfter: Duration(1000 * time.Hour)},
				{JobID: "at-once", Status: StatusRunning},
			}},
			reads: []timedRead{
				{0, "at-once:1"},
				{time.Second, "at-once:1"},                              // by-both: time passed, 2nd read
				{time.Second, "by-both:1 at-once:1"},                    // 3rd read: listed, not final until the 4th
				{time.Second - time.Nanosecond, "by-both:-1 at-once:1"}, // by-time: 1ns to go
				{time.Nanosecond, "by-time:2 by-both:-1 at-once:1"},
				{100 * time.Hour, "by-time:2 by-both:-1 at-once:1"},
			},
		},
		{
			// A seeded job can start late (status 0 until then), by polls
			// and by time, or stay pending for ever.
			name: "seeded jobs start late",
			spec: TaskSpec{Jobs: []JobSpec{
				{JobID: "polls", Status: StatusInstallFailed, StartAfterPolls: 1, AfterPolls: 2},
				{JobID: "time", Status: StatusSucceeded, StartAfter: Duration(time.Minute), After: Duration(2 * time.Minute)},
				{JobID: "never", Status: StatusPending},
			}},
			reads: []timedRead{{0, "polls:0 time:0 never:0"}, {0, "polls:1 time:0 never:0"},
				{time.Minute, "polls:3 time:1 never:0"}, {time.Minute, "polls:3 time:2 never:0"}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { checkReadsOverTime(t, c.spec, c.reads) })
		})
	}
}

// checkReadsOverTime seeds spec and makes the reads in order; only the
// reads that find the task count as reads of it.
func checkReadsOverTime(t *testing.T, spec TaskSpec, reads []timedRead) {
	v := bubbleEnv(t, Options{})
	id := v.addTask(spec)
	found := 0
	for i, read := range reads {
		time.Sleep(read.advance)
		r := v.getTask(id)
		if read.want == notVisible {
			wantErr(t, r, http.StatusBadRequest, "KOOPHONE.API.1323")
			continue
		}
		found++
		if got := listedJobs(t, r); got != read.want {
			t.Errorf("read %d: %s, want %s", i+1, got, read.want)
		}
	}
	if n := v.emu.Reads(id); n != found {
		t.Errorf("Reads = %d, want %d", n, found)
	}
}

func TestAddTaskValidation(t *testing.T) {
	e := New(Options{Token: testToken})
	if _, err := e.AddTask(TaskSpec{TaskID: "dup"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		spec TaskSpec
		want string
	}{
		{"duplicate task", TaskSpec{TaskID: "dup"}, "already exists"},
		{"slash", TaskSpec{TaskID: "a/b"}, "not allowed"},
		{"space", TaskSpec{TaskID: "a b"}, "not allowed"},
		{"too long", TaskSpec{TaskID: strings.Repeat("a", 65)}, "1 to 64"},
		{"dot", TaskSpec{TaskID: ".."}, "dot"},
		{"negative visible_after", TaskSpec{VisibleAfter: -1}, "visible_after"},
		{"negative visible_after_polls", TaskSpec{VisibleAfterPolls: -1}, "visible_after_polls"},
		{"duplicate job", TaskSpec{Jobs: []JobSpec{{JobID: "j"}, {JobID: "j"}}}, "duplicates"},
		{"long job id", TaskSpec{Jobs: []JobSpec{{JobID: strings.Repeat("j", 65)}}}, "job_id"},
		{"negative after", TaskSpec{Jobs: []JobSpec{{After: -1}}}, "negative"},
		{"negative after_polls", TaskSpec{Jobs: []JobSpec{{AfterPolls: -1}}}, "negative"},
		{"negative listed_after", TaskSpec{Jobs: []JobSpec{{ListedAfter: -1}}}, "jobs[0].listed_after: must not be negative"},
		{"negative listed_after_polls", TaskSpec{Jobs: []JobSpec{{}, {ListedAfterPolls: -1}}}, "jobs[1].listed_after_polls: must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.AddTask(c.spec)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want containing %q", err, c.want)
			}
		})
	}
	for _, ok := range []string{"RM_6837531fd3f54550927b930180a706bf", "FULFILL-1.2", strings.Repeat("z", 64)} {
		if _, err := e.AddTask(TaskSpec{TaskID: ok}); err != nil {
			t.Errorf("AddTask(%q): %v", ok, err)
		}
	}
}

func TestGeneratedIDs(t *testing.T) {
	v := newEnv(t, Options{})
	spec := TaskSpec{Jobs: []JobSpec{{}, {}, {JobID: "given"}}}
	id := v.addTask(spec)
	if !hex32Re.MatchString(id) {
		t.Errorf("task id %q", id)
	}
	if spec.Jobs[0].JobID != "" {
		t.Error("AddTask modified the caller's JobSpec slice")
	}
	jobs := jobsOf(t, v.getTask(id))
	seen := map[string]bool{}
	for i, j := range jobs[:2] {
		jid := str(t, j["job_id"])
		if !hex32Re.MatchString(jid) || seen[jid] {
			t.Errorf("job %d id %q", i, jid)
		}
		seen[jid] = true
	}
	if jobs[2]["job_id"] != "given" {
		t.Errorf("job id %v", jobs[2]["job_id"])
	}
	if id2 := v.addTask(TaskSpec{}); id2 == id {
		t.Error("generated task ids repeat")
	}
	for range 50 {
		if i := newInstallTaskID(); !installRe.MatchString(i) {
			t.Fatalf("newInstallTaskID %q", i)
		}
	}
}

func TestStripPrefixMount(t *testing.T) {
	e := New(Options{Token: testToken})
	id, _ := e.AddTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
	srv := httptest.NewServer(http.StripPrefix("/koophone", e))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/koophone/v1/instances/tasks/"+id, nil)
	req.Header.Set("X-Auth-Token", testToken)
	req.Header.Set("X-Request-Id", "x")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if rq := e.Requests()[0]; rq.Path != "/v1/instances/tasks/"+id {
		t.Errorf("path %q", rq.Path)
	}
}

func TestDurationJSON(t *testing.T) {
	spec := TaskSpec{TaskID: "t", VisibleAfter: Duration(1500 * time.Millisecond),
		Jobs: []JobSpec{{JobID: "j", Status: 2, After: Duration(250 * time.Millisecond), ErrorCode: sp("")}}}
	b := mustJSON(t, spec)
	want := `{"task_id":"t","jobs":[{"job_id":"j","instance_id":"","status":2,"error_code":"","error_msg":null,"execute_msg":null,"after":"250ms","after_polls":0,"start_after":"0s","start_after_polls":0,"listed_after":"0s","listed_after_polls":0}],"visible_after":"1.5s","visible_after_polls":0}`
	if string(b) != want {
		t.Errorf("marshal\n got %s\nwant %s", b, want)
	}
	var back TaskSpec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.VisibleAfter != spec.VisibleAfter || back.Jobs[0].After != spec.Jobs[0].After {
		t.Errorf("round trip %+v", back)
	}
	for in, want := range map[string]Duration{`""`: 0, `null`: 0, `"2m"`: Duration(2 * time.Minute), `"-1s"`: Duration(-time.Second)} {
		d := Duration(42)
		if err := json.Unmarshal([]byte(in), &d); err != nil || (in != "null" && d != want) || (in == "null" && d != 42) {
			t.Errorf("unmarshal %s: %v, %v", in, d, err)
		}
	}
	for _, bad := range []string{`"5"`, `"soon"`, `5`, `true`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
	if Duration(time.Second).String() != "1s" {
		t.Error("String")
	}
}

func TestConnectionsCounted(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{})
	for range 10 {
		v.getTask(id)
	}
	if got := v.emu.Connections(); got != 1 {
		t.Errorf("keep-alive client: Connections = %d, want 1", got)
	}
	v.client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 3 {
		v.getTask(id)
	}
	if got := v.emu.Connections(); got != 4 {
		t.Errorf("after 3 non-keep-alive requests: Connections = %d, want 4", got)
	}
}

func TestLogf(t *testing.T) {
	var (
		mu    sync.Mutex
		lines []string
	)
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	v := newEnv(t, Options{Logf: logf})
	id := v.addTask(TaskSpec{})
	v.addFault(Fault{Kind: FaultError, Status: 503})
	v.getTask(id, withHeader("X-Request-Id", "log-req-1"))
	v.getTask(id, withToken("wrong-"+testToken))
	v.do(http.MethodPost, "/v1/instances/async-command", `{"command":"ls","instance_ids":["p1"]}`)
	waitFor(t, "log lines", func() bool { mu.Lock(); defer mu.Unlock(); return len(lines) >= 3 })
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), lines)
	}
	if !strings.Contains(lines[0], "GET /v1/instances/tasks/"+id+" -> 503") || !strings.Contains(lines[0], "request_id=log-req-1") ||
		!strings.Contains(lines[0], "fault=error") {
		t.Errorf("line 0: %q", lines[0])
	}
	if !strings.Contains(lines[1], "-> 401") || !strings.Contains(lines[1], "fault=-") {
		t.Errorf("line 1: %q", lines[1])
	}
	for _, l := range lines {
		if strings.Contains(l, testToken) {
			t.Errorf("token in log line %q", l)
		}
	}
}
