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
	CodeOK = "0"
	// CodeTaskNotFound is an unknown (or expired, or not yet visible) task.
	CodeTaskNotFound = "KOOPHONE.API.1323"
	// CodeInternalError is KooPhone's generic, transient, internal error.
	CodeInternalError = "KOOPHONE.API.9999"
	// CodeGatewayAuth is the API gateway's answer to a bad token or signature.
	CodeGatewayAuth = "APIGW.0301"
	// CodeGatewayThrottled and CodeDedicatedGatewayThrottled are the shared
	// and the dedicated API gateway's rate-limit answers.
	CodeGatewayThrottled          = "APIGW.0308"
	CodeDedicatedGatewayThrottled = "APIG.0308"
	// CodeGatewayNotFound is an unknown API path, usually a wrong endpoint.
	CodeGatewayNotFound = "APIGW.0101"
	// CodeNoPermission is "no permission on the instance": the phone does
	// not exist, or the credentials may not act on it.
	CodeNoPermission = "KOOPHONE.API.1001"
	// CodeNotTenants is an instance that does not belong to the tenant.
	CodeNotTenants = "KOOPHONE.API.1012"
)

// ErrTaskNotFound and ErrUnauthorized match (with errors.Is) an *APIError
// that says so.
var (
	ErrTaskNotFound = errors.New("task not found")
	ErrUnauthorized = errors.New("credentials rejected")
)

// transientStatus are HTTP statuses worth retrying.
var transientStatus = map[int]bool{
	http.StatusTooManyRequests:     true,
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
}

// APIError is an answer with an error code, at the top level (under any HTTP
// status) or inside its data, or with a non-2xx status.
type APIError struct {
	HTTPStatus int
	Code       string // such as KOOPHONE.API.1323; "" when the answer had none
	Message    string // error_msg
	RequestID  string // for KooPhone support
	RetryAfter string // the raw Retry-After header
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
	writeRequestID(&b, e.RequestID)
	return b.String()
}

func writeRequestID(b *strings.Builder, id string) {
	if id != "" {
		fmt.Fprintf(b, " [request id %s]", id)
	}
}

// Is lets errors.Is match ErrTaskNotFound and ErrUnauthorized.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrTaskNotFound:
		return e.Code == CodeTaskNotFound
	case ErrUnauthorized:
		return e.Code == CodeGatewayAuth || e.HTTPStatus == http.StatusUnauthorized
	}
	return false
}

// Throttled reports whether this is a rate-limit answer: HTTP 429, or a
// gateway's throttling code under any status.
func (e *APIError) Throttled() bool {
	return e.HTTPStatus == http.StatusTooManyRequests || e.Code == CodeGatewayThrottled || e.Code == CodeDedicatedGatewayThrottled
}

// Transient reports whether the request may succeed if sent again.
func (e *APIError) Transient() bool {
	return e.Throttled() || e.Code == CodeInternalError || transientStatus[e.HTTPStatus]
}

// ResponseError is an answer that could not be understood: an HTML page,
// malformed or empty JSON, or a body over the size limit.
type ResponseError struct {
	HTTPStatus  int
	ContentType string
	Reason      string // what was wrong with the body
	Excerpt     string // the body's start, printable and without credentials
	RequestID   string
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
	writeRequestID(&b, e.RequestID)
	return b.String()
}

// Transient reports whether the request may succeed if sent again: a
// gateway page under 502/503/504 usually means a backend restart, while an
// unreadable answer under HTTP 200 means the endpoint is not KooPhone.
func (e *ResponseError) Transient() bool { return transientStatus[e.HTTPStatus] }

// RedirectError is a 3xx answer, never followed (see New). The API did not
// act on the request.
type RedirectError struct {
	HTTPStatus int
	// Host is the host (and port) of Location, "" without a usable one. The
	// rest of the URL, which may carry a token in its query, is left out.
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

// TransportError is a failed exchange: a refused or dropped connection, a
// TLS failure, or an attempt slower than the request timeout.
type TransportError struct {
	Op          string // the step that failed, such as "send request"
	RequestID   string // the x-request-id sent
	Timeout     bool   // the attempt exceeded the request timeout
	Certificate bool   // the server's certificate could not be verified
	// NotSent is true when the request failed before it had a connection,
	// so the API cannot have seen it. Only submits find out.
	NotSent bool
	Err     error
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
// server's TLS certificate.
func IsCertificateError(err error) bool {
	var (
		verifyErr  *tls.CertificateVerificationError
		unknownErr x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &unknownErr) || errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}

// RetryError is the Last error of a request that failed transiently on all
// of its Attempts.
type RetryError struct {
	Attempts int
	Last     error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("gave up after %d attempts: %v", e.Attempts, e.Last)
}

func (e *RetryError) Unwrap() error { return e.Last }

// StoppedError is a request that the caller's context (a deadline, or a
// cancellation) ended before it had an answer.
type StoppedError struct {
	Cause     error // context.Cause of the caller's context; Unwrap gives it
	InFlight  bool  // the request may have reached the API
	Last      error // the failure of an earlier attempt, if any
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

func (e *StoppedError) Unwrap() error { return e.Cause }

// OutcomeUnknownError is a submit that may have reached the API without an
// answer saying what it did (a 5xx, a timeout, a connection lost once the
// request was out, an unreadable answer): the work may be running.
type OutcomeUnknownError struct {
	RequestID string // of the last attempt, to find the task in the console
	Err       error
}

// Transient is false: sending a submit again could run it twice.
func (e *OutcomeUnknownError) Transient() bool { return false }

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("the outcome of the submit is unknown (it may have created a task) [request id %s]: %v", e.RequestID, e.Err)
}

// IsTransient reports whether err is worth retrying later.
func IsTransient(err error) bool {
	var t interface{ Transient() bool }
	return errors.As(err, &t) && t.Transient()
}

// IsThrottled reports whether err is the API's rate-limit answer.
func IsThrottled(err error) bool {
	apiErr, ok := errors.AsType[*APIError](err)
	return ok && apiErr.Throttled()
}

// retryable reports whether a failed attempt may be sent again: any
// transient failure for a read, only a certainly-refused one for a submit.
func retryable(r call, err error) bool {
	return IsTransient(err) && (!r.submit || !mayHaveActed(err))
}

// mayHaveActed reports whether the API may have acted on a request that
// failed with err.
func mayHaveActed(err error) bool {
	if stopped, ok := errors.AsType[*StoppedError](err); ok {
		return stopped.InFlight
	}
	if tErr, ok := errors.AsType[*TransportError](err); ok {
		return !tErr.NotSent
	}
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		// A throttling answer, a 4xx or a business error under HTTP 200 is
		// a refusal; a 5xx or KooPhone's internal error may come after the
		// work started.
		return !apiErr.Throttled() && (apiErr.HTTPStatus >= 500 || apiErr.Code == CodeInternalError)
	}
	if respErr, ok := errors.AsType[*ResponseError](err); ok {
		return respErr.HTTPStatus < 300 || respErr.HTTPStatus >= 500
	}
	// A redirect is not followed, and a request that could not be built or
	// signed never left.
	return false
}
