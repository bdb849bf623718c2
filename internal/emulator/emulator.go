// Package emulator is a fake of the KooPhone REST API (the parts the
// provider uses: task query, async command, app install, phone list, app
// list, and the phone operations reboot, reset and status query, see
// phoneops.go). It exists so the provider's tests, `make demo` and users testing their own
// modules (through cmd/koophone-emulator) can exercise the real HTTP
// client against a server that speaks the documented wire format,
// including its odd corners (business errors with HTTP 200, JSON null
// fields, gateway errors), and so tests can decide how submitted jobs end
// (rules) and inject failures (faults).
//
// The emulator reads the time from package time (shifted by
// Options.ClockOffset). Tests that need time to pass drive it in a
// testing/synctest bubble, whose fake clock advances only when every
// goroutine of the bubble is blocked: there, a job that takes an hour is
// final after time.Sleep(time.Hour), which returns at once. They serve it
// with ServeInMemory, as a goroutine waiting on a real socket is not
// durably blocked and would stop the bubble's clock.
//
// The emulator deliberately does not import the provider's client package:
// it has its own wire structs, so a decoding bug in the client cannot be
// hidden by sharing types with the fake.
//
// Every request to a path outside /_emulator/ is an "API request": it is
// routed, authenticated, possibly given a fault, checked for x-request-id,
// then handled, in that order, and recorded for Requests. Paths under
// /_emulator/ form an unauthenticated admin API for scripts (see
// ServeHTTP).
package emulator

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Job status values as the real API reports them in data.jobs[].status:
// command jobs use 1, 2 and -1; app-install jobs 0, 1, 2 and 3. They are
// exported so tests can build TaskSpecs without magic numbers.
const (
	// StatusPending marks an app-install job that has not started yet. As
	// a JobSpec final status it means "never starts".
	StatusPending = 0
	// StatusRunning marks a job in progress. As a JobSpec final status it
	// means "never finishes", for timeout tests.
	StatusRunning = 1
	// StatusSucceeded marks a job that finished successfully.
	StatusSucceeded = 2
	// StatusInstallFailed marks an app-install job that failed.
	StatusInstallFailed = 3
	// StatusFailed marks a command job that finished with an error.
	StatusFailed = -1
)

const defaultJobDuration = 5 * time.Second

// Options configures an Emulator. Token or AccessKey (with SecretKey) is
// required; the zero value of every other field gives the behaviour most
// tests want.
type Options struct {
	// Token is the only X-Auth-Token value accepted, so tests can prove
	// the client sends its credential. Empty means tokens are refused.
	// New panics if neither Token nor AccessKey is set, because an
	// emulator that accepts anything cannot catch a missing credential.
	Token string
	// AccessKey and SecretKey, when set, make the emulator accept requests
	// signed with them (SDK-HMAC-SHA256, verified as the API gateway does,
	// X-Sdk-Date within 15 minutes of the emulator's clock, see
	// ClockOffset). Both or neither.
	AccessKey string
	SecretKey string
	// SecurityToken, when set, makes the access key temporary: signed
	// requests must carry this X-Security-Token, signed.
	SecurityToken string
	// ClockOffset is how far the emulator's clock runs ahead of the
	// machine's (negative: behind), as an API gateway whose clock is off
	// would, so tests can see what a client does when the gateway refuses
	// the date of its signatures. It shifts every time the emulator reads:
	// the X-Sdk-Date check, Request.Time, the Date header of API answers
	// and the progress of jobs (which, measured from a shifted start, does
	// not change). 0 means the machine's clock.
	ClockOffset time.Duration
	// JobDuration is how long the jobs of tasks created through the
	// public POST APIs take to finish, unless a Rule says otherwise:
	// command jobs report 1 (running) until then; app-install jobs report
	// 0 (not started) for the first half and 1 for the second, as the
	// real API's do.
	// 0 means 5s; a negative value means they finish at once.
	JobDuration time.Duration
	// Instances lists the phone ids that exist. A job submitted for any
	// other id fails with CPS0005 "Phone not found.", unless a Rule
	// decides for it. nil or empty means every id exists, unless there
	// are Phones.
	Instances []string
	// Phones are the tenant's phones, listed by GET
	// /v1/instances/batch-query in this order (see Phone). Their ids also
	// exist for submitted jobs, with those of Instances. New panics on an
	// invalid or duplicate instance_id; Seed.Phones and AddPhones add more.
	Phones []Phone
	// Logf, if set, receives one line per request (method, path, status,
	// request id, fault, wall-clock duration). It never receives the token.
	Logf func(format string, args ...any)
	// InstallResponse selects the shape of a successful app-install
	// answer, because Huawei changed it and a client must accept both:
	// InstallResponseFlat ("" means flat) or InstallResponseNested. New
	// panics on any other value. The async-command answer is always flat.
	InstallResponse string
	// ResetResponse selects the answer to POST /v1/instances/batch-reset,
	// because Huawei added a task to it and a client must handle both:
	// ResetResponseTask ("" means task) or ResetResponseNone. The phones
	// reset on the same schedule either way. New panics on any other value.
	ResetResponse string
}

// The values of Options.InstallResponse.
const (
	// InstallResponseFlat answers data: {task_id, cmd_jobs}, as the API
	// does since Huawei SDK 3.1.207 (TaskDataResult).
	InstallResponseFlat = "flat"
	// InstallResponseNested answers data: {data: {task_id, cmd_jobs}},
	// as SDK 3.1.164 to 3.1.206 describe it (RmInstallAppResp).
	InstallResponseNested = "nested"
)

// The values of Options.ResetResponse.
const (
	// ResetResponseTask answers data: {task_id: "RM_...", cmd_jobs}, as
	// the API does since Huawei SDK 3.1.198; the task is served by GET
	// /v1/instances/tasks/{task_id}.
	ResetResponseTask = "task"
	// ResetResponseNone answers without data, as older versions of the
	// API do: there is no task, only the phones' status shows the reset.
	ResetResponseNone = "none"
)

// Emulator is an http.Handler serving the fake KooPhone API plus the admin
// API. It is safe for concurrent use; create it with New.
type Emulator struct {
	token       string
	clockOffset time.Duration
	jobDuration time.Duration
	instances   map[string]bool // nil: every id exists; replaced, never updated, by AddPhones
	logf        func(format string, args ...any)

	// The AK/SK credentials accepted (see auth.go); empty when only a
	// token is.
	accessKey, secretKey, securityToken string

	// nestedInstall: answer app installs in the older nested shape.
	nestedInstall bool
	// resetNoTask: answer resets without data, as the older API does.
	resetNoTask bool

	mu    sync.Mutex
	tasks map[string]*task
	// taskOrder holds the ids of tasks in creation order, for TaskIDs
	// (tasks is a map, so it has none).
	taskOrder []string
	faults    []*Fault
	requests  []Request
	phones    []Phone // see instances.go
	rules     []rule  // see rules.go
	// phoneAt indexes phones by instance id; phoneOps holds the last
	// reboot or reset of each phone (see phoneops.go).
	phoneAt  map[string]int
	phoneOps map[string]phoneOp

	conns atomic.Int64
}

// New returns an emulator configured by opts. It panics if opts accepts no
// credential, or has an access key without its secret key (or the
// reverse), or a security token without an access key, or an unknown
// InstallResponse or ResetResponse: those are programming errors in a test or in the
// program's flag handling, which validates its flags first.
func New(opts Options) *Emulator {
	switch opts.InstallResponse {
	case "", InstallResponseFlat, InstallResponseNested:
	default:
		panic(fmt.Sprintf("emulator: Options.InstallResponse %q: want %q or %q", opts.InstallResponse, InstallResponseFlat, InstallResponseNested))
	}
	switch opts.ResetResponse {
	case "", ResetResponseTask, ResetResponseNone:
	default:
		panic(fmt.Sprintf("emulator: Options.ResetResponse %q: want %q or %q", opts.ResetResponse, ResetResponseTask, ResetResponseNone))
	}
	switch {
	case opts.Token == "" && opts.AccessKey == "" && opts.SecretKey == "":
		panic("emulator: Options.Token or Options.AccessKey must be set")
	case (opts.AccessKey == "") != (opts.SecretKey == ""):
		panic("emulator: Options.AccessKey and Options.SecretKey go together")
	case opts.SecurityToken != "" && opts.AccessKey == "":
		panic("emulator: Options.SecurityToken needs Options.AccessKey")
	}
	e := &Emulator{
		token:       opts.Token,
		clockOffset: opts.ClockOffset,
		jobDuration: opts.JobDuration,
		logf:        opts.Logf,
		tasks:       make(map[string]*task),
		phoneAt:     make(map[string]int),
		phoneOps:    make(map[string]phoneOp),
	}
	e.accessKey, e.secretKey, e.securityToken = opts.AccessKey, opts.SecretKey, opts.SecurityToken
	e.nestedInstall = opts.InstallResponse == InstallResponseNested
	e.resetNoTask = opts.ResetResponse == ResetResponseNone
	if e.jobDuration == 0 {
		e.jobDuration = defaultJobDuration
	} else if e.jobDuration < 0 {
		e.jobDuration = 0
	}
	if len(opts.Instances) > 0 {
		e.instances = make(map[string]bool, len(opts.Instances))
		for _, id := range opts.Instances {
			e.instances[id] = true
		}
	}
	if err := e.AddPhones(opts.Phones...); err != nil {
		panic(err.Error())
	}
	return e
}

// now is the time on the emulator's clock. It keeps time.Now's monotonic
// reading, so the durations measured between two readings (job progress)
// ignore changes of the machine's wall clock.
func (e *Emulator) now() time.Time { return time.Now().Add(e.clockOffset) }

// Request is the record of one API request, so tests can assert what the
// client actually sent (headers, retries, request ids) and what it got.
type Request struct {
	// Time is when the request arrived, on the emulator's clock (see
	// Options.ClockOffset), in UTC, as a gateway logs it.
	Time time.Time `json:"time"`
	// Method and Path are the HTTP method and URL path (after any
	// http.StripPrefix the handler is mounted under).
	Method string `json:"method"`
	Path   string `json:"path"`
	// RequestID is the x-request-id header the client sent; "" if none.
	RequestID string `json:"request_id"`
	// UserAgent is the client's User-Agent header.
	UserAgent string `json:"user_agent"`
	// HasToken reports whether the request carried a non-empty
	// X-Auth-Token header (right or wrong; the value is never kept).
	HasToken bool `json:"has_token"`
	// Auth is how the request authenticated (or tried to): AuthToken,
	// AuthAKSK (it had an Authorization header), or "" for neither.
	Auth string `json:"auth,omitempty"`
	// SignedHeaders lists the headers an AK/SK signature covered, as the
	// Authorization header named them (never the signature itself).
	SignedHeaders []string `json:"signed_headers,omitempty"`
	// ProjectID is the X-Project-Id header, "" if none.
	ProjectID string `json:"project_id,omitempty"`
	// Query is the raw query string, "" if none.
	Query string `json:"query,omitempty"`
	// Status is the HTTP status sent, or 0 when no response was written
	// (a drop fault, or a delay fault ended by the request's context).
	Status int `json:"status"`
	// Fault is the fault applied to this request, "" if none.
	Fault FaultKind `json:"fault,omitempty"`
}

// Requests returns a copy of the log of API requests (admin requests are
// not included), oldest first.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.requests...)
}

// Reset forgets all tasks, pending faults and recorded requests, so one
// long-lived emulator (e.g. the program behind `make demo`) can be reused
// between scenarios. The phones, the rules and the connection count are
// kept; the reboots and resets are forgotten, so each phone is back at its
// status as added.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tasks = make(map[string]*task)
	e.phoneOps = make(map[string]phoneOp)
	e.taskOrder = nil
	e.faults = nil
	e.requests = nil
}

// TaskIDs returns the ids of all tasks, seeded (AddTask, ApplySeed, the
// admin API) or submitted through the POST APIs, in the order they were
// created, so a test can prove that one submit created exactly one task
// (e.g. that a retried or failed submit did not create a second one).
func (e *Emulator) TaskIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string{}, e.taskOrder...) // [] rather than null in JSON
}

// storeTask adds t under id and notes the creation order. The caller
// holds e.mu and has made sure id is new.
func (e *Emulator) storeTask(id string, t *task) {
	e.tasks[id] = t
	e.taskOrder = append(e.taskOrder, id)
}

// ConnState counts new TCP connections. Assign it to http.Server.ConnState
// (for httptest, on an unstarted server's Config) so benchmarks can prove
// the client reuses connections.
func (e *Emulator) ConnState(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		e.conns.Add(1)
	}
}

// Connections returns how many new connections ConnState has seen.
func (e *Emulator) Connections() int { return int(e.conns.Load()) }

// ServeHTTP serves the public API (paths under /v1/) and the admin API
// (paths under /_emulator/):
//
//	POST /_emulator/tasks   TaskSpec JSON -> 201 {"task_id": "..."}
//	GET  /_emulator/tasks                 -> 200 JSON array of task ids (see TaskIDs)
//	POST /_emulator/faults  Fault JSON    -> 204
//	GET  /_emulator/requests              -> 200 JSON array of Request
//	POST /_emulator/reset                 -> 204
//
// Admin errors are {"error": "..."} with HTTP 400/404/405.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == adminPrefix[:len(adminPrefix)-1] || strings.HasPrefix(r.URL.Path, adminPrefix) {
		e.serveAdmin(w, r)
		return
	}
	start := time.Now()
	x := &exchange{
		e: e,
		rec: Request{
			Time:      e.now().UTC(),
			Method:    r.Method,
			Path:      r.URL.Path,
			RequestID: r.Header.Get("X-Request-Id"),
			UserAgent: r.UserAgent(),
			HasToken:  r.Header.Get("X-Auth-Token") != "",
			ProjectID: r.Header.Get("X-Project-Id"),
			Query:     r.URL.RawQuery,
		},
	}
	x.respID = x.rec.RequestID
	if x.respID == "" {
		x.respID = uuid.NewString()
	}
	sw := &statusWriter{ResponseWriter: w, x: x}
	defer func() {
		// Runs even when a fault aborts the handler with
		// http.ErrAbortHandler, so the request is still recorded/logged.
		x.commit(0)
		if e.logf != nil {
			fault := string(x.rec.Fault)
			if fault == "" {
				fault = "-"
			}
			e.logf("%s %s -> %d request_id=%s fault=%s %s",
				r.Method, r.URL.Path, x.rec.Status, x.respID, fault, time.Since(start).Round(time.Microsecond))
		}
	}()
	e.serveAPI(sw, r, x)
	if !x.committed {
		x.commit(http.StatusOK) // handler wrote nothing: net/http sends 200
	}
}

// exchange tracks one API request while it is served.
type exchange struct {
	e         *Emulator
	rec       Request
	respID    string // X-Request-Id of the response
	committed bool
}

// commit appends the request record with the given status. It is called
// just before the response starts, so a client that has seen the response
// always finds the request in Requests.
func (x *exchange) commit(status int) {
	if x.committed {
		return
	}
	x.committed = true
	x.rec.Status = status
	x.e.mu.Lock()
	x.e.requests = append(x.e.requests, x.rec)
	x.e.mu.Unlock()
}

// statusWriter records the request as soon as the status is known.
type statusWriter struct {
	http.ResponseWriter
	x           *exchange
	wroteHeader bool
}

func (s *statusWriter) WriteHeader(status int) {
	if !s.wroteHeader {
		s.wroteHeader = true
		s.x.commit(status)
		// The emulator's clock, which Options.ClockOffset may set apart
		// from the machine's that net/http would use: a client that
		// reads the server's time from an answer must see the gateway's.
		s.Header().Set("Date", s.x.e.now().UTC().Format(http.TimeFormat))
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

type route int

const (
	routeNone route = iota
	routeGetTask
	routeAsyncCommand
	routeInstallApp
	routeListInstances
	routeReboot
	routeReset
	routeQueryStatus
	routeAppList
)

const (
	pathTasksPrefix   = "/v1/instances/tasks/"
	pathAsyncCommand  = "/v1/instances/async-command"
	pathInstallApp    = "/v1/instances/app/install"
	pathListInstances = "/v1/instances/batch-query"
	pathReboot        = "/v1/instances/reboot"
	pathReset         = "/v1/instances/batch-reset"
	pathQueryStatus   = "/v1/instances/batch-query-status"
	// An app list is pathInstancesPrefix + instance id + pathAppListSuffix.
	pathInstancesPrefix = "/v1/instances/"
	pathAppListSuffix   = "/app-list"
)

// matchRoute maps method+path to a route and the id in its path (a task's
// or a phone's); routeNone for anything else (including the right path
// with the wrong method, as the gateway does).
func matchRoute(method, path string) (route, string) {
	switch {
	case strings.HasPrefix(path, pathTasksPrefix):
		id := path[len(pathTasksPrefix):]
		if id == "" || strings.Contains(id, "/") || method != http.MethodGet {
			return routeNone, ""
		}
		return routeGetTask, id
	case path == pathAsyncCommand && method == http.MethodPost:
		return routeAsyncCommand, ""
	case path == pathInstallApp && method == http.MethodPost:
		return routeInstallApp, ""
	case path == pathListInstances && method == http.MethodGet:
		return routeListInstances, ""
	case path == pathReboot && method == http.MethodPost:
		return routeReboot, ""
	case path == pathReset && method == http.MethodPost:
		return routeReset, ""
	case path == pathQueryStatus && method == http.MethodPost:
		return routeQueryStatus, ""
	case strings.HasPrefix(path, pathInstancesPrefix) && strings.HasSuffix(path, pathAppListSuffix) && method == http.MethodGet:
		id := strings.TrimSuffix(strings.TrimPrefix(path, pathInstancesPrefix), pathAppListSuffix)
		if id == "" || strings.Contains(id, "/") {
			return routeNone, ""
		}
		return routeAppList, id
	}
	return routeNone, ""
}

// serveAPI applies the documented check order: route, auth, fault,
// x-request-id, handler.
func (e *Emulator) serveAPI(w *statusWriter, r *http.Request, x *exchange) {
	w.Header().Set("X-Request-Id", x.respID)
	rt, pathID := matchRoute(r.Method, r.URL.Path)
	if rt == routeNone {
		writeJSON(w, http.StatusNotFound, envelope{
			ErrorCode: "APIGW.0101",
			ErrorMsg:  "The API does not exist or has not been published in the environment",
			RequestID: x.respID,
		})
		return
	}
	if f := e.authenticate(r, &x.rec); f != nil {
		msg := f.reason
		if f.code == "APIGW.0301" {
			msg = "Incorrect IAM authentication information: " + msg
		}
		writeJSON(w, f.status, envelope{ErrorCode: f.code, ErrorMsg: msg, RequestID: x.respID})
		return
	}
	if f, ok := e.takeFault(r.URL.Path, rt, pathID); ok {
		x.rec.Fault = f.Kind
		e.applyFault(w, r, x, rt, pathID, f)
		return
	}
	e.answer(w, r, rt, pathID, x.respID)
}

// answer produces the normal (fault-free) response: the x-request-id check
// and then the route's handler.
func (e *Emulator) answer(w http.ResponseWriter, r *http.Request, rt route, pathID, respID string) {
	w.Header().Set("X-Request-Id", respID)
	if r.Header.Get("X-Request-Id") == "" {
		// The real service answers this with HTTP 200.
		writeJSON(w, http.StatusOK, envelope{
			ErrorCode: "KOOPHONE.API.0002",
			ErrorMsg:  "missing request header 'x-request-id'",
		})
		return
	}
	switch rt {
	case routeGetTask:
		e.handleGetTask(w, pathID)
	case routeAsyncCommand:
		e.handleAsyncCommand(w, r, respID)
	case routeInstallApp:
		e.handleInstallApp(w, r, respID)
	case routeListInstances:
		e.handleListInstances(w, r)
	case routeReboot:
		e.handleReboot(w, r, respID)
	case routeReset:
		e.handleReset(w, r, respID)
	case routeQueryStatus:
		e.handleQueryStatus(w, r, respID)
	case routeAppList:
		e.handleAppList(w, r, pathID)
	default:
		panic(fmt.Sprintf("emulator: unhandled route %d", rt))
	}
}
