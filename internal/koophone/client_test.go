package koophone

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

const testToken = "tok-SECRET-123"

// recordingLogger keeps every log entry, to check what the client logs.
type recordingLogger struct {
	mu      sync.Mutex
	entries []string
}

func (l *recordingLogger) log(level, msg string, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fmt.Sprintf("%s %s %v", level, msg, fields))
}

func (l *recordingLogger) Debug(_ context.Context, msg string, fields map[string]any) {
	l.log("DEBUG", msg, fields)
}

func (l *recordingLogger) Warn(_ context.Context, msg string, fields map[string]any) {
	l.log("WARN", msg, fields)
}

func (l *recordingLogger) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.entries, "\n")
}

// testServer is an API server in memory (emulator.ServeInMemory) that
// answers with the responses of handlers in turn (the last one repeats) and
// records the requests it got. It works inside a synctest bubble, where a
// real socket would stop the fake clock; create it (and its clients) inside
// the bubble, whose cleanup closes both.
type testServer struct {
	// URL is the endpoint that reaches the server through dial.
	URL      string
	srv      *emulator.InMemoryServer
	mu       sync.Mutex
	requests []*http.Request
	handlers []http.HandlerFunc
}

func newTestServer(t *testing.T, handlers ...http.HandlerFunc) *testServer {
	t.Helper()
	ts := &testServer{URL: emulator.InMemoryURL, handlers: handlers}
	ts.srv = emulator.ServeInMemory(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Keep the body for the test to read after the request is over.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		kept := r.Clone(context.Background())
		kept.Body = io.NopCloser(bytes.NewReader(body))
		ts.mu.Lock()
		n := len(ts.requests)
		ts.requests = append(ts.requests, kept)
		h := ts.handlers[min(n, len(ts.handlers)-1)]
		ts.mu.Unlock()
		h(w, r)
	}))
	// Registered before any client's CloseIdleConnections, so it runs
	// after it.
	t.Cleanup(ts.srv.Close)
	return ts
}

// dial makes a client config reach the server.
func (ts *testServer) dial(c *Config) { c.Transport.DialContext = ts.srv.DialContext }

// client returns a test client of the server.
func (ts *testServer) client(t *testing.T, mutate ...func(*Config)) (*Client, *recordingLogger) {
	t.Helper()
	return newTestClient(t, ts.URL, append([]func(*Config){ts.dial}, mutate...)...)
}

func (ts *testServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.requests)
}

func (ts *testServer) request(i int) *http.Request {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.requests[i]
}

func jsonAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// mustGetTask reads a task and ends the test if it cannot.
func mustGetTask(t *testing.T, c *Client, taskID string) Task {
	t.Helper()
	task, err := c.GetTask(context.Background(), taskID)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

const okTwoJobs = `{"error_code":"0","error_msg":"ok","data":{"jobs":[` +
	`{"job_id":"j1","status":2,"error_code":"","error_msg":"","execute_msg":"done"},` +
	`{"job_id":"j2","status":-1,"error_code":"CPS0005","error_msg":"Phone not found.","execute_msg":null}]}}`

// newTestClient returns a client of endpoint with a recording logger, four
// retries and the jitter pinned at 0.5. Its pauses take fake time when it
// is used inside a synctest bubble.
func newTestClient(t *testing.T, endpoint string, mutate ...func(*Config)) (*Client, *recordingLogger) {
	t.Helper()
	logger := &recordingLogger{}
	cfg := Config{
		Endpoint:    endpoint,
		Credentials: TokenCredentials{Token: testToken},
		MaxRetries:  4,
		UserAgent:   "terraform-provider-koophone/test Terraform/1.6.6",
		Logger:      logger,
		Jitter:      func() float64 { return 0.5 },
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c, logger
}

func TestGetTaskSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", r.Header.Get("x-request-id"))
			jsonAnswer(200, okTwoJobs)(w, r)
		})
		c, _ := ts.client(t)
		task := mustGetTask(t, c, "6837531fd3f54550927b930180a706bf")
		want := []Job{
			{JobID: "j1", Status: 2, ExecuteMsg: "done"},
			{JobID: "j2", Status: -1, ErrorCode: "CPS0005", ErrorMsg: "Phone not found."},
		}
		if fmt.Sprint(task.Jobs) != fmt.Sprint(want) {
			t.Errorf("jobs = %+v, want %+v", task.Jobs, want)
		}
		if task.ID != "6837531fd3f54550927b930180a706bf" {
			t.Errorf("ID = %q", task.ID)
		}
		req := ts.request(0)
		if req.Method != http.MethodGet || req.URL.Path != "/v1/instances/tasks/6837531fd3f54550927b930180a706bf" {
			t.Errorf("request = %s %s", req.Method, req.URL.Path)
		}
		if got := req.Header.Get("X-Auth-Token"); got != testToken {
			t.Errorf("X-Auth-Token = %q", got)
		}
		if got := req.Header.Get("User-Agent"); got != "terraform-provider-koophone/test Terraform/1.6.6" {
			t.Errorf("User-Agent = %q", got)
		}
		uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
		if id := req.Header.Get("x-request-id"); !uuidRE.MatchString(id) || task.RequestID != id {
			t.Errorf("x-request-id = %q, task.RequestID = %q", id, task.RequestID)
		}
	})
}

func TestEachRequestGetsAFreshRequestID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
		c, _ := ts.client(t)
		for range 3 {
			mustGetTask(t, c, "t1")
		}
		seen := map[string]bool{}
		for i := range 3 {
			seen[ts.request(i).Header.Get("x-request-id")] = true
		}
		if len(seen) != 3 {
			t.Errorf("request ids not unique: %v", seen)
		}
	})
}

func TestEndpointPathPrefixAndTrailingSlash(t *testing.T) {
	for _, suffix := range []string{"/proxy/koophone", "/proxy/koophone/", "/", ""} {
		t.Run(suffix, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
				c, _ := newTestClient(t, ts.URL+suffix, ts.dial)
				mustGetTask(t, c, "abc_DEF-1")
				want := strings.TrimRight(suffix, "/") + "/v1/instances/tasks/abc_DEF-1"
				if got := ts.request(0).URL.Path; got != want {
					t.Errorf("path = %q, want %q", got, want)
				}
			})
		})
	}
}

func TestTaskIDIsEscapedInPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
		c, _ := ts.client(t)
		mustGetTask(t, c, "../../admin?x=1")
		if got := ts.request(0).URL.EscapedPath(); got != "/v1/instances/tasks/%2E%2E%2F%2E%2E%2Fadmin%3Fx=1" {
			t.Errorf("escaped path = %q", got)
		}
		if ts.request(0).URL.RawQuery != "" {
			t.Errorf("query leaked: %q", ts.request(0).URL.RawQuery)
		}
	})
}

func TestParseEndpoint(t *testing.T) {
	valid := []struct{ in, want string }{
		{"https://koophone.myhuaweicloud.com", "https://koophone.myhuaweicloud.com"},
		{"https://koophone.myhuaweicloud.com/", "https://koophone.myhuaweicloud.com"},
		{"http://127.0.0.1:8765", "http://127.0.0.1:8765"},
		{"https://proxy.example.com/koophone/api/", "https://proxy.example.com/koophone/api"},
	}
	for _, tc := range valid {
		u, err := ParseEndpoint(tc.in)
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
	invalid := map[string]string{
		"":                               "empty",
		"   ":                            "empty",
		"koophone.myhuaweicloud.com":     "must start with https://",
		"ftp://koophone.example":         "must start with https://",
		"https://":                       "no host",
		"https://user:pw@example.com":    "user name or password",
		"https://example.com/?a=b":       "query",
		"https://example.com/#frag":      "fragment",
		"https://exa mple.com":           "not a valid URL",
		"http://[::1":                    "not a valid URL",
		"/v1/instances/tasks":            "must start with https://",
		"https://example.com:99999999/x": "not a valid URL",
	}
	for in, want := range invalid {
		_, err := ParseEndpoint(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseEndpoint(%q) error = %v, want it to mention %q", in, err, want)
		}
		if err != nil && strings.Contains(in, "pw") && strings.Contains(err.Error(), "pw") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{Endpoint: "https://x.example", Credentials: nil}); err == nil {
		t.Error("no credentials accepted")
	}
	if _, err := New(Config{Endpoint: "x", Credentials: TokenCredentials{Token: "t"}}); err == nil {
		t.Error("bad endpoint accepted")
	}
	if _, err := New(Config{Endpoint: "https://x.example", Credentials: TokenCredentials{Token: "t"}, MaxRetries: -1}); err == nil {
		t.Error("negative retries accepted")
	}
}

// An answer with an error code is an *APIError, whether or not its HTTP
// status says so; it is not retried, and it matches its sentinel error.
func TestAPIErrorsAreClassified(t *testing.T) {
	cases := map[string]struct {
		status    int
		body      string
		code, msg string
		sentinel  error
		requestID string // "" for the client's own
	}{
		"HTTP 200 with an error code": {
			200, `{"error_code":"KOOPHONE.API.0002","error_msg":"missing request header 'x-request-id'"}`,
			"KOOPHONE.API.0002", "missing request header 'x-request-id'", nil, "",
		},
		"task not found": {
			400, `{"error_code":"KOOPHONE.API.1323","error_msg":"The app installation task does not exist."}`,
			"KOOPHONE.API.1323", "The app installation task does not exist.", ErrTaskNotFound, "",
		},
		"unauthorized, with the gateway's request id": {
			401, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"gw-req-1"}`,
			"APIGW.0301", "Incorrect IAM authentication information", ErrUnauthorized, "gw-req-1",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(tc.status, tc.body))
				c, _ := ts.client(t)
				_, err := c.GetTask(context.Background(), "t1")
				apiErr, ok := errors.AsType[*APIError](err)
				if !ok {
					t.Fatalf("err = %v, want *APIError", err)
				}
				if apiErr.HTTPStatus != tc.status || apiErr.Code != tc.code || apiErr.Message != tc.msg {
					t.Errorf("apiErr = %+v", apiErr)
				}
				for _, sentinel := range []error{ErrTaskNotFound, ErrUnauthorized} {
					if errors.Is(err, sentinel) != (sentinel == tc.sentinel) {
						t.Errorf("errors.Is(err, %v) = %v", sentinel, errors.Is(err, sentinel))
					}
				}
				if IsTransient(err) {
					t.Errorf("%v reported transient", err)
				}
				if ts.count() != 1 {
					t.Errorf("a permanent error was retried: %d requests", ts.count())
				}
				if apiErr.RequestID == "" || (tc.requestID != "" && apiErr.RequestID != tc.requestID) {
					t.Errorf("request id = %q, want %q", apiErr.RequestID, tc.requestID)
				}
			})
		})
	}
}

func TestPermanentStatusesAreNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 405, 409, 413, 501} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(status, `{"error_code":"X.1","error_msg":"no"}`))
				c, _ := ts.client(t)
				_, err := c.GetTask(context.Background(), "t")
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.HTTPStatus != status {
					t.Fatalf("err = %v", err)
				}
				if ts.count() != 1 {
					t.Errorf("%d requests, want 1", ts.count())
				}
			})
		})
	}
}

func TestTransientFailuresAreRetriedThenSucceed(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"500": jsonAnswer(500, `{"error_code":"KOOPHONE.API.9999","error_msg":"internal"}`),
		"502 html": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html><body>Bad Gateway</body></html>")
		},
		"503":                jsonAnswer(503, `{"error_code":"","error_msg":""}`),
		"504 empty":          func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(504) },
		"429":                jsonAnswer(429, `{"error_code":"APIGW.0308","error_msg":"policy user over ratelimit, limit:10, time:1 second"}`),
		"200 with 9999":      jsonAnswer(200, `{"error_code":"KOOPHONE.API.9999","error_msg":"internal"}`),
		"200 with APIGW0308": jsonAnswer(200, `{"error_code":"APIGW.0308","error_msg":"throttled"}`),
		"dropped connection": func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		},
		"truncated body": func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"error_code\":\"0\",")
			_ = buf.Flush()
			_ = conn.Close()
		},
	}
	for name, fault := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, fault, fault, jsonAnswer(200, okTwoJobs))
				c, logger := ts.client(t)
				task := mustGetTask(t, c, "t")
				if len(task.Jobs) != 2 {
					t.Errorf("jobs = %v", task.Jobs)
				}
				if ts.count() != 3 {
					t.Errorf("%d requests, want 3", ts.count())
				}
				if ids := map[string]bool{ts.request(0).Header.Get("x-request-id"): true, ts.request(1).Header.Get("x-request-id"): true}; len(ids) != 2 {
					t.Error("a retry reused the request id")
				}
				if !strings.Contains(logger.all(), "retrying") {
					t.Errorf("retry not logged:\n%s", logger.all())
				}
			})
		})
	}
}

func TestRetriesAreBoundedByMaxRetries(t *testing.T) {
	for _, maxRetries := range []int{0, 1, 4} {
		t.Run(fmt.Sprint(maxRetries), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(503, `{"error_code":"KOOPHONE.API.9999","error_msg":"down"}`))
				c, _ := ts.client(t, func(c *Config) { c.MaxRetries = maxRetries })
				_, err := c.GetTask(context.Background(), "t")
				if err == nil {
					t.Fatal("no error")
				}
				if ts.count() != maxRetries+1 {
					t.Errorf("%d requests, want %d", ts.count(), maxRetries+1)
				}
				var retryErr *RetryError
				if maxRetries > 0 && (!errors.As(err, &retryErr) || retryErr.Attempts != maxRetries+1) {
					t.Errorf("err = %v, want a RetryError of %d attempts", err, maxRetries+1)
				}
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Code != "KOOPHONE.API.9999" {
					t.Errorf("last error lost: %v", err)
				}
				if !IsTransient(err) {
					t.Error("exhausted transient error should still read as transient")
				}
			})
		})
	}
}

func TestBackoffGrowsAndHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var (
			mu    sync.Mutex
			times []time.Time
		)
		stamp := func(h http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				times = append(times, time.Now())
				mu.Unlock()
				h(w, r)
			}
		}
		httpDate := start.Add(100 * time.Second).UTC().Format(http.TimeFormat)
		ts := newTestServer(t,
			stamp(jsonAnswer(500, `{"error_code":"KOOPHONE.API.9999"}`)),
			stamp(jsonAnswer(500, `{"error_code":"KOOPHONE.API.9999"}`)),
			stamp(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				jsonAnswer(429, `{}`)(w, r)
			}),
			stamp(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", httpDate)
				jsonAnswer(503, `{}`)(w, r)
			}),
			stamp(jsonAnswer(200, okTwoJobs)),
		)
		c, _ := ts.client(t)
		mustGetTask(t, c, "t")
		var gaps []time.Duration
		for i := 1; i < len(times); i++ {
			gaps = append(gaps, times[i].Sub(times[i-1]))
		}
		// Jitter is pinned at 0.5: equal jitter gives 3/4 of the exponential step.
		// The HTTP-date is 100 s after the start and is read 8.125 s in.
		want := []time.Duration{375 * time.Millisecond, 750 * time.Millisecond, 7 * time.Second, 91875 * time.Millisecond}
		if fmt.Sprint(gaps) != fmt.Sprint(want) {
			t.Errorf("gaps between attempts = %v, want %v", gaps, want)
		}
	})
}

func TestThrottlingWithoutRetryAfterWaitsAtLeastTwoSeconds(t *testing.T) {
	c, _ := newTestClient(t, "https://x.example")
	for _, err := range []error{
		&APIError{HTTPStatus: 429},
		&APIError{HTTPStatus: 200, Code: CodeGatewayThrottled},
	} {
		if d := c.retryDelay(0, err); d < throttleMinDelay {
			t.Errorf("retryDelay(%v) = %v, want >= %v", err, d, throttleMinDelay)
		}
	}
	if d := c.retryDelay(0, &APIError{HTTPStatus: 500}); d >= throttleMinDelay {
		t.Errorf("500 delay = %v, want the short exponential step", d)
	}
	if d := c.retryDelay(30, &APIError{HTTPStatus: 500}); d > DefaultRetryMaxDelay {
		t.Errorf("delay after many attempts = %v, want it capped at %v", d, DefaultRetryMaxDelay)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 12 ", 12 * time.Second, true},
		{"999999999999", maxRetryAfter, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-30 * time.Second).Format(http.TimeFormat), 0, true},
	}
	for _, c := range cases {
		got, ok := parseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// hang answers only when the client gives up on the request.
func hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func TestRequestTimeoutIsTransient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, hang, jsonAnswer(200, okTwoJobs))
		c, _ := ts.client(t, func(c *Config) { c.RequestTimeout = 50 * time.Millisecond; c.MaxRetries = 1 })
		start := time.Now()
		task := mustGetTask(t, c, "t")
		if len(task.Jobs) != 2 || ts.count() != 2 {
			t.Errorf("jobs=%d requests=%d", len(task.Jobs), ts.count())
		}
		// The timeout, then the first backoff step (3/4 of 500 ms).
		if took := time.Since(start); took != 50*time.Millisecond+375*time.Millisecond {
			t.Errorf("took %v, want the 50ms timeout and a 375ms pause", took)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, hang)
		c, _ := ts.client(t, func(c *Config) { c.RequestTimeout = 50 * time.Millisecond; c.MaxRetries = 0 })
		_, err := c.GetTask(context.Background(), "t")
		var tErr *TransportError
		if !errors.As(err, &tErr) || !tErr.Timeout || !strings.Contains(err.Error(), "request timeout") {
			t.Fatalf("err = %v, want a timeout TransportError", err)
		}
		if !IsTransient(err) {
			t.Errorf("a timeout is not transient: %v", err)
		}
	})
}

func TestCancellationStopsRetryingAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(503, `{}`))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// A long backoff: only cancellation can end the wait.
		c, _ := ts.client(t, func(c *Config) {
			c.RetryBaseDelay = time.Hour
			c.RetryMaxDelay = time.Hour
		})
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := c.GetTask(ctx, "t")
			done <- err
		}()
		// Wait until the first answer came and the client sleeps on its backoff.
		synctest.Wait()
		if ts.count() != 1 {
			t.Fatalf("%d requests before the backoff, want 1", ts.count())
		}
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		var stopped *StoppedError
		if !errors.As(err, &stopped) || stopped.InFlight || stopped.Cause != context.Canceled || stopped.Last == nil {
			t.Errorf("err = %#v, want a StoppedError before sending, with the 503 as the last news", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("GetTask returned %v after the cancellation, want at once", waited)
		}
		if ts.count() != 1 {
			t.Errorf("%d requests after cancel", ts.count())
		}
	})
}

func TestCancellationDuringRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{}, 1)
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			started <- struct{}{}
			<-r.Context().Done()
		})
		c, _ := ts.client(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { _, err := c.GetTask(ctx, "t"); done <- err }()
		<-started
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
		var stopped *StoppedError
		if !errors.As(err, &stopped) || !stopped.InFlight || stopped.RequestID == "" {
			t.Errorf("err = %#v, want an in-flight StoppedError with the request id", err)
		}
		if ts.count() != 1 {
			t.Errorf("retried after cancellation: %d", ts.count())
		}
	})
}

func TestUndecodableResponses(t *testing.T) {
	cases := []struct {
		name, contentType, body string
		status                  int
		wantReason              string
	}{
		{"html under 200", "text/html", "<!DOCTYPE html><html><title>Login</title></html>", 200, "HTML page"},
		{"html without content type", "", "  <html>oops</html>", 200, "HTML page"},
		{"malformed json", "application/json", `{"error_code":"0","data":{"jobs":[{`, 200, "not valid KooPhone JSON"},
		{"empty", "application/json", "", 200, "empty"},
		{"not an object", "application/json", `[1,2,3]`, 200, "not valid KooPhone JSON"},
		{"no data", "application/json", `{"error_code":"0","error_msg":"ok"}`, 200, "no data member"},
		{"jobs not a list", "application/json", `{"error_code":"0","data":{"jobs":{"a":1}}}`, 200, "not a task"},
		{"status not a number", "application/json", `{"error_code":"0","data":{"jobs":[{"job_id":"a","status":"running"}]}}`, 200, "integer status"},
		{"wrong content type but JSON", "text/plain", okTwoJobs, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
					if c.contentType != "" {
						w.Header().Set("Content-Type", c.contentType)
					}
					w.WriteHeader(c.status)
					_, _ = io.WriteString(w, c.body)
				})
				cl, _ := ts.client(t)
				_, err := cl.GetTask(context.Background(), "t")
				if c.wantReason == "" {
					if err != nil {
						t.Fatalf("err = %v", err)
					}
					return
				}
				var respErr *ResponseError
				if !errors.As(err, &respErr) || !strings.Contains(respErr.Reason, c.wantReason) {
					t.Fatalf("err = %v, want a ResponseError about %q", err, c.wantReason)
				}
				if ts.count() != 1 {
					t.Errorf("a permanent decode failure was retried: %d", ts.count())
				}
				if respErr.RequestID == "" {
					t.Error("no request id")
				}
			})
		})
	}
}

func TestBodySizeLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		big := `{"error_code":"0","data":{"jobs":[{"job_id":"a","status":2,"execute_msg":"` + strings.Repeat("x", 2000) + `"}]}}`
		ts := newTestServer(t, jsonAnswer(200, big))
		c, _ := ts.client(t, func(c *Config) { c.MaxBodyBytes = 1000 })
		_, err := c.GetTask(context.Background(), "t")
		var respErr *ResponseError
		if !errors.As(err, &respErr) || !strings.Contains(respErr.Reason, "1000-byte limit") {
			t.Fatalf("err = %v", err)
		}
		if len(respErr.Excerpt) > 4*excerptMax+8 {
			t.Errorf("excerpt too long: %d bytes", len(respErr.Excerpt))
		}
		c2, _ := ts.client(t, func(c *Config) { c.MaxBodyBytes = int64(len(big)) })
		if _, err := c2.GetTask(context.Background(), "t"); err != nil {
			t.Errorf("body exactly at the limit rejected: %v", err)
		}
	})
}

func TestNullsAndOddValuesDecode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		body := `{"error_code":0,"error_msg":null,"data":{"jobs":[` +
			`{"job_id":"a","status":1,"error_code":null,"error_msg":null,"execute_msg":null},` +
			`{"job_id":"b","status":"2","error_code":"","error_msg":"","execute_msg":"ok"},` +
			`{"job_id":"c","status":7},` +
			`{"job_id":"d","status":-1,"error_code":5005,"execute_msg":"` + "\xff\xfe" + `bytes"}]}}`
		ts := newTestServer(t, jsonAnswer(200, body))
		c, _ := ts.client(t)
		task := mustGetTask(t, c, "t")
		states := []State{}
		for _, j := range task.Jobs {
			states = append(states, j.State())
		}
		if fmt.Sprint(states) != "[running successful unknown failed]" {
			t.Errorf("states = %v", states)
		}
		if task.Jobs[2].Status != 7 {
			t.Errorf("unknown status not kept: %d", task.Jobs[2].Status)
		}
		if task.Jobs[3].ErrorCode != "5005" {
			t.Errorf("numeric error code = %q", task.Jobs[3].ErrorCode)
		}
		if !strings.HasSuffix(task.Jobs[3].ExecuteMsg, "bytes") {
			t.Errorf("execute_msg = %q", task.Jobs[3].ExecuteMsg)
		}
	})
}

// A misbehaving server echoes the credentials in every way it can: no
// secret, nor any AK/SK signature, may reach an error or the log.
func TestSecretsNeverLoggedOrQuoted(t *testing.T) {
	cases := map[string]struct {
		creds      Credentials
		echoed     []string // the secrets the server quotes back
		htmlStatus int
		forbidden  []string
	}{
		"token": {TokenCredentials{Token: testToken}, []string{testToken}, 200, []string{testToken}},
		"AK/SK": {
			AKSKCredentials{AccessKey: testAK, SecretKey: testSK, SecurityToken: testST}, []string{testSK, testST}, 401,
			[]string{testSK, testST, "Signature="},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				echo := strings.Join(tc.echoed, " ")
				ts := newTestServer(t,
					jsonAnswer(500, `{"error_code":"KOOPHONE.API.9999","error_msg":"bad credentials `+echo+`"}`),
					func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Content-Type", "text/html")
						w.WriteHeader(tc.htmlStatus)
						_, _ = io.WriteString(w, "<html>"+r.Header.Get("Authorization")+" your credentials are "+echo+"</html>")
					})
				c, logger := ts.client(t, func(cfg *Config) { cfg.Credentials = tc.creds })
				_, err := c.GetTask(context.Background(), "t")
				if err == nil {
					t.Fatal("no error")
				}
				if ts.count() != 2 {
					t.Errorf("%d requests, want the 500 retried once", ts.count())
				}
				for _, secret := range tc.forbidden {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error leaks %q: %v", secret, err)
					}
					if strings.Contains(logger.all(), secret) {
						t.Errorf("log leaks %q:\n%s", secret, logger.all())
					}
				}
				if !strings.Contains(err.Error(), "[REDACTED]") {
					t.Errorf("expected a redaction marker in %v", err)
				}
			})
		})
	}
}

func TestRequestLogFields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
		c, logger := ts.client(t)
		mustGetTask(t, c, "t")
		log := logger.all()
		for _, want := range []string{"method:GET", "path:/v1/instances/tasks/t", "status:200", "attempt:1", "duration_ms:", "request_id:",
			"X-Auth-Token: [REDACTED]", "X-Request-Id: ", "User-Agent: terraform-provider-koophone/test"} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
	})
}

// A real loopback server: connection reuse needs no time, and its
// ConnState counts the TCP connections.
func TestConnectionsAreReused(t *testing.T) {
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(jsonAnswer(200, okTwoJobs))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	defer ts.Close()
	c, _ := newTestClient(t, ts.URL)
	for range 20 {
		mustGetTask(t, c, "t")
	}
	if conns.Load() != 1 {
		t.Errorf("%d connections for 20 sequential requests, want 1", conns.Load())
	}
}

// refusingEndpoint is an endpoint on which nothing listens.
func refusingEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// noBackoff makes retries immediate, for tests on a real network (outside
// a bubble) that count attempts and do not care about the pauses.
func noBackoff(c *Config) { c.RetryBaseDelay, c.RetryMaxDelay = time.Nanosecond, time.Nanosecond }

func TestConnectionRefusedIsTransient(t *testing.T) {
	c, _ := newTestClient(t, refusingEndpoint(t), noBackoff, func(c *Config) { c.MaxRetries = 2 })
	_, err := c.GetTask(context.Background(), "t")
	var tErr *TransportError
	var retryErr *RetryError
	if !errors.As(err, &tErr) || !errors.As(err, &retryErr) || retryErr.Attempts != 3 {
		t.Fatalf("err = %v", err)
	}
}

// GetTaskOnce sends one request whatever the answer: a caller that polls
// on its own schedule retries on that schedule, so a failed poll costs
// exactly one request. A throttling answer still slows the limiter.
func TestGetTaskOnceSendsOneRequest(t *testing.T) {
	for _, answer := range []http.HandlerFunc{
		jsonAnswer(503, `{"error_code":"KOOPHONE.API.9999"}`),
		jsonAnswer(429, `{"error_code":"APIGW.0308"}`),
		jsonAnswer(200, `{"error_code":"KOOPHONE.API.9999"}`),
	} {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, answer)
			lim := &countingLimiter{}
			c, _ := ts.client(t, func(c *Config) { c.Limiter = lim })
			_, err := c.GetTaskOnce(context.Background(), "t")
			if !IsTransient(err) || ts.count() != 1 {
				t.Errorf("err = %v after %d requests; want the transient error after one", err, ts.count())
			}
			var retryErr *RetryError
			if errors.As(err, &retryErr) {
				t.Errorf("err = %v: one attempt is no retry", err)
			}
			if IsThrottled(err) != (len(lim.throttles) == 1) {
				t.Errorf("throttling reported %d times for %v", len(lim.throttles), err)
			}
		})
	}
}

// However many callers there are, no more than MaxConcurrentRequests
// requests are in flight at once; the others wait for a free slot.
func TestRequestsInFlightAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const bound, callers = 3, 10
		var (
			mu             sync.Mutex
			inFlight, peak int
			release        = make(chan struct{})
		)
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			<-release
			mu.Lock()
			inFlight--
			mu.Unlock()
			jsonAnswer(200, okTwoJobs)(w, r)
		})
		c, _ := ts.client(t, func(c *Config) { c.MaxConcurrentRequests = bound })
		errc := make(chan error, callers)
		for range callers {
			go func() { _, err := c.GetTask(context.Background(), "t"); errc <- err }()
		}
		// Every caller has either reached the server or waits for a slot.
		synctest.Wait()
		if n := ts.count(); n != bound {
			t.Errorf("%d requests reached the server while %d were held, want %d", n, bound, bound)
		}
		// Let requests through one at a time.
		for range callers {
			release <- struct{}{}
		}
		for range callers {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		if peak != bound {
			t.Errorf("%d requests were in flight at once, want at most (and, under load, exactly) %d", peak, bound)
		}
	})
}

// errCreateTimeout is a deadline named by the caller, as the provider
// names a resource's timeouts.create.
var errCreateTimeout = errors.New("timeouts.create (3s) ran out")

// holdSubmit reads a submit and holds it for a minute before accepting it:
// longer than the caller waits.
func holdSubmit(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leaving
	select {
	case <-time.After(time.Minute):
		jsonAnswer(200, okSubmission)(w, r)
	case <-r.Context().Done():
	}
}

// withCreateTimeout returns a context that ends after 3 s with
// errCreateTimeout as its cause.
func withCreateTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeoutCause(context.Background(), 3*time.Second, errCreateTimeout)
	t.Cleanup(cancel)
	return ctx
}

// A deadline the caller named (context.WithTimeoutCause) is what the error
// reports, whether it ends the request in flight or while the client
// waits to send it again; only a submit stopped in flight has an unknown
// outcome. A cancellation (Ctrl-C) reports context.Canceled.
// A deadline the caller named (context.WithTimeoutCause) is what the error
// reports, whether it ends the request in flight or while the client
// waits to send it again; only a submit stopped in flight has an unknown
// outcome. A cancellation (Ctrl-C) reports context.Canceled.
func TestStoppedByTheCallersContext(t *testing.T) {
	// A throttling answer proves the API did nothing, so the submit would
	// be sent again after 10 s: the deadline or the cancellation comes first.
	throttledThenOK := []http.HandlerFunc{retryAfterAnswer(429, "10"), jsonAnswer(200, okSubmission)}
	submits := []struct {
		name     string
		handlers []http.HandlerFunc
		inFlight bool // else stopped while waiting to send it again
		cancel   bool // cancelled once the client waits, else the 3s deadline
	}{
		{"held past the deadline", []http.HandlerFunc{holdSubmit}, true, false},
		{"waiting to retry past the deadline", throttledThenOK, false, false},
		{"cancelled in flight", []http.HandlerFunc{holdSubmit}, true, true},
		{"cancelled while waiting to retry", throttledThenOK, false, true},
	}
	for _, tc := range submits {
		t.Run("submit "+tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, tc.handlers...)
				c, _ := ts.client(t)
				ctx, cause := withCreateTimeout(t), errCreateTimeout
				if tc.cancel {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(context.Background())
					defer cancel()
					cause = context.Canceled
					go func() {
						synctest.Wait() // the server holds the submit, or the client waits to send it again
						cancel()
					}()
				}
				start := time.Now()
				_, err := c.SubmitCommand(ctx, "reboot", []string{"p1"})
				if took := time.Since(start); !tc.cancel && took != 3*time.Second {
					t.Errorf("the submit returned after %v, want at the 3s deadline", took)
				}
				var stopped *StoppedError
				if !errors.As(err, &stopped) || stopped.InFlight != tc.inFlight || stopped.Cause != cause {
					t.Fatalf("err = %#v, want a *StoppedError caused by %v, in flight %v", err, cause, tc.inFlight)
				}
				unknown, isUnknown := errors.AsType[*OutcomeUnknownError](err)
				switch {
				case isUnknown != tc.inFlight:
					t.Errorf("unknown outcome is %v, want it only for a submit stopped in flight: %v", isUnknown, err)
				case tc.inFlight && (stopped.RequestID == "" || unknown.RequestID != stopped.RequestID):
					t.Errorf("stopped %+v (outcome's request id %q), want the request id", stopped, unknown.RequestID)
				case !tc.inFlight && !IsThrottled(stopped.Last):
					t.Errorf("stopped %+v, want the 429 as the last news", stopped)
				}
				if msg := err.Error(); !strings.Contains(msg, cause.Error()) || strings.Contains(msg, "in flight") != tc.inFlight {
					t.Errorf("error %q does not say that %v stopped the request, in flight %v", msg, cause, tc.inFlight)
				}
				if !errors.Is(err, cause) || (!tc.cancel && errors.Is(err, context.Canceled)) {
					t.Errorf("errors.Is(err, %v) is false, or a deadline reads as a cancellation: %v", cause, err)
				}
				if ts.count() != 1 {
					t.Errorf("%d requests, want 1", ts.count())
				}
			})
		})
	}
	t.Run("read held past the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, hang)
			c, _ := ts.client(t)
			_, err := c.GetTask(withCreateTimeout(t), "t")
			var stopped *StoppedError
			if !errors.As(err, &stopped) || !stopped.InFlight || stopped.Cause != errCreateTimeout {
				t.Fatalf("err = %#v, want an in-flight *StoppedError caused by the named deadline", err)
			}
			var unknown *OutcomeUnknownError
			if errors.As(err, &unknown) || errors.Is(err, context.Canceled) {
				t.Errorf("err = %v: a read has no unknown outcome, and a deadline is no cancellation", err)
			}
		})
	})
	t.Run("read waiting to retry past the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "10")
				jsonAnswer(503, `{"error_code":"KOOPHONE.API.9999"}`)(w, r)
			})
			c, _ := ts.client(t)
			_, err := c.GetTask(withCreateTimeout(t), "t")
			var stopped *StoppedError
			if !errors.As(err, &stopped) || stopped.InFlight || stopped.Cause != errCreateTimeout || stopped.Last == nil {
				t.Fatalf("err = %#v, want a *StoppedError before sending, caused by the named deadline", err)
			}
			if ts.count() != 1 {
				t.Errorf("%d requests, want 1", ts.count())
			}
		})
	})
}

// countingLimiter records how the client uses its limiter. It never makes
// anyone wait.
type countingLimiter struct {
	mu        sync.Mutex
	waits     int
	throttles []time.Duration
	err       error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	if l.err != nil {
		return l.err
	}
	return ctx.Err()
}

func (l *countingLimiter) Throttled(pause time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.throttles = append(l.throttles, pause)
}

func (l *countingLimiter) counts() (waits int, throttles []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits, append([]time.Duration(nil), l.throttles...)
}

func TestIsThrottled(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&APIError{HTTPStatus: 429}, true},
		{&APIError{HTTPStatus: 200, Code: CodeGatewayThrottled}, true},
		{fmt.Errorf("wrapped: %w", &APIError{HTTPStatus: 400, Code: "APIG.0308"}), true},
		{&RetryError{Attempts: 3, Last: &APIError{HTTPStatus: 429}}, true},
		{&APIError{HTTPStatus: 503, Code: CodeInternalError}, false},
		{&TransportError{Err: errors.New("reset")}, false},
		{nil, false},
	} {
		if got := IsThrottled(c.err); got != c.want {
			t.Errorf("IsThrottled(%v) = %v", c.err, got)
		}
	}
}

// Every attempt, retries included, waits for the limiter; a 429 is handed
// to the limiter instead of being slept off by the caller alone.
func TestLimiterPacesEveryAttemptAndHearsOfThrottling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ts := newTestServer(t,
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3")
				jsonAnswer(429, `{"error_code":"APIGW.0308","error_msg":"over ratelimit"}`)(w, r)
			},
			jsonAnswer(429, `{"error_code":"APIGW.0308"}`),
			jsonAnswer(503, `{"error_code":"KOOPHONE.API.9999"}`),
			jsonAnswer(200, okTwoJobs),
		)
		lim := &countingLimiter{}
		c, logger := ts.client(t, func(c *Config) { c.Limiter = lim })
		mustGetTask(t, c, "t")
		waits, throttles := lim.counts()
		if waits != 4 || ts.count() != 4 {
			t.Errorf("%d waits for %d attempts, want one each", waits, ts.count())
		}
		if fmt.Sprint(throttles) != "[3s 2s]" {
			t.Errorf("throttles reported = %v, want [3s 2s] (Retry-After, then the 2 s minimum)", throttles)
		}
		// Only the 503 (the third attempt) was backed off by the caller itself:
		// 3/4 of 2 s with the pinned jitter. The 429s were left to the limiter.
		if waited := time.Since(start); waited != 1500*time.Millisecond {
			t.Errorf("the caller slept %v on its own", waited)
		}
		if log := logger.all(); !strings.Contains(log, "every request of the provider slows down") || !strings.Contains(log, "pause_ms:3000") {
			t.Errorf("throttling not logged:\n%s", log)
		}
	})
}

func TestLimiterErrorStopsTheRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
		lim := &countingLimiter{err: context.Canceled}
		c, _ := ts.client(t, func(c *Config) { c.Limiter = lim })
		if _, err := c.GetTask(context.Background(), "t"); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
		if ts.count() != 0 {
			t.Errorf("%d requests sent without the limiter's leave", ts.count())
		}
	})
}

// With the real limiter, a 429 seen by one caller holds back another
// caller's request too, then both go at the reduced pace.
func TestThrottlingSlowsEveryCallerOfASharedLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		arrived := make(chan time.Duration, 3)
		stamp := func(h http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				h(w, r)
				arrived <- time.Since(start)
			}
		}
		ts := newTestServer(t, stamp(jsonAnswer(429, `{"error_code":"APIGW.0308"}`)), stamp(jsonAnswer(200, okTwoJobs)))
		lim, err := ratelimit.New(0)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := ts.client(t, func(c *Config) { c.Limiter = lim })
		ctx := context.Background()

		errc := make(chan error, 2)
		go func() { _, err := c.GetTask(ctx, "a"); errc <- err }()
		got := []time.Duration{<-arrived}
		// Caller a got its 429 and waits out the pause in the limiter; then
		// caller b comes, before sending anything.
		synctest.Wait()
		go func() { _, err := c.GetTask(ctx, "b"); errc <- err }()
		// The pause is the 2 s minimum for a 429 without Retry-After. Then one
		// request goes, and the other waits for its turn at half the refused
		// pace of one request per second: 2 s later.
		got = append(got, <-arrived, <-arrived)
		for range 2 {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(got) != "[0s 2s 4s]" {
			t.Errorf("requests arrived at %v, want [0s 2s 4s]", got)
		}
		if s := lim.Stats(); s.Throttles != 1 || s.SlowDowns != 1 {
			t.Errorf("limiter stats %+v, want one throttle", s)
		}
	})
}

// A 429 slows the shared limiter down even when the request is not
// retried (max_retries = 0): other requests, and the next poll, slow down.
func TestThrottlingIsReportedWithoutRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(429, `{"error_code":"APIGW.0308"}`))
		lim := &countingLimiter{}
		c, _ := ts.client(t, func(c *Config) { c.MaxRetries = 0; c.Limiter = lim })
		if _, err := c.GetTask(context.Background(), "t"); !IsThrottled(err) {
			t.Fatalf("err = %v", err)
		}
		if _, throttles := lim.counts(); len(throttles) != 1 || ts.count() != 1 {
			t.Errorf("%d throttles reported for %d requests", len(throttles), ts.count())
		}
	})
}
