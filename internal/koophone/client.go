// Package koophone is a client for the Huawei Cloud KooPhone REST API.
//
// It knows the API's wire format (the {"error_code","error_msg","data"}
// envelope, business errors returned under HTTP 200, the gateway's APIGW
// errors), authenticates every request, retries transient failures with
// backoff, and returns typed errors that callers inspect with errors.Is and
// errors.As. It has no Terraform imports: the provider turns its errors into
// diagnostics.
//
// Every request goes through one loop, Client.do: wait for a turn (a slot
// among the requests in flight, then the shared RateLimiter), send, decode
// the envelope and the data, classify the error once, and decide whether
// to send again. The retry loop is our own rather than a library's (such
// as go-retryablehttp) because its decisions need what only this package
// knows: an error can sit inside a 200 answer's data; a submit may be sent
// again only when the API certainly did not act on it; a throttling answer
// must slow every request of the provider, so a throttled retry waits for
// the shared limiter instead of sleeping on its own; and every attempt is
// signed afresh with its own x-request-id.
package koophone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"
)

// DefaultEndpoint is the published KooPhone API endpoint. It is one global
// host, with no region in its name.
const DefaultEndpoint = "https://koophone.myhuaweicloud.com"

// Defaults for Config fields left at their zero value.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxBodyBytes   = 4 << 20
	DefaultRetryBaseDelay = 500 * time.Millisecond
	DefaultRetryMaxDelay  = 30 * time.Second
	// DefaultMaxConcurrentRequests bounds the requests a Client has in
	// flight at once, whatever its callers do: a wait on a thousand tasks
	// polls them through this many connections, and the keep-alive pool
	// keeps as many.
	DefaultMaxConcurrentRequests = 16
)

// throttleMinDelay is the shortest pause after a throttling answer that
// named no Retry-After: Huawei advises waiting 2 to 5 seconds.
const throttleMinDelay = 2 * time.Second

// maxRetryAfter caps how long a server's Retry-After can hold a request.
const maxRetryAfter = 5 * time.Minute

// Config configures a Client.
type Config struct {
	// Endpoint is the base URL of the API, such as DefaultEndpoint. A path
	// prefix (for a proxy) is kept; a trailing slash is ignored.
	Endpoint string
	// Credentials authenticate every request.
	Credentials Credentials
	// RequestTimeout bounds one HTTP attempt, from sending the request to
	// reading the whole body. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxRetries is how many times a request is sent again after a
	// transient failure. Zero means no retry.
	MaxRetries int
	// UserAgent is sent on every request.
	UserAgent string
	// Transport shapes the connection: extra CAs, TLS verification,
	// proxies.
	Transport TransportOptions
	// Logger receives one entry per attempt. Nil means no logging.
	Logger Logger
	// MaxBodyBytes limits how much of a response is read. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff between
	// retries. Zero means the defaults.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// Jitter returns a random number in [0, 1) to spread retries. Nil means
	// math/rand.
	Jitter func() float64
	// Limiter paces every attempt and is told about throttling. Nil means
	// no pacing, and a throttled request backs off on its own.
	Limiter RateLimiter
	// MaxConcurrentRequests bounds the requests in flight at once; more
	// wait for a free slot, first come first served. Zero means
	// DefaultMaxConcurrentRequests.
	MaxConcurrentRequests int
}

// RateLimiter paces a Client's requests. Every attempt, retries included,
// waits for it; a throttling answer (HTTP 429, APIGW.0308), wherever in the
// answer its code sits, is reported to it, so that every caller sharing the
// limiter slows down together, and the retry then waits for the limiter
// instead of sleeping on its own. internal/ratelimit provides one.
type RateLimiter interface {
	// Wait blocks until a request may be sent, or returns ctx.Err().
	Wait(ctx context.Context) error
	// Throttled reports a throttling answer: no request should be sent for
	// pause, and the pace should slow down.
	Throttled(pause time.Duration)
}

// Logger receives the client's request log. Fields never contain
// credentials: header values that carry them are redacted.
type Logger interface {
	Debug(ctx context.Context, msg string, fields map[string]any)
	Warn(ctx context.Context, msg string, fields map[string]any)
}

type nopLogger struct{}

func (nopLogger) Debug(context.Context, string, map[string]any) {}
func (nopLogger) Warn(context.Context, string, map[string]any)  {}

// Credentials authenticate a request. Implementations must not log or
// otherwise expose what they add.
type Credentials interface {
	// Apply adds authentication to a request that is about to be sent.
	Apply(req *http.Request) error
	// Secrets returns the secret strings, so that they can be blanked out
	// of any text that quotes a response.
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
	base        *url.URL
	creds       Credentials
	httpClient  *http.Client
	timeout     time.Duration
	maxRetries  int
	userAgent   string
	logger      Logger
	maxBody     int64
	baseDelay   time.Duration
	maxDelay    time.Duration
	jitter      func() float64
	limiter     RateLimiter
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
	orDefault := func(v, d time.Duration) time.Duration {
		if v <= 0 {
			return d
		}
		return v
	}
	c := &Client{
		base:       base,
		creds:      cfg.Credentials,
		timeout:    orDefault(cfg.RequestTimeout, DefaultRequestTimeout),
		maxRetries: cfg.MaxRetries,
		userAgent:  cfg.UserAgent,
		logger:     cfg.Logger,
		maxBody:    cfg.MaxBodyBytes,
		baseDelay:  orDefault(cfg.RetryBaseDelay, DefaultRetryBaseDelay),
		maxDelay:   orDefault(cfg.RetryMaxDelay, DefaultRetryMaxDelay),
		jitter:     cfg.Jitter,
		limiter:    cfg.Limiter,
	}
	if cfg.MaxConcurrentRequests <= 0 {
		cfg.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	c.slots = semaphore.NewWeighted(int64(cfg.MaxConcurrentRequests))
	transport, err := newTransport(cfg.Transport, cfg.MaxConcurrentRequests)
	if err != nil {
		return nil, fmt.Errorf("invalid CA certificates: %w", err)
	}
	c.httpClient = &http.Client{
		Transport: transport,
		// The KooPhone API never redirects. Following a redirect would
		// send the credentials (and a submit's body, on 307 and 308) to
		// wherever Location points: the 3xx answer is returned as it is
		// and becomes a RedirectError.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if c.logger == nil {
		c.logger = nopLogger{}
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.jitter == nil {
		c.jitter = rand.Float64
	}
	c.redactables = c.creds.Secrets()
	return c, nil
}

// CloseIdleConnections closes the keep-alive connections of the client's
// pool; a later request opens a new one.
func (c *Client) CloseIdleConnections() { c.httpClient.CloseIdleConnections() }

// ParseEndpoint checks that endpoint is an absolute http or https URL with a
// host and nothing that cannot belong to a base URL, and returns it without
// a trailing slash. Its error says what is wrong, for use in diagnostics.
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
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// Endpoint returns the base URL the client calls.
func (c *Client) Endpoint() string { return c.base.String() }

// GetTask reads one task: GET /v1/instances/tasks/{task_id}, retrying
// transient failures up to the client's MaxRetries. An unknown task gives
// an error that matches ErrTaskNotFound.
func (c *Client) GetTask(ctx context.Context, taskID string) (Task, error) {
	return c.getTask(ctx, taskID, c.maxRetries)
}

// GetTaskOnce is GetTask with one attempt and no retry, for callers that
// poll on a schedule of their own and retry on it: one call, one request.
// A throttling answer still slows the Limiter down.
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

// call is one API call: what to send, whether sending it twice is safe,
// and how to read the data of a successful answer.
type call struct {
	method string
	// path is the segments after the endpoint, each escaped on its own.
	path []string
	// query, when set, gives the raw query string of an attempt from its
	// x-request-id, for APIs that want the id in the query too.
	query func(requestID string) string
	// body is the JSON request body; nil for none.
	body []byte
	// submit marks a call that creates work and is not idempotent: it is
	// sent again only when the API certainly did not act on it (see
	// retryable), and a failure after which the API may have acted ends in
	// an *OutcomeUnknownError.
	submit bool
	// data reads the data member of an answer whose error_code is "0". An
	// *APIError it returns (an error code inside data) is classified and
	// retried like one at the top level; any other error is an answer that
	// cannot be read (a *ResponseError).
	data func(raw json.RawMessage) error
}

// do sends r, retrying transient failures up to retries times, and returns
// the request id of the last attempt.
func (c *Client) do(ctx context.Context, r call, retries int) (string, error) {
	target := c.resolve(r.path...)
	var last error
	for n := 0; ; n++ {
		reqID, sent, err := c.attempt(ctx, r, target, n)
		if err == nil {
			return reqID, nil
		}
		if ctx.Err() != nil {
			// The caller's deadline or cancellation ended the request,
			// possibly just as this attempt failed: that is the outcome.
			if reqID == "" {
				reqID = RequestIDOf(last)
			}
			return reqID, c.outcome(r, &StoppedError{Cause: context.Cause(ctx), InFlight: sent, Last: last, RequestID: reqID})
		}
		last = err
		delay := c.retryDelay(n, err)
		throttled := c.limiter != nil && IsThrottled(err)
		if throttled {
			// Slow every request of the provider down, not just this one,
			// whether or not this one is retried; a retry then waits for
			// the limiter like any other request.
			c.limiter.Throttled(delay)
		}
		fields := map[string]any{
			"method": r.method, "path": target.Path, "attempt": n + 1, "error": err.Error(), "request_id": reqID,
			"pause_ms": delay.Milliseconds(),
		}
		if throttled {
			c.logger.Warn(ctx, "KooPhone API throttled the request; every request of the provider slows down", fields)
		}
		if !retryable(r, err) {
			return reqID, c.outcome(r, err)
		}
		if n >= retries {
			if retries > 0 {
				err = &RetryError{Attempts: n + 1, Last: err}
			}
			return reqID, c.outcome(r, err)
		}
		if throttled {
			continue
		}
		c.logger.Warn(ctx, "KooPhone request failed transiently; retrying", fields)
		if !sleep(ctx, delay) {
			return reqID, c.outcome(r, &StoppedError{Cause: context.Cause(ctx), Last: err, RequestID: reqID})
		}
	}
}

// outcome turns the final error of a submit after which the API may have
// acted into an *OutcomeUnknownError.
func (c *Client) outcome(r call, err error) error {
	if r.submit && mayHaveActed(err) {
		return &OutcomeUnknownError{RequestID: RequestIDOf(err), Err: err}
	}
	return err
}

// sleep pauses for d, or until ctx ends; it reports whether the whole
// pause passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return ctx.Err() == nil
	}
}

// resolve appends path segments to the endpoint, escaping each one. Unlike
// url.JoinPath it does not clean the result, so a segment such as ".." stays
// a literal (escaped) name and can never climb out of the API's path.
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
// reports whether the API may have received the request: false when it
// failed before a connection was handed to it.
func (c *Client) attempt(ctx context.Context, r call, target *url.URL, n int) (reqID string, sent bool, err error) {
	if err := c.slots.Acquire(ctx, 1); err != nil {
		return "", false, err
	}
	defer c.slots.Release(1)
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return "", false, err
		}
	}

	reqID = uuid.NewString()
	start := time.Now()
	// The body is not logged: a command may carry anything its author put
	// in it, secrets included.
	fields := map[string]any{"method": r.method, "path": target.Path, "attempt": n + 1, "request_bytes": len(r.body)}
	defer func() {
		fields["request_id"] = reqID
		fields["duration_ms"] = time.Since(start).Milliseconds()
		if err != nil {
			fields["error"] = err.Error()
		}
		c.logger.Debug(ctx, "KooPhone request", fields)
	}()

	attemptCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// A connection handed to the request is the point after which the API
	// may have received it. Only a submit needs to know (a read is sent
	// again either way), so only a submit pays for the trace.
	var gotConn atomic.Bool
	if r.submit {
		attemptCtx = httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) },
		})
	} else {
		gotConn.Store(true)
	}
	u := *target
	if r.query != nil {
		u.RawQuery = r.query(reqID)
	}
	var payload io.Reader
	if r.body != nil {
		payload = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(attemptCtx, r.method, u.String(), payload)
	if err != nil {
		return reqID, false, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	req.Header.Set("x-request-id", reqID)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if err := c.creds.Apply(req); err != nil {
		return reqID, false, err
	}
	fields["request_headers"] = redactedHeaders(req.Header)
	redactables := withSignature(c.redactables, req)

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
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	fields["response_bytes"] = len(body)
	if err != nil {
		return reqID, true, c.transportFailure("read response body", reqID, ctx, attemptCtx, err, false)
	}
	contentType := resp.Header.Get("Content-Type")
	if int64(len(body)) > c.maxBody {
		return reqID, true, &ResponseError{
			HTTPStatus: resp.StatusCode, ContentType: contentType,
			Reason:    fmt.Sprintf("the body is larger than the %d-byte limit", c.maxBody),
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
	if r.data != nil {
		if err := r.data(env.Data); err != nil {
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				apiErr.RequestID, apiErr.Message = reqID, redact(apiErr.Message, redactables)
				return reqID, true, apiErr
			}
			return reqID, true, &ResponseError{HTTPStatus: resp.StatusCode, Reason: err.Error(), RequestID: reqID}
		}
	}
	return reqID, true, nil
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
		op = fmt.Sprintf("%s; no complete answer within the %s request timeout", op, c.timeout)
	}
	return &TransportError{
		Op: op, RequestID: reqID, Timeout: timeout, Certificate: IsCertificateError(err), NotSent: notSent, Err: unwrapURLError(err),
	}
}

// retryDelay is the pause before retry number attempt+1: the server's
// Retry-After when it gave one, else exponential backoff with jitter.
func (c *Client) retryDelay(attempt int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if d, ok := parseRetryAfter(apiErr.RetryAfter, time.Now()); ok {
			return min(d, maxRetryAfter)
		}
	}
	d := c.baseDelay << min(attempt, 20)
	if d <= 0 || d > c.maxDelay {
		d = c.maxDelay
	}
	// "Equal jitter": keep half the backoff, randomise the other half, so
	// clients that failed together do not retry together.
	d = d/2 + time.Duration(c.jitter()*float64(d/2))
	if IsThrottled(err) && d < throttleMinDelay {
		d = throttleMinDelay
	}
	return d
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// credentialHeaders are request headers whose values are secrets or are
// derived from them; the request log shows that they were sent, not what
// they held.
var credentialHeaders = map[string]bool{
	"X-Auth-Token":     true,
	"Authorization":    true,
	"X-Security-Token": true,
	"X-Subject-Token":  true,
	"Cookie":           true,
}

// redactedHeaders renders request headers for the log, one "Name: value"
// per header in name order, with credential values replaced.
func redactedHeaders(h http.Header) string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
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
