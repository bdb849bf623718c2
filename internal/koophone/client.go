// Package koophone is a client for the Huawei Cloud KooPhone REST API. It
// knows the API's envelope (business errors come under HTTP 200, gateway
// errors as APIGW codes), authenticates and retries requests, and returns
// typed errors. It has no Terraform imports.
//
// The retry loop (Client.do) is our own rather than a library's (such as
// go-retryablehttp) because its decisions need what only this package
// knows: an error can sit inside a 200 answer's data; a submit may be sent
// again only when the API certainly did not act on it; a throttled retry
// waits for the limiter that the whole provider shares; and every attempt is
// signed afresh with its own x-request-id.
package koophone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"
)

const (
	// DefaultEndpoint is the published KooPhone API endpoint: one global
	// host, with no region in its name.
	DefaultEndpoint = "https://koophone.myhuaweicloud.com"

	// Defaults for Config fields left at zero.
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxBodyBytes   = 4 << 20
	DefaultRetryBaseDelay = 500 * time.Millisecond
	DefaultRetryMaxDelay  = 30 * time.Second
	// DefaultMaxConcurrentRequests bounds the requests in flight whatever
	// the callers do (a wait on a thousand tasks polls through this many
	// connections), and the keep-alive pool keeps as many.
	DefaultMaxConcurrentRequests = 16

	// throttleMinDelay is the pause after a throttling answer without
	// Retry-After: Huawei advises waiting 2 to 5 seconds.
	throttleMinDelay = 2 * time.Second
	// maxRetryAfter caps how long a server's Retry-After can hold a request.
	maxRetryAfter = 5 * time.Minute
)

// Config configures a Client. Zero durations and sizes mean the defaults.
type Config struct {
	// Endpoint is the base URL of the API. A path prefix (for a proxy) is
	// kept; a trailing slash is ignored.
	Endpoint       string
	Credentials    Credentials
	RequestTimeout time.Duration // one attempt, until the whole body is read
	MaxRetries     int           // resends after a transient failure
	UserAgent      string
	Transport      TransportOptions
	Logger         Logger // one entry per attempt; nil means none
	MaxBodyBytes   int64  // how much of a response is read
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// Jitter returns a random number in [0, 1) to spread retries; nil means
	// math/rand.
	Jitter func() float64
	// Limiter paces every attempt and hears of throttling. Nil means no
	// pacing: a throttled request backs off on its own.
	Limiter RateLimiter
	// MaxConcurrentRequests bounds the requests in flight; more wait for a
	// slot, first come first served.
	MaxConcurrentRequests int
}

// RateLimiter paces a Client's requests; internal/ratelimit provides one.
// Every attempt waits for it, and every throttling answer is reported to it,
// so that all callers sharing it slow down together.
type RateLimiter interface {
	// Wait blocks until a request may be sent, or returns ctx.Err().
	Wait(ctx context.Context) error
	// Throttled asks for no request during pause, and a slower pace after.
	Throttled(pause time.Duration)
}

// Logger receives the request log. Header values that carry credentials are
// redacted before it sees them.
type Logger interface {
	Debug(ctx context.Context, msg string, fields map[string]any)
	Warn(ctx context.Context, msg string, fields map[string]any)
}

// ContextForker is a Logger that keeps state in the context, as tflog does
// (it masks secrets by rewriting the context's fields in place): the
// client gives each goroutine of one call, such as the pages of a listing
// read together, a context of its own from Fork, with key set to value in
// its entries.
type ContextForker interface {
	Fork(ctx context.Context, key string, value any) context.Context
}

// fork is ctx for one of several goroutines that log at once.
func (c *Client) fork(ctx context.Context, key string, value any) context.Context {
	if f, ok := c.cfg.Logger.(ContextForker); ok {
		return f.Fork(ctx, key, value)
	}
	return ctx
}

type nopLogger struct{}

func (nopLogger) Debug(context.Context, string, map[string]any) {}
func (nopLogger) Warn(context.Context, string, map[string]any)  {}

// Credentials authenticate a request and must not expose what they add.
type Credentials interface {
	// Apply adds authentication to a request about to be sent.
	Apply(req *http.Request) error
	// Secrets are blanked out of any text that quotes a response.
	Secrets() []string
}

// TokenCredentials authenticate with an IAM token in X-Auth-Token.
type TokenCredentials struct {
	Token string
}

// Apply sets X-Auth-Token.
func (t TokenCredentials) Apply(req *http.Request) error {
	if t.Token == "" {
		return errors.New("no KooPhone token configured")
	}
	req.Header.Set("X-Auth-Token", t.Token)
	return nil
}

// Secrets returns the token.
func (t TokenCredentials) Secrets() []string { return []string{t.Token} }

// Client calls the KooPhone API. It is safe for concurrent use.
type Client struct {
	cfg         Config // defaults filled in
	base        *url.URL
	httpClient  *http.Client
	slots       *semaphore.Weighted
	redactables []string
}

// New returns a client for cfg. It fails when the endpoint is not an
// absolute http(s) URL or no credentials are given.
func New(cfg Config) (*Client, error) {
	base, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.Credentials == nil {
		return nil, errors.New("no KooPhone credentials configured")
	}
	if cfg.MaxRetries < 0 {
		return nil, fmt.Errorf("max retries must not be negative, got %d", cfg.MaxRetries)
	}
	orDefault(&cfg.RequestTimeout, DefaultRequestTimeout)
	orDefault(&cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	orDefault(&cfg.RetryBaseDelay, DefaultRetryBaseDelay)
	orDefault(&cfg.RetryMaxDelay, DefaultRetryMaxDelay)
	orDefault(&cfg.MaxConcurrentRequests, DefaultMaxConcurrentRequests)
	if cfg.Logger == nil {
		cfg.Logger = nopLogger{}
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	transport, err := newTransport(cfg.Transport, cfg.MaxConcurrentRequests)
	if err != nil {
		return nil, fmt.Errorf("invalid CA certificates: %w", err)
	}
	return &Client{
		cfg:  cfg,
		base: base,
		httpClient: &http.Client{
			Transport: transport,
			// The API never redirects, and following a redirect would send
			// the credentials (and a submit's body, on 307 and 308) wherever
			// Location points: the 3xx answer becomes a RedirectError.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		slots:       semaphore.NewWeighted(int64(cfg.MaxConcurrentRequests)),
		redactables: cfg.Credentials.Secrets(),
	}, nil
}

func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// CloseIdleConnections closes the keep-alive connections of the client's
// pool; a later request opens a new one.
func (c *Client) CloseIdleConnections() { c.httpClient.CloseIdleConnections() }

// ParseEndpoint checks that endpoint is an absolute http(s) URL with a host
// and nothing a base URL cannot hold, and returns it without a trailing
// slash. Its error is worded for diagnostics.
func ParseEndpoint(endpoint string) (*url.URL, error) {
	if strings.TrimSpace(endpoint) == "" {
		return nil, errors.New("the endpoint is empty")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("the endpoint %q is not a valid URL: %w", endpoint, unwrapURLError(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("the endpoint %q must start with https:// (or http:// for a local emulator)", endpoint)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("the endpoint %q has no host name", endpoint)
	case u.User != nil:
		return nil, errors.New("the endpoint must not contain a user name or password; configure credentials with the provider's credential arguments")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("the endpoint %q must not contain a query string", endpoint)
	case u.Fragment != "":
		return nil, fmt.Errorf("the endpoint %q must not contain a fragment", endpoint)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("the endpoint %q is not a valid URL: port %q is out of range", endpoint, port)
		}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func unwrapURLError(err error) error {
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		return urlErr.Err
	}
	return err
}

// Endpoint returns the base URL the client calls.
func (c *Client) Endpoint() string { return c.base.String() }

// GetTask reads one task (GET /v1/instances/tasks/{task_id}), retrying
// transient failures. An unknown task's error matches ErrTaskNotFound.
func (c *Client) GetTask(ctx context.Context, taskID string) (Task, error) {
	return c.getTask(ctx, taskID, c.cfg.MaxRetries)
}

// GetTaskOnce is GetTask with one request and no retry, for callers that
// poll and retry on a schedule of their own. A throttling answer still
// slows the Limiter down.
func (c *Client) GetTaskOnce(ctx context.Context, taskID string) (Task, error) {
	return c.getTask(ctx, taskID, 0)
}

func (c *Client) getTask(ctx context.Context, taskID string, retries int) (Task, error) {
	if taskID == "" {
		return Task{}, errors.New("task id is empty")
	}
	task := Task{ID: taskID}
	reqID, err := c.do(ctx, call{
		method: http.MethodGet,
		path:   []string{"v1", "instances", "tasks", taskID},
		data: func(raw json.RawMessage) (err error) {
			task.Jobs, err = decodeTaskData(raw)
			return err
		},
	}, retries)
	task.RequestID = reqID
	return task, err
}

// call is one API call.
type call struct {
	method string
	path   []string // segments after the endpoint, each escaped on its own
	// query, when set, gives an attempt's raw query string from its
	// x-request-id, for APIs that want the id in the query too.
	query func(requestID string) string
	body  []byte // JSON; nil for none
	// submit marks a call that is not idempotent: it is sent again only when
	// the API certainly did not act on it, and ends in an
	// *OutcomeUnknownError when the API may have.
	submit bool
	// data reads the data of an answer whose error_code is "0". An *APIError
	// it returns (a code inside data) is handled like a top-level one; any
	// other error makes a *ResponseError.
	data func(raw json.RawMessage) error
}

// do sends r, retrying transient failures up to retries times, and returns
// the request id of the last attempt.
func (c *Client) do(ctx context.Context, r call, retries int) (string, error) {
	target := c.resolve(r.path...)
	var (
		last   error
		lastID string
	)
	for n := 0; ; n++ {
		reqID, sent, err := c.attempt(ctx, r, target, n)
		if err == nil {
			return reqID, nil
		}
		if ctx.Err() != nil {
			// The caller's context ended the request, possibly just as this
			// attempt failed: that is the outcome.
			if reqID == "" {
				reqID = lastID
			}
			return reqID, outcome(r, reqID, &StoppedError{Cause: context.Cause(ctx), InFlight: sent, Last: last, RequestID: reqID})
		}
		last, lastID = err, reqID
		delay := c.retryDelay(n, err)
		fields := map[string]any{
			"method": r.method, "path": target.Path, "attempt": n + 1, "error": err.Error(), "request_id": reqID,
			"pause_ms": delay.Milliseconds(),
		}
		throttled := c.cfg.Limiter != nil && IsThrottled(err)
		if throttled {
			// Slow every request of the provider down, whether or not this
			// one is retried; a retry then waits for the limiter like any
			// other request instead of sleeping.
			c.cfg.Limiter.Throttled(delay)
			c.cfg.Logger.Warn(ctx, "KooPhone API throttled the request; every request of the provider slows down", fields)
		}
		if canRetry := retryable(r, err); !canRetry || n >= retries {
			if canRetry && retries > 0 {
				err = &RetryError{Attempts: n + 1, Last: err}
			}
			return reqID, outcome(r, reqID, err)
		}
		if throttled {
			continue
		}
		c.cfg.Logger.Warn(ctx, "KooPhone request failed transiently; retrying", fields)
		select {
		case <-ctx.Done():
			return reqID, outcome(r, reqID, &StoppedError{Cause: context.Cause(ctx), Last: err, RequestID: reqID})
		case <-time.After(delay):
		}
	}
}

// outcome makes the final error of a submit after which the API may have
// acted an *OutcomeUnknownError.
func outcome(r call, reqID string, err error) error {
	if r.submit && mayHaveActed(err) {
		return &OutcomeUnknownError{RequestID: reqID, Err: err}
	}
	return err
}

// resolve appends escaped path segments to the endpoint. Unlike
// url.JoinPath it does not clean the result, so a segment such as ".." stays
// a literal name and can never climb out of the API's path.
func (c *Client) resolve(segments ...string) *url.URL {
	u := *c.base
	raw, plain := c.base.EscapedPath(), c.base.Path
	for _, s := range segments {
		raw += "/" + strings.ReplaceAll(url.PathEscape(s), ".", "%2E")
		plain += "/" + s
	}
	u.Path, u.RawPath = plain, raw
	return &u
}

// attempt sends r once, when its turn comes, and reads the answer. sent
// reports whether the API may have received the request.
func (c *Client) attempt(ctx context.Context, r call, target *url.URL, n int) (reqID string, sent bool, err error) {
	if err := c.slots.Acquire(ctx, 1); err != nil {
		return "", false, err
	}
	defer c.slots.Release(1)
	if c.cfg.Limiter != nil {
		if err := c.cfg.Limiter.Wait(ctx); err != nil {
			return "", false, err
		}
	}

	reqID = uuid.NewString()
	start := time.Now()
	// The body is not logged: a command may carry secrets.
	fields := map[string]any{"method": r.method, "path": target.Path, "attempt": n + 1, "request_bytes": len(r.body)}
	defer func() {
		fields["request_id"] = reqID
		fields["duration_ms"] = time.Since(start).Milliseconds()
		if err != nil {
			fields["error"] = err.Error()
		}
		c.cfg.Logger.Debug(ctx, "KooPhone request", fields)
	}()

	attemptCtx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	// Once the request has a connection the API may have received it. Only
	// a submit needs to know, so only a submit pays for the trace.
	var gotConn atomic.Bool
	gotConn.Store(!r.submit)
	if r.submit {
		attemptCtx = httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) },
		})
	}
	req, redactables, err := c.newRequest(attemptCtx, r, target, reqID)
	if err != nil {
		return reqID, false, err
	}
	fields["request_headers"] = redactedHeaders(req.Header)

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return reqID, gotConn.Load(), c.transportFailure("send request", reqID, ctx, attemptCtx, err, !gotConn.Load())
	}
	defer resp.Body.Close()
	if id := resp.Header.Get("X-Request-Id"); id != "" {
		reqID = id
	}
	fields["status"] = resp.StatusCode
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		redirect := &RedirectError{HTTPStatus: resp.StatusCode, RequestID: reqID}
		if loc, err := resp.Location(); err == nil {
			redirect.Host = loc.Host
		}
		return reqID, true, redirect
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	fields["response_bytes"] = len(body)
	if err != nil {
		return reqID, true, c.transportFailure("read response body", reqID, ctx, attemptCtx, err, false)
	}
	contentType := resp.Header.Get("Content-Type")
	if int64(len(body)) > c.cfg.MaxBodyBytes {
		return reqID, true, &ResponseError{
			HTTPStatus: resp.StatusCode, ContentType: contentType,
			Reason:    fmt.Sprintf("the body is larger than the %d-byte limit", c.cfg.MaxBodyBytes),
			Excerpt:   safeExcerpt(body[:min(len(body), 256)], redactables),
			RequestID: reqID,
		}
	}
	env, respErr := decodeEnvelope(resp.StatusCode, contentType, body, redactables)
	if respErr != nil {
		respErr.RequestID = reqID
		return reqID, true, respErr
	}
	if env.RequestID != "" && resp.Header.Get("X-Request-Id") == "" {
		// The gateway's own id is the one its operators can look up.
		reqID = string(env.RequestID)
	}
	if env.ErrorCode != "" {
		fields["error_code"] = string(env.ErrorCode)
	}
	if code := string(env.ErrorCode); resp.StatusCode < 200 || resp.StatusCode >= 300 || (code != "" && code != CodeOK) {
		return reqID, true, &APIError{
			HTTPStatus: resp.StatusCode, Code: code, Message: redact(string(env.ErrorMsg), redactables),
			RequestID: reqID, RetryAfter: resp.Header.Get("Retry-After"),
		}
	}
	if r.data == nil {
		return reqID, true, nil
	}
	err = r.data(env.Data)
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		apiErr.RequestID, apiErr.Message = reqID, redact(apiErr.Message, redactables)
		return reqID, true, apiErr
	}
	if err != nil {
		return reqID, true, &ResponseError{HTTPStatus: resp.StatusCode, Reason: err.Error(), RequestID: reqID}
	}
	return reqID, true, nil
}

// newRequest builds and authenticates one attempt at r, and returns with it
// the strings to redact from its answer: the secrets and its signature.
func (c *Client) newRequest(ctx context.Context, r call, target *url.URL, reqID string) (*http.Request, []string, error) {
	u := *target
	if r.query != nil {
		u.RawQuery = r.query(reqID)
	}
	var payload io.Reader
	if r.body != nil {
		payload = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), payload)
	if err != nil {
		return nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	req.Header.Set("x-request-id", reqID)
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if err := c.cfg.Credentials.Apply(req); err != nil {
		return nil, nil, err
	}
	return req, withSignature(c.redactables, req), nil
}

// transportFailure classifies a failed exchange: the caller's own
// cancellation or deadline is returned as such (it is not the network's
// fault and must not be retried); anything else is a TransportError.
func (c *Client) transportFailure(op, reqID string, parent, attemptCtx context.Context, err error, notSent bool) error {
	if parentErr := parent.Err(); parentErr != nil {
		return parentErr
	}
	timeout := errors.Is(attemptCtx.Err(), context.DeadlineExceeded)
	if timeout {
		op = fmt.Sprintf("%s; no complete answer within the %s request timeout", op, c.cfg.RequestTimeout)
	}
	return &TransportError{
		Op: op, RequestID: reqID, Timeout: timeout, Certificate: IsCertificateError(err), NotSent: notSent, Err: unwrapURLError(err),
	}
}

// retryDelay is the pause before retry number attempt+1: the server's
// Retry-After when it gave one, else exponential backoff with jitter.
func (c *Client) retryDelay(attempt int, err error) time.Duration {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		if d, ok := parseRetryAfter(apiErr.RetryAfter, time.Now()); ok {
			return min(d, maxRetryAfter)
		}
	}
	d := c.cfg.RetryBaseDelay << min(attempt, 20)
	if d <= 0 || d > c.cfg.RetryMaxDelay {
		d = c.cfg.RetryMaxDelay
	}
	// "Equal jitter": half the backoff is kept, half is random, so that
	// clients that failed together do not retry together.
	d = d/2 + time.Duration(c.cfg.Jitter()*float64(d/2))
	if IsThrottled(err) && d < throttleMinDelay {
		d = throttleMinDelay
	}
	return d
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		switch {
		case secs < 0:
			return 0, false
		case secs > int64(maxRetryAfter/time.Second):
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// credentialHeaders hold secrets or values derived from them: the request
// log shows that they were sent, not what they held.
var credentialHeaders = map[string]bool{
	"X-Auth-Token":     true,
	"Authorization":    true,
	"X-Security-Token": true,
	"X-Subject-Token":  true,
	"Cookie":           true,
}

// redactedHeaders renders request headers for the log, "Name: value" in
// name order, with credential values replaced.
func redactedHeaders(h http.Header) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(h)) {
		value := strings.Join(h.Values(name), ", ")
		if credentialHeaders[http.CanonicalHeaderKey(name)] {
			value = "[REDACTED]"
		}
		parts = append(parts, name+": "+value)
	}
	return strings.Join(parts, "; ")
}

func redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}
