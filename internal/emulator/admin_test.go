package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// admin sends an unauthenticated admin request.
func (v *env) admin(method, path, body string) resp {
	v.t.Helper()
	req, err := http.NewRequest(method, v.url+path, strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	res, err := v.client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func TestAdminAPI(t *testing.T) {
	synctest.Test(t, testAdminAPI)
}

func testAdminAPI(t *testing.T) {
	v := bubbleEnv(t, Options{})

	r := v.admin(http.MethodPost, "/_emulator/tasks", `{"task_id":"seeded","jobs":[{"job_id":"j1","status":-1,"error_code":"E","after":"2s"}],"visible_after_polls":1}`)
	if r.status != http.StatusCreated || string(r.body) != `{"task_id":"seeded"}` {
		t.Fatalf("add task: %d %s", r.status, r.body)
	}
	r = v.admin(http.MethodPost, "/_emulator/tasks", `{}`)
	var created struct {
		TaskID string `json:"task_id"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || r.status != 201 || !hex32Re.MatchString(created.TaskID) {
		t.Fatalf("generated: %d %s", r.status, r.body)
	}
	wantErr(t, v.getTask("seeded"), 400, "KOOPHONE.API.1323") // visible_after_polls
	time.Sleep(2 * time.Second)
	if got := jobJSON(t, v.getTask("seeded"), 0); got != `{"job_id":"j1","status":-1,"error_code":"E","error_msg":null,"execute_msg":null}` {
		t.Errorf("seeded job %s", got)
	}

	r = v.admin(http.MethodPost, "/_emulator/faults", `{"match":"seeded","kind":"error","status":429,"retry_after":"2","count":1}`)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("add fault: %d %s", r.status, r.body)
	}
	if g := v.getTask("seeded"); g.status != 429 || g.header.Get("Retry-After") != "2" {
		t.Errorf("fault not applied: %d", g.status)
	}

	r = v.admin(http.MethodGet, "/_emulator/requests", "")
	var reqs []map[string]any
	if err := json.Unmarshal(r.body, &reqs); err != nil || r.status != 200 {
		t.Fatalf("requests: %d %s %v", r.status, r.body, err)
	}
	if len(reqs) != 3 {
		t.Fatalf("want 3 API requests (admin ones excluded), got %s", r.body)
	}
	last := reqs[2]
	if last["method"] != "GET" || last["path"] != "/v1/instances/tasks/seeded" || last["status"] != float64(429) ||
		last["fault"] != "error" || last["has_token"] != true || last["user_agent"] != "emulator-test/1.0" ||
		last["time"] != epoch.Add(2*time.Second).Format(time.RFC3339Nano) || !strings.HasPrefix(str(t, last["request_id"]), "req-") {
		t.Errorf("request record %v", last)
	}
	if strings.Contains(string(r.body), testToken) {
		t.Error("token in requests dump")
	}

	r = v.admin(http.MethodPost, "/_emulator/reset", "")
	if r.status != http.StatusNoContent {
		t.Fatalf("reset: %d", r.status)
	}
	if len(v.emu.Requests()) != 0 || len(v.emu.PendingFaults()) != 0 || v.emu.Reads("seeded") != 0 {
		t.Error("reset left state behind")
	}
	wantErr(t, v.getTask("seeded"), 400, "KOOPHONE.API.1323")
	// The id is free again.
	if r := v.admin(http.MethodPost, "/_emulator/tasks", `{"task_id":"seeded"}`); r.status != 201 {
		t.Errorf("re-add after reset: %d %s", r.status, r.body)
	}
}

func TestAdminErrors(t *testing.T) {
	v := newEnv(t, Options{})
	v.addTask(TaskSpec{TaskID: "dup"})
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/_emulator/tasks", `{"task_id":`, 400, "not valid JSON"},
		{"POST", "/_emulator/tasks", ``, 400, "empty"},
		{"POST", "/_emulator/tasks", `{"taskid":"x"}`, 400, `unknown field "taskid"`},
		{"POST", "/_emulator/tasks", `{"jobs":[{"after":5}]}`, 400, "jobs[0].after: must be a JSON string, got number"},
		{"POST", "/_emulator/tasks", `{"jobs":[{"after":"soon"}]}`, 400, "invalid duration"},
		{"POST", "/_emulator/tasks", `{"task_id":"dup"}`, 400, "already exists"},
		{"POST", "/_emulator/tasks", `{"task_id":"a b"}`, 400, "not allowed"},
		{"POST", "/_emulator/faults", `{"kind":"nope"}`, 400, "unknown fault kind"},
		{"POST", "/_emulator/faults", `{"kind":"delay","delay":"x"}`, 400, "invalid duration"},
		{"POST", "/_emulator/faults", `[]`, 400, "must be a JSON object"},
		{"PUT", "/_emulator/tasks", ``, 405, "needs method GET or POST"},
		{"POST", "/_emulator/requests", ``, 405, "needs method GET"},
		{"GET", "/_emulator/reset", ``, 405, "needs method POST"},
		{"GET", "/_emulator/nope", ``, 404, "no admin endpoint"},
		{"GET", "/_emulator", ``, 404, "no admin endpoint"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path+" "+c.body, func(t *testing.T) {
			r := v.admin(c.method, c.path, c.body)
			var m map[string]string
			if err := json.Unmarshal(r.body, &m); err != nil || r.status != c.status || !strings.Contains(m["error"], c.want) {
				t.Errorf("got %d %s, want %d containing %q", r.status, r.body, c.status, c.want)
			}
		})
	}
	if len(v.emu.Requests()) != 0 {
		t.Error("admin requests were recorded as API requests")
	}
}

func TestSeed(t *testing.T) {
	seed, err := ParseSeed([]byte(`{"tasks":[{"task_id":"a"},{"jobs":[{"status":2}]}],"faults":[{"kind":"empty","match":"a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Token: testToken})
	ids, err := e.ApplySeed(seed)
	if err != nil || len(ids) != 2 || ids[0] != "a" || !hex32Re.MatchString(ids[1]) || len(e.PendingFaults()) != 1 {
		t.Fatalf("ids %v err %v", ids, err)
	}
	for _, c := range []struct{ in, want string }{
		{`{"task":[]}`, `unknown field "task"`},
		{`{"tasks":{}}`, "tasks: must be a JSON array"},
		{`nope`, "not valid JSON"},
	} {
		if _, err := ParseSeed([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSeed(%s): %v, want %q", c.in, err, c.want)
		}
	}
	_, err = e.ApplySeed(Seed{Tasks: []TaskSpec{{TaskID: "b"}, {TaskID: "a"}}})
	if err == nil || !strings.Contains(err.Error(), "tasks[1]") {
		t.Errorf("duplicate: %v", err)
	}
	_, err = e.ApplySeed(Seed{Faults: []Fault{{Kind: "x"}}})
	if err == nil || !strings.Contains(err.Error(), "faults[0]") {
		t.Errorf("bad fault: %v", err)
	}
}

// TestConcurrency hammers every entry point at once; run with -race.
func TestConcurrency(t *testing.T) {
	v := newEnv(t, Options{JobDuration: time.Second})
	const workers, iters = 16, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iters {
				id := fmt.Sprintf("w%d-t%d", w, i)
				if _, err := v.emu.AddTask(TaskSpec{TaskID: id, Jobs: []JobSpec{{Status: 2, AfterPolls: 1}}}); err != nil {
					t.Error(err)
					return
				}
				if err := v.emu.AddFault(Fault{Match: id, Kind: FaultError, Status: 503}); err != nil {
					t.Error(err)
					return
				}
				statuses := []int{503, 200, 200}
				for _, want := range statuses {
					r, err := v.send(http.MethodGet, "/v1/instances/tasks/"+id, nil)
					if err != nil || r.status != want {
						t.Errorf("%s: status %d err %v, want %d", id, r.status, err, want)
						return
					}
				}
				if _, err := v.send(http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["a","b"]}`); err != nil {
					t.Error(err)
				}
				if v.emu.Reads(id) != 2 {
					t.Errorf("%s: reads %d", id, v.emu.Reads(id))
				}
				_ = v.emu.Requests()
				_ = v.emu.PendingFaults()
			}
		}()
	}
	wg.Wait()
	if got, want := len(v.emu.Requests()), workers*iters*4; got != want {
		t.Errorf("recorded %d requests, want %d", got, want)
	}
	if n := len(v.emu.PendingFaults()); n != 0 {
		t.Errorf("%d faults left", n)
	}
}

// TaskIDs lists every task, seeded or submitted, in creation order; the
// admin API serves the same list.
func TestTaskIDs(t *testing.T) {
	v := newEnv(t, Options{})
	adminIDs := func() []string {
		t.Helper()
		r := v.admin(http.MethodGet, "/_emulator/tasks", "")
		var ids []string
		if r.status != http.StatusOK || r.header.Get("Content-Type") != jsonContentType || json.Unmarshal(r.body, &ids) != nil || ids == nil {
			t.Fatalf("GET /_emulator/tasks: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		return ids
	}
	if ids := v.emu.TaskIDs(); ids == nil || len(ids) != 0 {
		t.Errorf("empty emulator: TaskIDs %#v, want empty and non-nil", ids)
	}
	if r := v.admin(http.MethodGet, "/_emulator/tasks", ""); string(r.body) != "[]" {
		t.Errorf("empty emulator: admin %s, want []", r.body)
	}

	// Ids sort differently from creation order, so the order is checked.
	want := []string{v.addTask(TaskSpec{TaskID: "zz-first"})}
	id, _ := submitData(t, v.do(http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["a"]}`))
	want = append(want, id)
	if r := v.admin(http.MethodPost, "/_emulator/tasks", `{"task_id":"aa-third"}`); r.status != http.StatusCreated {
		t.Fatalf("admin add: %d %s", r.status, r.body)
	}
	want = append(want, "aa-third")
	id, _ = submitData(t, v.do(http.MethodPost, pathInstall, validInstall()))
	want = append(want, id)
	ids, err := v.emu.ApplySeed(Seed{Tasks: []TaskSpec{{TaskID: "mm-fifth"}, {}}})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, ids...)
	// Neither a refused submit nor a failed AddTask creates a task.
	wantErr(t, v.do(http.MethodPost, pathAsync, `{"command":"","instance_ids":["a"]}`), http.StatusBadRequest, "KOOPHONE.API.1000")
	if _, err := v.emu.AddTask(TaskSpec{TaskID: "zz-first"}); err == nil {
		t.Fatal("duplicate task id accepted")
	}

	if got := v.emu.TaskIDs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("TaskIDs %v, want %v", got, want)
	}
	if got := adminIDs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("GET /_emulator/tasks %v, want %v", got, want)
	}
	// The result is a copy.
	v.emu.TaskIDs()[0] = "changed"
	if v.emu.TaskIDs()[0] != "zz-first" {
		t.Error("TaskIDs returned the emulator's own slice")
	}
	v.emu.Reset()
	if got := adminIDs(); len(got) != 0 {
		t.Errorf("after Reset: %v", got)
	}
	r := v.admin(http.MethodDelete, "/_emulator/tasks", "")
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, POST" {
		t.Errorf("DELETE: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

// Seed files and the admin API accept "process" on a fault, and refuse
// it where it would change nothing.
func TestSeedFaultProcess(t *testing.T) {
	seed, err := ParseSeed([]byte(`{"faults":[
		{"match":"/v1/instances/async-command","kind":"drop","process":true},
		{"match":"/v1/instances/app/install","kind":"error","status":502,"process":true,"count":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Token: testToken})
	if _, err := e.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	pf := e.PendingFaults()
	if len(pf) != 2 || !pf[0].Process || pf[0].Kind != FaultDrop || !pf[1].Process || pf[1].Count != 2 {
		t.Errorf("pending %+v", pf)
	}
	if b, err := json.Marshal(pf[0]); err != nil || !strings.Contains(string(b), `"process":true`) {
		t.Errorf("marshalled %s %v", b, err)
	}
	bad, err := ParseSeed([]byte(`{"faults":[{"kind":"delay","delay":"1s","process":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ApplySeed(bad); err == nil || !strings.Contains(err.Error(), "faults[0]") || !strings.Contains(err.Error(), "process") {
		t.Errorf("process on a delay fault: %v", err)
	}

	v := newEnv(t, Options{})
	if r := v.admin(http.MethodPost, "/_emulator/faults", `{"kind":"error","status":503,"process":true}`); r.status != http.StatusNoContent {
		t.Fatalf("admin fault: %d %s", r.status, r.body)
	}
	wantErr(t, v.do(http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["a"]}`), 503, "KOOPHONE.API.9999")
	if n := len(v.emu.TaskIDs()); n != 1 {
		t.Errorf("%d tasks, want the one the processed submit created", n)
	}
	if r := v.admin(http.MethodPost, "/_emulator/faults", `{"kind":"truncate","process":true}`); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "process") {
		t.Errorf("admin truncate+process: %d %s", r.status, r.body)
	}
}

// The admin API takes redirect faults and jobs listed late, with the
// checks of AddFault and AddTask.
func TestAdminRedirectAndListedLate(t *testing.T) {
	v := newEnv(t, Options{})
	v.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r := v.admin(http.MethodPost, "/_emulator/faults", `{"kind":"redirect","status":308,"location":"https://elsewhere.example/v1"}`); r.status != http.StatusNoContent {
		t.Fatalf("add redirect: %d %s", r.status, r.body)
	}
	if r := v.getTask("any"); r.status != http.StatusPermanentRedirect || r.header.Get("Location") != "https://elsewhere.example/v1" {
		t.Errorf("redirect: %d, Location %q", r.status, r.header.Get("Location"))
	}
	for body, want := range map[string]string{
		`{"kind":"redirect"}`: "location: required for kind redirect",
		`{"kind":"html","location":"https://elsewhere.example/v1"}`: "location: fault location applies only to kind redirect, not html",
	} {
		r := v.admin(http.MethodPost, "/_emulator/faults", body)
		var m map[string]string
		if err := json.Unmarshal(r.body, &m); err != nil || r.status != http.StatusBadRequest || !strings.Contains(m["error"], want) {
			t.Errorf("POST %s: %d %s, want 400 containing %q", body, r.status, r.body, want)
		}
	}

	r := v.admin(http.MethodPost, "/_emulator/tasks", `{"task_id":"late","jobs":[{"job_id":"a","status":2},{"job_id":"b","status":2,"listed_after_polls":1,"listed_after":"0s"}]}`)
	if r.status != http.StatusCreated {
		t.Fatalf("add task: %d %s", r.status, r.body)
	}
	if got := jobIDs(t, v.getTask("late")); strings.Join(got, ",") != "a" {
		t.Errorf("first read: %v, want only a", got)
	}
	if got := jobIDs(t, v.getTask("late")); strings.Join(got, ",") != "a,b" {
		t.Errorf("second read: %v, want a and b", got)
	}
	if r := v.admin(http.MethodPost, "/_emulator/tasks", `{"jobs":[{"listed_after_polls":-1}]}`); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "jobs[0].listed_after_polls: must not be negative") {
		t.Errorf("negative listed_after_polls: %d %s", r.status, r.body)
	}
}
