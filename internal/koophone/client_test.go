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
		task, err := c.GetTask(context.Background(), "6837531fd3f54550927b930180a706bf")
		if err != nil {
			t.Fatalf("GetTask: %v", err)
		}
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
			if _, err := c.GetTask(context.Background(), "t1"); err != nil {
				t.Fatal(err)
			}
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
				if _, err := c.GetTask(context.Background(), "abc_DEF-1"); err != nil {
					t.Fatal(err)
				}
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
		if _, err := c.GetTask(context.Background(), "../../admin?x=1"); err != nil {
			t.Fatal(err)
		}
		if got := ts.request(0).URL.EscapedPath(); got != "/v1/instances/tasks/%2E%2E%2F%2E%2E%2Fadmin%3Fx=1" {
			t.Errorf("escaped path = %q", got)
		}
		if ts.request(0).URL.RawQuery != "" {
			t.Errorf("query leaked: %q", ts.request(0).URL.RawQuery)
		}
	})
}

func TestParseEndpoint(t *testing.T) {
	valid := map[string]string{
		"https://koophone.myhuaweicloud.com":      "https://koophone.myhuaweicloud.com",
		"https://koophone.myhuaweicloud.com/":     "https://koophone.myhuaweicloud.com",
		"http://127.0.0.1:8765":                   "http://127.0.0.1:8765",
		"https://proxy.example.com/koophone/api/": "https://proxy.example.com/koophone/api",
	}
	for in, want := range valid {
		u, err := ParseEndpoint(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %s", in, u, err, want)
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

func TestHTTP200WithErrorCodeIsAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, `{"error_code":"KOOPHONE.API.0002","error_msg":"missing request header 'x-request-id'"}`))
		c, _ := ts.client(t)
		_, err := c.GetTask(context.Background(), "t1")
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("err = %v, want *APIError", err)
		}
		if apiErr.HTTPStatus != 200 || apiErr.Code != "KOOPHONE.API.0002" || !strings.Contains(apiErr.Message, "x-request-id") {
			t.Errorf("apiErr = %+v", apiErr)
		}
		if ts.count() != 1 {
			t.Errorf("a permanent error was retried: %d requests", ts.count())
		}
		if IsTransient(err) {
			t.Error("KOOPHONE.API.0002 reported transient")
		}
	})
}

func TestTaskNotFound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(400, `{"error_code":"KOOPHONE.API.1323","error_msg":"The app installation task does not exist."}`))
		c, _ := ts.client(t)
		_, err := c.GetTask(context.Background(), "nope")
		if !errors.Is(err, ErrTaskNotFound) {
			t.Fatalf("err = %v, want ErrTaskNotFound", err)
		}
		if errors.Is(err, ErrUnauthorized) || IsTransient(err) {
			t.Errorf("not-found misclassified: %v", err)
		}
		if ts.count() != 1 {
			t.Errorf("not found was retried: %d requests", ts.count())
		}
		if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.RequestID == "" {
			t.Error("no request id in the error")
		}
	})
}

func TestUnauthorized(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(401, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"gw-req-1"}`))
		c, _ := ts.client(t)
		_, err := c.GetTask(context.Background(), "t")
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("err = %v, want ErrUnauthorized", err)
		}
		if apiErr, _ := errors.AsType[*APIError](err); apiErr.RequestID != "gw-req-1" {
			t.Errorf("request id = %q, want the gateway's", apiErr.RequestID)
		}
		if ts.count() != 1 {
			t.Errorf("401 retried")
		}
	})
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
				task, err := c.GetTask(context.Background(), "t")
				if err != nil {
					t.Fatalf("GetTask: %v", err)
				}
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
		if _, err := c.GetTask(context.Background(), "t"); err != nil {
			t.Fatal(err)
		}
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
		task, err := c.GetTask(context.Background(), "t")
		if err != nil {
			t.Fatalf("GetTask: %v", err)
		}
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
		task, err := c.GetTask(context.Background(), "t")
		if err != nil {
			t.Fatal(err)
		}
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

func TestSecretsNeverLoggedOrQuoted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A misbehaving server that echoes the token in every way it can.
		ts := newTestServer(t,
			jsonAnswer(500, `{"error_code":"KOOPHONE.API.9999","error_msg":"bad token `+testToken+`"}`),
			func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(200)
				_, _ = io.WriteString(w, "<html>your token is "+testToken+"</html>")
			})
		c, logger := ts.client(t)
		_, err := c.GetTask(context.Background(), "t")
		if err == nil {
			t.Fatal("no error")
		}
		if ts.count() != 2 {
			t.Errorf("%d requests, want the 500 retried once", ts.count())
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error leaks the token: %v", err)
		}
		if strings.Contains(logger.all(), testToken) {
			t.Errorf("log leaks the token:\n%s", logger.all())
		}
		if !strings.Contains(err.Error(), "[REDACTED]") {
			t.Errorf("expected a redaction marker in %v", err)
		}
	})
}

func TestRequestLogFields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
		c, logger := ts.client(t)
		if _, err := c.GetTask(context.Background(), "t"); err != nil {
			t.Fatal(err)
		}
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
		if _, err := c.GetTask(context.Background(), "t"); err != nil {
			t.Fatal(err)
		}
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
