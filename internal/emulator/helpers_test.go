package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "s3cret-t0ken-value"

var (
	hex32Re   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	installRe = regexp.MustCompile(`^ZGCA[0-9a-f]{28}$`)
	uuidRe    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	// epoch is the time on the emulator's clock when a bubbleEnv starts.
	epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// env is an emulator behind an HTTP server, and a client of it.
type env struct {
	t      *testing.T
	emu    *Emulator
	url    string           // the server's base URL
	srv    *httptest.Server // newEnv's; nil for a bubbleEnv
	client *http.Client
	seq    atomic.Int64
}

// newEnv serves the emulator on a real socket (httptest), on the
// machine's clock, for tests that do not need time to pass.
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	emu := New(opts)
	srv := httptest.NewUnstartedServer(emu)
	srv.Config.ConnState = emu.ConnState
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, emu: emu, url: srv.URL, srv: srv, client: srv.Client()}
}

// bubbleEnv serves the emulator in memory, for tests that move time: call
// it inside synctest.Test, then time.Sleep(d) moves the emulator's clock
// by exactly d. The emulator's clock reads epoch when bubbleEnv returns
// (unless opts has a ClockOffset), so tests can assert exact times. The
// bubble's cleanup closes the client's connections, then the server.
func bubbleEnv(t *testing.T, opts Options) *env {
	t.Helper()
	if opts.Token == "" && opts.AccessKey == "" {
		opts.Token = testToken
	}
	if opts.ClockOffset == 0 {
		opts.ClockOffset = atEpoch()
	}
	emu := New(opts)
	srv := ServeInMemory(emu)
	tr := &http.Transport{DialContext: srv.DialContext}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return &env{t: t, emu: emu, url: InMemoryURL, client: &http.Client{Transport: tr}}
}

// atEpoch is the ClockOffset that sets the emulator's clock to epoch now.
// Inside a synctest bubble, where time.Now starts at 2000-01-01 00:00 UTC
// and only moves when the test lets it, the offset is exact.
func atEpoch() time.Duration { return time.Until(epoch) }

// resp is a fully read response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// obj decodes the body as a JSON object, failing the test if it is not.
func (r resp) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// reqOpt tweaks a request before it is sent.
type reqOpt func(*http.Request)

func noToken() reqOpt           { return func(r *http.Request) { r.Header.Del("X-Auth-Token") } }
func noRequestID() reqOpt       { return func(r *http.Request) { r.Header.Del("X-Request-Id") } }
func withToken(v string) reqOpt { return func(r *http.Request) { r.Header.Set("X-Auth-Token", v) } }
func withHeader(k, v string) reqOpt {
	return func(r *http.Request) { r.Header[k] = []string{v} } // raw key: sent exactly as spelt
}

// do sends an authenticated request with a fresh x-request-id.
func (v *env) do(method, path string, body any, opts ...reqOpt) resp {
	v.t.Helper()
	r, err := v.send(method, path, body, opts...)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (v *env) send(method, path string, body any, opts ...reqOpt) (resp, error) {
	req := v.newRequest(method, path, body, opts...)
	res, err := v.client.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}, err
}

func (v *env) newRequest(method, path string, body any, opts ...reqOpt) *http.Request {
	v.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		rd = bytes.NewReader(mustJSON(v.t, b))
	}
	req, err := http.NewRequest(method, v.url+path, rd)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", testToken)
	req.Header.Set("X-Request-Id", fmt.Sprintf("req-%d", v.seq.Add(1)))
	req.Header.Set("User-Agent", "emulator-test/1.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	return req
}

func (v *env) getTask(id string, opts ...reqOpt) resp {
	v.t.Helper()
	return v.do(http.MethodGet, "/v1/instances/tasks/"+id, nil, opts...)
}

func (v *env) addTask(spec TaskSpec) string {
	v.t.Helper()
	id, err := v.emu.AddTask(spec)
	if err != nil {
		v.t.Fatalf("AddTask: %v", err)
	}
	return id
}

func (v *env) addFault(f Fault) {
	v.t.Helper()
	if err := v.emu.AddFault(f); err != nil {
		v.t.Fatalf("AddFault: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jobsOf returns data.jobs of a successful task response.
func jobsOf(t *testing.T, r resp) []map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	m := r.obj(t)
	if m["error_code"] != "0" || m["error_msg"] != "ok" {
		t.Fatalf("envelope %v, want error_code 0 / ok", m)
	}
	data, ok := m["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data object: %s", r.body)
	}
	raw, ok := data["jobs"].([]any)
	if !ok {
		t.Fatalf("data.jobs is not an array: %s", r.body)
	}
	out := make([]map[string]any, len(raw))
	for i, j := range raw {
		jm, ok := j.(map[string]any)
		if !ok {
			t.Fatalf("job %d is not an object: %s", i, r.body)
		}
		out[i] = jm
	}
	return out
}

// jobIDs returns the job_id of each job a task query lists, in order.
func jobIDs(t *testing.T, r resp) []string {
	t.Helper()
	var ids []string
	for _, j := range jobsOf(t, r) {
		ids = append(ids, str(t, j["job_id"]))
	}
	return ids
}

// listedJobs returns the jobs of a successful task response as
// "job_id:status", in order, separated by spaces.
func listedJobs(t *testing.T, r resp) string {
	t.Helper()
	var jobs []string
	for _, j := range jobsOf(t, r) {
		jobs = append(jobs, fmt.Sprintf("%s:%v", j["job_id"], j["status"]))
	}
	return strings.Join(jobs, " ")
}

// wantErr asserts an error envelope with the given HTTP status and code.
func wantErr(t *testing.T, r resp, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	m := r.obj(t)
	if m["error_code"] != code {
		t.Fatalf("error_code %v, want %s: %s", m["error_code"], code, r.body)
	}
	if msg, _ := m["error_msg"].(string); msg == "" {
		t.Fatalf("empty error_msg: %s", r.body)
	}
	if _, has := m["data"]; has {
		t.Fatalf("error envelope has data: %s", r.body)
	}
	return m
}

// waitFor polls cond for up to 5s of real time (normally a few ms).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func lastRequest(t *testing.T, e *Emulator) Request {
	t.Helper()
	reqs := e.Requests()
	if len(reqs) == 0 {
		t.Fatal("no requests recorded")
	}
	return reqs[len(reqs)-1]
}

func sp(s string) *string { return &s }

// str returns v as a string, failing the test if it is not one.
func str(t *testing.T, v any) string {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%v (%T) is not a string", v, v)
	}
	return s
}

// seedRule applies a seed of a command rule and then rule to a new
// emulator, and fails t unless the error starts with want ("" for none).
func seedRule(t *testing.T, rule, want string) *Emulator {
	t.Helper()
	e := New(Options{Token: testToken})
	seed, err := ParseSeed([]byte(`{"rules":[{"kind":"command","status":2},` + rule + `]}`))
	if err == nil {
		_, err = e.ApplySeed(seed)
	}
	switch {
	case want == "" && err != nil:
		t.Fatalf("a valid rule: %v", err)
	case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
		t.Fatalf("err %v\nwant it to start with %s", err, want)
	}
	return e
}
