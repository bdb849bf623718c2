package koophone

import (
	"bytes"
	"context"
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
	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/semaphore"

	"github.com/koophone/terraform-provider-koophone/internal/clockctx"
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
	// keeps as many (see newTransport).
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
	// HTTPClient sends the requests. Nil means a new client with its own
	// connection pool, shared by every request of this Client, built from
	// Transport.
	HTTPClient *http.Client
	// Transport shapes the connection when HTTPClient is nil: extra CAs,
	// TLS verification, proxies.
	Transport TransportOptions
	// Clock times the pauses between retries. Nil means the wall clock.
	Clock clockwork.Clock
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
	// Limiter paces every attempt and is told about throttling (see
	// RateLimiter). Nil means no pacing, and a throttled request backs off
	// on its own.
	Limiter RateLimiter
	// MaxConcurrentRequests bounds the requests in flight at once; more
	// wait for a free slot, first come first served. Zero means
	// DefaultMaxConcurrentRequests.
	MaxConcurrentRequests int
}

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
	clock       clockwork.Clock
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
	if cfg.MaxConcurrentRequests <= 0 {
		cfg.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	c := &Client{
		base:       base,
		creds:      cfg.Credentials,
		httpClient: cfg.HTTPClient,
		timeout:    cfg.RequestTimeout,
		maxRetries: cfg.MaxRetries,
		userAgent:  cfg.UserAgent,
		clock:      cfg.Clock,
		logger:     cfg.Logger,
		maxBody:    cfg.MaxBodyBytes,
		baseDelay:  cfg.RetryBaseDelay,
		maxDelay:   cfg.RetryMaxDelay,
		jitter:     cfg.Jitter,
		limiter:    cfg.Limiter,
		slots:      semaphore.NewWeighted(int64(cfg.MaxConcurrentRequests)),
	}
	if c.httpClient == nil {
		transport, err := newTransport(cfg.Transport, cfg.MaxConcurrentRequests)
		if err != nil {
			return nil, fmt.Errorf("invalid CA certificates: %w", err)
		}
		c.httpClient = &http.Client{Transport: transport}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultRequestTimeout
	}
	if c.clock == nil {
		c.clock = clockwork.NewRealClock()
	}
	if c.logger == nil {
		c.logger = nopLogger{}
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.baseDelay <= 0 {
		c.baseDelay = DefaultRetryBaseDelay
	}
	if c.maxDelay <= 0 {
		c.maxDelay = DefaultRetryMaxDelay
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

func (c *Client) getTask(ctx context.Context, taskID string, maxRetries int) (Task, error) {
	if taskID == "" {
		return Task{}, errors.New("task id is empty")
	}
	env, reqID, err := c.do(ctx, http.MethodGet, c.resolve("v1", "instances", "tasks", taskID), maxRetries)
	if err != nil {
		return Task{}, err
	}
	jobs, err := decodeTaskData(env.Data)
	if err != nil {
		return Task{}, &ResponseError{HTTPStatus: http.StatusOK, Reason: err.Error(), RequestID: reqID}
	}
	return Task{ID: taskID, Jobs: jobs, RequestID: reqID}, nil
}

// resolve appends path segments to the endpoint, escaping each one. Unlike
// url.JoinPath it does not clean the result, so a segment such as ".." stays
// a literal (escaped) name and can never climb out of the API's path.
func (c *Client) resolve(segments ...string) *url.URL {
	u := *c.base
	var raw, plain strings.Builder
	raw.WriteString(c.base.EscapedPath())
	plain.WriteString(c.base.Path)
	for _, s := range segments {
		raw.WriteString("/")
		raw.WriteString(strings.ReplaceAll(url.PathEscape(s), ".", "%2E"))
		plain.WriteString("/")
		plain.WriteString(s)
	}
	u.Path = plain.String()
	u.RawPath = raw.String()
	return &u
}

// request is one API call: what to send, and whether sending it twice is
// safe.
type request struct {
	method string
	target *url.URL
	// query, when set, gives the raw query string of an attempt from its
	// x-request-id, for APIs that want the id in the query too.
	query func(requestID string) string
	// body is the JSON request body; nil for none.
	body []byte
	// submit marks a call that creates work and is not idempotent: it is
	// sent again only when the API certainly did not act on it (see
	// retryable), and an attempt that may have reached the API without an
	// answer saying what happened ends in an *OutcomeUnknownError.
	submit bool
}

// do sends a request without a body, retrying transient failures up to
// maxRetries times, and returns the decoded envelope of a successful answer
// (HTTP 2xx and error_code "0").
func (c *Client) do(ctx context.Context, method string, target *url.URL, maxRetries int) (envelope, string, error) {
	return c.send(ctx, request{method: method, target: target}, maxRetries)
}

// send is do for any request.
func (c *Client) send(ctx context.Context, r request, maxRetries int) (envelope, string, error) {
	env, reqID, err := c.sendAttempts(ctx, r, maxRetries)
	if err != nil && r.submit && mayHaveActed(err) {
		err = &OutcomeUnknownError{RequestID: reqID, Err: err}
	}
	return env, reqID, err
}

func (c *Client) sendAttempts(ctx context.Context, r request, maxRetries int) (envelope, string, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		env, reqID, err := c.paced(ctx, r, attempt)
		if err == nil {
			return env, reqID, nil
		}
		if lastErr != nil && reqID == "" {
			// Stopped while waiting for a turn: the last answer is the news.
			return envelope{}, RequestIDOf(lastErr), &waitStopped{stop: err, last: lastErr}
		}
		lastErr = err
		if ctxErr := ctx.Err(); ctxErr != nil {
			// The caller gave up (Ctrl-C or its deadline), possibly just
			// as this attempt's answer arrived: that is the outcome.
			if errors.Is(err, ctxErr) {
				return envelope{}, reqID, err
			}
			return envelope{}, reqID, &gaveUpError{ctxErr: ctxErr, last: err}
		}
		if !retryable(r, err) {
			return envelope{}, reqID, err
		}
		delay := c.retryDelay(attempt, err)
		throttled := c.limiter != nil && IsThrottled(err)
		if throttled {
			// Slow every request of the provider down, not just this one,
			// whether or not this one is retried; a retry then waits for
			// the limiter like any other request.
			c.limiter.Throttled(delay)
			c.logger.Warn(ctx, "KooPhone API throttled the request; the provider's requests slow down", map[string]any{
				"method":      r.method,
				"path":        r.target.Path,
				"attempt":     attempt + 1,
				"pause_ms":    delay.Milliseconds(),
				"error":       err.Error(),
				"request_id":  reqID,
				"retry_after": retryAfterOf(err),
			})
		}
		if attempt >= maxRetries {
			if maxRetries == 0 {
				return envelope{}, reqID, err
			}
			return envelope{}, reqID, &RetryError{Attempts: attempt + 1, Last: lastErr}
		}
		if throttled {
			continue
		}
		c.logger.Warn(ctx, "KooPhone request failed transiently; retrying", map[string]any{
			"method":      r.method,
			"path":        r.target.Path,
			"attempt":     attempt + 1,
			"retry_in_ms": delay.Milliseconds(),
			"error":       err.Error(),
		})
		if err := clockctx.Sleep(ctx, c.clock, delay); err != nil {
			return envelope{}, reqID, &waitStopped{stop: err, last: lastErr}
		}
	}
}

// paced sends one attempt once a slot among the requests in flight is free
// and the limiter lets it go. An error before the request was sent has no
// request id.
func (c *Client) paced(ctx context.Context, r request, attempt int) (envelope, string, error) {
	if err := c.slots.Acquire(ctx, 1); err != nil {
		return envelope{}, "", &notSentError{err: err}
	}
	defer c.slots.Release(1)
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return envelope{}, "", &notSentError{err: err}
		}
	}
	return c.attempt(ctx, r, attempt)
}

// attempt sends the request once and logs the exchange.
func (c *Client) attempt(ctx context.Context, r request, attempt int) (env envelope, reqID string, err error) {
	reqID = uuid.NewString()
	start := time.Now()
	// The body is not logged: a command may carry anything its author put
	// in it, secrets included.
	fields := map[string]any{"method": r.method, "path": r.target.Path, "attempt": attempt + 1, "request_bytes": len(r.body)}
	defer func() {
		fields["request_id"] = reqID
		fields["duration_ms"] = time.Since(start).Milliseconds()
		if env.ErrorCode != "" {
			fields["error_code"] = string(env.ErrorCode)
		}
		if err != nil {
			fields["error"] = err.Error()
		}
		c.logger.Debug(ctx, "KooPhone request", fields)
	}()

	attemptCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// A connection handed to the request is the point after which the API
	// may have received it; before that, a failure means it was not sent.
	// Only a submit needs to know (a read is sent again either way), so
	// only a submit pays for the trace.
	var gotConn atomic.Bool
	if r.submit {
		attemptCtx = httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) },
		})
	} else {
		gotConn.Store(true)
	}
	var payload io.Reader
	if r.body != nil {
		payload = bytes.NewReader(r.body)
	}
	target := *r.target
	if r.query != nil {
		target.RawQuery = r.query(reqID)
	}
	req, err := http.NewRequestWithContext(attemptCtx, r.method, target.String(), payload)
	if err != nil {
		return envelope{}, reqID, &notSentError{err: fmt.Errorf("build request: %w", err)}
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
		return envelope{}, reqID, &notSentError{err: err}
	}
	fields["request_headers"] = redactedHeaders(req.Header)
	redactables := withSignature(c.redactables, req)

	resp, err := c.httpClient.Do(req)
	if err != nil {
		err = c.transportFailure("send request", reqID, ctx, attemptCtx, err)
		var tErr *TransportError
		if errors.As(err, &tErr) {
			tErr.NotSent = !gotConn.Load()
		} else if !gotConn.Load() {
			err = &notSentError{err: err}
		}
		return envelope{}, reqID, err
	}
	defer resp.Body.Close()
	headerID := resp.Header.Get("X-Request-Id")
	if headerID != "" {
		reqID = headerID
	}
	fields["status"] = resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	fields["response_bytes"] = len(body)
	if err != nil {
		return envelope{}, reqID, c.transportFailure("read response body", reqID, ctx, attemptCtx, err)
	}
	if int64(len(body)) > c.maxBody {
		return envelope{}, reqID, &ResponseError{
			HTTPStatus: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Reason:    fmt.Sprintf("the body is larger than the %d-byte limit", c.maxBody),
			Excerpt:   safeExcerpt(body[:min(len(body), 256)], redactables),
			RequestID: reqID,
		}
	}
	env, err = c.interpret(resp, body, reqID, headerID != "", redactables)
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		reqID = apiErr.RequestID
	}
	return env, reqID, err
}

// interpret turns a complete response into an envelope or a typed error.
func (c *Client) interpret(resp *http.Response, body []byte, reqID string, idFromHeader bool, redactables []string) (envelope, error) {
	contentType := resp.Header.Get("Content-Type")
	env, err := decodeEnvelope(resp.StatusCode, contentType, body, redactables)
	if err != nil {
		var respErr *ResponseError
		if errors.As(err, &respErr) {
			respErr.RequestID = reqID
		}
		return env, err
	}
	if env.RequestID != "" && !idFromHeader {
		// The gateway's own id is the one its operators can look up.
		reqID = string(env.RequestID)
	}
	code := string(env.ErrorCode)
	ok2xx := resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok2xx && (code == CodeOK || code == "") {
		return env, nil
	}
	return env, &APIError{
		HTTPStatus: resp.StatusCode,
		Code:       code,
		Message:    redact(string(env.ErrorMsg), redactables),
		RequestID:  reqID,
		RetryAfter: resp.Header.Get("Retry-After"),
	}
}

// transportFailure classifies a failed exchange: the caller's own
// cancellation or deadline is returned as such (it is not the network's
// fault and must not be retried); anything else is a TransportError.
func (c *Client) transportFailure(op, reqID string, parent, attemptCtx context.Context, err error) error {
	if parentErr := parent.Err(); parentErr != nil {
		return parentErr
	}
	timeout := errors.Is(attemptCtx.Err(), context.DeadlineExceeded)
	if timeout {
		op = fmt.Sprintf("%s; no complete answer within the %s request timeout", op, c.timeout)
	}
	return &TransportError{Op: op, RequestID: reqID, Timeout: timeout, Certificate: IsCertificateError(err), Err: unwrapURLError(err)}
}

// retryDelay is the pause before retry number attempt+1: the server's
// Retry-After when it gave one, else exponential backoff with jitter.
func (c *Client) retryDelay(attempt int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if d, ok := parseRetryAfter(apiErr.RetryAfter, c.clock.Now()); ok {
			return min(d, maxRetryAfter)
		}
	}
	throttled := IsThrottled(err)
	d := c.baseDelay << min(attempt, 20)
	if d <= 0 || d > c.maxDelay {
		d = c.maxDelay
	}
	// "Equal jitter": keep half the backoff, randomise the other half, so
	// clients that failed together do not retry together.
	d = d/2 + time.Duration(c.jitter()*float64(d/2))
	if throttled && d < throttleMinDelay {
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
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
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
