package koophone

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error codes with a meaning of their own to the client.
const (
	// CodeOK is the error_code of a successful response.
	CodeOK = "0"
	// CodeTaskNotFound is returned by GET /v1/instances/tasks/{task_id} for an
	// unknown (or expired, or not yet visible) task.
	CodeTaskNotFound = "KOOPHONE.API.1323"
	// CodeInternalError is KooPhone's generic internal error; it is transient.
	CodeInternalError = "KOOPHONE.API.9999"
	// CodeMissingRequestID is returned, under HTTP 200, when x-request-id is missing.
	CodeMissingRequestID = "KOOPHONE.API.0002"
	// CodeGatewayAuth is the API gateway's answer to a bad token or signature.
	CodeGatewayAuth = "APIGW.0301"
	// CodeGatewayThrottled is the API gateway's rate-limit answer.
	CodeGatewayThrottled = "APIGW.0308"
	// CodeDedicatedGatewayThrottled is the same answer from a dedicated
	// gateway.
	CodeDedicatedGatewayThrottled = "APIG.0308"
	// CodeGatewayNotFound is the API gateway's answer to an unknown API path,
	// usually a sign of a wrong endpoint.
	CodeGatewayNotFound = "APIGW.0101"
)

// ErrTaskNotFound matches (with errors.Is) an API error saying that the task
// does not exist.
var ErrTaskNotFound = errors.New("task not found")

// ErrUnauthorized matches (with errors.Is) an API error saying that the
// credentials were rejected.
var ErrUnauthorized = errors.New("credentials rejected")

// transientStatus are HTTP statuses worth retrying.
var transientStatus = map[int]bool{
	http.StatusTooManyRequests:     true,
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
}

// APIError is an answer from the KooPhone API (or its gateway) that carries
// an error code: a non-2xx HTTP status, an HTTP 200 whose error_code is not
// "0", or an error code inside the data of an answer that has one there.
type APIError struct {
	// HTTPStatus is the HTTP status code of the response.
	HTTPStatus int
	// Code is the KooPhone or gateway error code, such as KOOPHONE.API.1323.
	// It is empty when the response had none.
	Code string
	// Message is the error_msg of the response.
	Message string
	// RequestID identifies the request for KooPhone support.
	RequestID string
	// RetryAfter is the raw Retry-After header, if any.
	RetryAfter string
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("KooPhone API error")
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	return b.String()
}

// Is lets errors.Is match the sentinel errors of this package.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrTaskNotFound:
		return e.Code == CodeTaskNotFound
	case ErrUnauthorized:
		return e.Code == CodeGatewayAuth || e.HTTPStatus == http.StatusUnauthorized
	}
	return false
}

// Throttled reports whether this is the API's rate-limit answer: HTTP 429,
// or the gateway's throttling code under any status.
func (e *APIError) Throttled() bool {
	return e.HTTPStatus == http.StatusTooManyRequests || e.Code == CodeGatewayThrottled || e.Code == CodeDedicatedGatewayThrottled
}

// Transient reports whether the request may succeed if sent again.
func (e *APIError) Transient() bool {
	return e.Throttled() || e.Code == CodeInternalError || transientStatus[e.HTTPStatus]
}

// ResponseError is a response that could not be understood: an HTML page,
// malformed or empty JSON, or a body over the size limit.
type ResponseError struct {
	// HTTPStatus is the HTTP status code of the response.
	HTTPStatus int
	// ContentType is the response's Content-Type header.
	ContentType string
	// Reason says what was wrong with the body.
	Reason string
	// Excerpt is the start of the body, shortened and made printable; it
	// never contains the credentials the client sent.
	Excerpt string
	// RequestID identifies the request.
	RequestID string
}

func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unexpected response from the KooPhone API (HTTP %d", e.HTTPStatus)
	if e.ContentType != "" {
		fmt.Fprintf(&b, ", Content-Type %q", e.ContentType)
	}
	b.WriteString("): " + e.Reason)
	if e.Excerpt != "" {
		fmt.Fprintf(&b, "; body starts with %q", e.Excerpt)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	return b.String()
}

// Transient reports whether the request may succeed if sent again: a
// gateway page under 502/503/504 usually means a backend restart, while an
// unreadable answer under HTTP 200 means the endpoint is not KooPhone.
func (e *ResponseError) Transient() bool { return transientStatus[e.HTTPStatus] }

// RedirectError is a 3xx answer. The KooPhone API never redirects, so the
// client does not follow one: following it would send the credentials
// (and a submit's body) wherever Location points. Nothing further is sent,
// and the API did not act on the request.
type RedirectError struct {
	HTTPStatus int
	// Host is the host (and port) Location points to; "" when the answer
	// had no usable Location. The rest of the URL, which may carry a
	// token in its query, is left out.
	Host      string
	RequestID string
}

func (e *RedirectError) Error() string {
	to := "without a Location"
	if e.Host != "" {
		to = "to " + e.Host
	}
	return fmt.Sprintf("the KooPhone API answered HTTP %d %s, a redirect %s; the client does not follow redirects "+
		"(the KooPhone API never sends one, and following it would send the credentials there) [request id %s]",
		e.HTTPStatus, http.StatusText(e.HTTPStatus), to, e.RequestID)
}

// TransportError is a failure to exchange a request and a response: a
// refused or dropped connection, a TLS failure, a connection reset while the
// body was read, or an attempt slower than the request timeout.
type TransportError struct {
	// Op says which step failed, such as "send request" or "read response body".
	Op string
	// RequestID is the x-request-id the client sent.
	RequestID string
	// Timeout is true when the attempt exceeded the request timeout.
	Timeout bool
	// Certificate is true when the server's TLS certificate could not be
	// verified: sending again cannot help.
	Certificate bool
	// NotSent is true when the failure came before the request had a
	// connection (a refused dial, a DNS or TLS failure): the API cannot
	// have seen it. Only submits find out; for other requests it is false.
	NotSent bool
	// Err is the underlying error.
	Err error
}

func (e *TransportError) Error() string {
	what := "failed"
	if e.Timeout {
		what = "timed out"
	}
	return fmt.Sprintf("KooPhone API request %s (%s) [request id %s]: %v", what, e.Op, e.RequestID, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Transient is true unless the server's certificate was rejected: the
// network may be better next time, an untrusted certificate will not.
func (e *TransportError) Transient() bool { return !e.Certificate }

// IsCertificateError reports whether err is a failure to verify the
// server's TLS certificate (unknown authority, wrong host name, expired).
func IsCertificateError(err error) bool {
	var (
		verifyErr  *tls.CertificateVerificationError
		unknownErr x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &unknownErr) || errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}

// RetryError wraps the last error of a request that failed transiently on
// every attempt allowed.
type RetryError struct {
	// Attempts is how many times the request was sent.
	Attempts int
	// Last is the error of the last attempt.
	Last error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("gave up after %d attempts: %v", e.Attempts, e.Last)
}

func (e *RetryError) Unwrap() error { return e.Last }

// StoppedError is a request that the caller's context ended before it had
// an answer: a deadline, or a cancellation (Ctrl-C).
type StoppedError struct {
	// Cause is context.Cause of the caller's context: what ended it, such
	// as a deadline the caller named with context.WithTimeoutCause.
	Cause error
	// InFlight is true when the request may have reached the API when it
	// was stopped; false when it was stopped before it was sent (waiting
	// for its turn, or to be sent again).
	InFlight bool
	// Last is the failure of an earlier attempt, if any: the last news
	// from the API.
	Last      error
	RequestID string
}

func (e *StoppedError) Error() string {
	msg := fmt.Sprintf("%v before the request was sent", e.Cause)
	if e.InFlight {
		msg = fmt.Sprintf("%v while the request was in flight", e.Cause)
	}
	if e.Last != nil {
		msg += fmt.Sprintf(" (the attempt before failed: %v)", e.Last)
	}
	return msg
}

// Unwrap gives the cause, so that errors.Is matches context.Canceled, or
// context.DeadlineExceeded for a cause that wraps it.
func (e *StoppedError) Unwrap() error { return e.Cause }

// OutcomeUnknownError is a submit that may have reached the API without an
// answer saying what it did: after a 5xx, a timeout, a connection lost once
// the request was out, or an answer that cannot be read. The work may be
// running; the client does not send it again.
type OutcomeUnknownError struct {
	// RequestID is the x-request-id of the last attempt, for KooPhone
	// support and for finding the task in the console.
	RequestID string
	// Err is what went wrong.
	Err error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("the outcome of the submit is unknown (it may have created a task) [request id %s]: %v", e.RequestID, e.Err)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Transient is false: sending a submit again could run it twice.
func (e *OutcomeUnknownError) Transient() bool { return false }

// IsTransient reports whether err is worth retrying later: a transport
// failure, a throttling or server-side error, or retries exhausted on one.
func IsTransient(err error) bool {
	var t interface{ Transient() bool }
	return errors.As(err, &t) && t.Transient()
}

// IsThrottled reports whether err is the API's rate-limit answer: HTTP 429,
// or the gateway's throttling code under any status.
func IsThrottled(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Throttled()
}

// retryable reports whether a failed attempt may be sent again: any
// transient failure for a read, only a certainly-refused one for a submit.
func retryable(r call, err error) bool {
	return IsTransient(err) && (!r.submit || !mayHaveActed(err))
}

// mayHaveActed reports whether the API may have acted on a request that
// failed with err.
func mayHaveActed(err error) bool {
	var (
		redirect *RedirectError
		stopped  *StoppedError
		tErr     *TransportError
		apiErr   *APIError
		respErr  *ResponseError
	)
	switch {
	case errors.As(err, &redirect):
		return false
	case errors.As(err, &stopped):
		return stopped.InFlight
	case errors.As(err, &tErr):
		return !tErr.NotSent
	case errors.As(err, &apiErr):
		// A throttling answer, a 4xx or a business error under HTTP 200 is
		// a refusal; a 5xx or KooPhone's internal error may come after the
		// work started.
		return !apiErr.Throttled() && (apiErr.HTTPStatus >= 500 || apiErr.Code == CodeInternalError)
	case errors.As(err, &respErr):
		return respErr.HTTPStatus < 300 || respErr.HTTPStatus >= 500
	}
	// A request that could not be built or signed never left.
	return false
}

// RequestIDOf returns the request id carried by err, if any.
func RequestIDOf(err error) string {
	var (
		apiErr   *APIError
		respErr  *ResponseError
		tErr     *TransportError
		redirect *RedirectError
		stopped  *StoppedError
		unknown  *OutcomeUnknownError
	)
	switch {
	case errors.As(err, &unknown):
		return unknown.RequestID
	case errors.As(err, &apiErr):
		return apiErr.RequestID
	case errors.As(err, &respErr):
		return respErr.RequestID
	case errors.As(err, &tErr):
		return tErr.RequestID
	case errors.As(err, &redirect):
		return redirect.RequestID
	case errors.As(err, &stopped):
		return stopped.RequestID
	}
	return ""
}
