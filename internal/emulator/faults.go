package emulator

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FaultKind names a way the emulator misbehaves, so tests can prove the
// client survives each failure mode of a real network and gateway.
type FaultKind string

// The kinds that replace the answer: the request does not reach the real
// handler at all, unless the fault sets Process (which redirect refuses).
const (
	// FaultError answers {"error_code":Code,"error_msg":Message,
	// "request_id":...} with HTTP Status (default 500; 200 allowed, as the
	// real API reports business errors with HTTP 200).
	FaultError FaultKind = "error"
	// FaultHTML answers an HTML gateway error page (text/html) with HTTP
	// Status (default 502), as a load balancer in front of the API would.
	FaultHTML FaultKind = "html"
	// FaultMalformed answers HTTP 200 application/json with a body that is
	// not valid JSON (a cut-off envelope).
	FaultMalformed FaultKind = "malformed"
	// FaultDrop closes the connection without writing anything. Note that
	// Go's http.Transport transparently retries an idempotent request
	// (e.g. a GET) once when a reused keep-alive connection is closed
	// without a response; only a drop on a fresh connection, or a second
	// consecutive drop, surfaces as a client error. The Transport never
	// retries a POST by itself (unless it carries an Idempotency-Key or
	// X-Idempotency-Key header), so a dropped submit always surfaces as
	// a client error.
	FaultDrop FaultKind = "drop"
	// FaultEmpty answers HTTP 200 application/json with an empty body.
	FaultEmpty FaultKind = "empty"
	// FaultOversize answers HTTP 200 with a valid JSON task envelope of
	// more than 16 MiB (one job with a huge execute_msg), streamed, to
	// prove the client caps what it reads.
	FaultOversize FaultKind = "oversize"
	// FaultRaw answers HTTP Status (default 200) with Content-Type
	// application/json and Body exactly as given: for wire details a JSON
	// encoder cannot produce, such as invalid UTF-8 inside a string.
	FaultRaw FaultKind = "raw"
	// FaultRedirect answers HTTP Status (301, 302, 303, 307 or 308;
	// default 307) with a Location header (the fault's Location) and a
	// short text/html page, as a misconfigured gateway or proxy in front
	// of the API might, to prove the client never follows a redirect: a
	// client that did could resend its credentials to another host (Go's
	// http.Client, for one, keeps an X-Auth-Token header when it follows).
	// The request goes no further: no task is created, no read counted.
	FaultRedirect FaultKind = "redirect"
)

// The kinds that deliver (a mangled or late version of) the normal answer:
// they always run the real handler, with its side effects (a POST creates
// its task, a GET counts as a read).
const (
	// FaultTruncate sends the normal answer's headers, including the full
	// Content-Length, then closes the connection after half of the body.
	FaultTruncate FaultKind = "truncate"
	// FaultReset is FaultTruncate ending in a TCP reset (RST) instead of
	// an orderly close, as a crashing proxy or a dropped NAT entry would:
	// the client sees "connection reset by peer" in the middle of the body.
	FaultReset FaultKind = "reset"
	// FaultDelay waits Delay (ending early, with no response, if the
	// request's context ends) and then answers normally.
	FaultDelay FaultKind = "delay"
	// FaultWrongContentType sends the normal answer with Content-Type
	// text/plain.
	FaultWrongContentType FaultKind = "wrong_content_type"
)

var faultKinds = map[FaultKind]bool{
	FaultError: true, FaultHTML: true, FaultMalformed: true, FaultTruncate: true, FaultReset: true, FaultDrop: true,
	FaultDelay: true, FaultEmpty: true, FaultOversize: true, FaultWrongContentType: true, FaultRaw: true,
	FaultRedirect: true,
}

// defaultStatus is the HTTP status of each kind that answers with one of
// the fault's choosing, when the fault gives none.
var defaultStatus = map[FaultKind]int{
	FaultError:    http.StatusInternalServerError,
	FaultHTML:     http.StatusBadGateway,
	FaultRaw:      http.StatusOK,
	FaultRedirect: http.StatusTemporaryRedirect,
}

// redirectStatuses are the statuses a FaultRedirect may answer: those
// with which a server sends a client elsewhere (not 300, a choice, nor
// 304, which is about caching).
var redirectStatuses = map[int]bool{
	http.StatusMovedPermanently: true, http.StatusFound: true, http.StatusSeeOther: true,
	http.StatusTemporaryRedirect: true, http.StatusPermanentRedirect: true,
}

// handlerRuns holds the kinds that deliver the normal answer.
var handlerRuns = map[FaultKind]bool{
	FaultDelay: true, FaultTruncate: true, FaultReset: true, FaultWrongContentType: true,
}

// Fault is a programmable failure applied to upcoming API requests. Each
// API request that passes routing and authentication takes the first
// pending fault (in the order added) that matches it.
type Fault struct {
	// Match selects requests: "" matches every API request; otherwise a
	// task id (matching GET /v1/instances/tasks/{that id}) or an exact
	// path such as "/v1/instances/async-command".
	Match string `json:"match"`
	// Count is how many matching requests get this fault: 0 means 1, -1
	// means every matching request forever.
	Count int `json:"count"`
	// Kind is what goes wrong.
	Kind FaultKind `json:"kind"`
	// Status is the HTTP status for FaultError (default 500), FaultHTML
	// (default 502), FaultRaw (default 200) and FaultRedirect (default
	// 307); it must be 0 for other kinds.
	Status int `json:"status,omitempty"`
	// Code is the error_code for FaultError. Default by status: 400
	// KOOPHONE.API.1000, 401 APIGW.0301, 404 APIGW.0101, 413 APIGW.0201,
	// 429 APIGW.0308, anything else KOOPHONE.API.9999.
	Code string `json:"code,omitempty"`
	// Message is the error_msg for FaultError; default: a sensible text
	// for the code.
	Message string `json:"message,omitempty"`
	// RetryAfter, if set, is sent verbatim as the Retry-After header (by
	// every kind that writes a response), to test the client's backoff.
	RetryAfter string `json:"retry_after,omitempty"`
	// Delay is how long a FaultDelay waits.
	Delay Duration `json:"delay,omitempty"`
	// Body is the exact response body of a FaultRaw, sent byte for byte
	// (a Go string may hold bytes that are not valid UTF-8).
	Body string `json:"body,omitempty"`
	// Location is where a FaultRedirect sends the client, sent as the
	// Location header: required for it, an absolute http or https URL
	// (typically of a server the test watches, to see whether the client
	// came); not allowed for other kinds.
	Location string `json:"location,omitempty"`
	// Process makes the real handler run first, with all its side effects
	// (a POST creates its task, a GET counts as a read), and then throws
	// its answer away and misbehaves as Kind says: "the submit succeeded
	// but the client never learnt it", e.g. an HTTP 502 or a dropped
	// connection after the task was created, which is what makes a retried
	// submit run a command twice. It applies to the kinds that replace the
	// answer (error, html, malformed, raw, empty, oversize, drop); delay,
	// truncate, reset and wrong_content_type always run the handler, so
	// AddFault rejects it for them rather than let it look like it
	// changes something; and for redirect, as a gateway that redirects a
	// request has not passed it on.
	Process bool `json:"process,omitempty"`
}

var defaultCodeByStatus = map[int]string{
	http.StatusBadRequest:            "KOOPHONE.API.1000",
	http.StatusUnauthorized:          "APIGW.0301",
	http.StatusNotFound:              "APIGW.0101",
	http.StatusRequestEntityTooLarge: "APIGW.0201",
	http.StatusTooManyRequests:       "APIGW.0308",
}

var defaultMessageByCode = map[string]string{
	"KOOPHONE.API.0002": "missing request header 'x-request-id'",
	"KOOPHONE.API.1000": "Invalid request parameter.",
	"KOOPHONE.API.1001": "No permission to operate the instance.",
	"KOOPHONE.API.1323": "The app installation task does not exist.",
	"KOOPHONE.API.3008": "fast_install must be 0 or 1.",
	"KOOPHONE.API.9999": "Internal service error.",
	"APIGW.0101":        "The API does not exist or has not been published in the environment",
	"APIGW.0201":        "Request entity too large",
	"APIGW.0301":        "Incorrect IAM authentication information: token verification failed",
	"APIGW.0308":        "The throttling threshold has been reached: policy user over ratelimit, limit:10, time:1 second",
}

// AddFault queues a fault after any already pending ones. It validates and
// normalises the fault (defaults for Count, Status, Code, Message) and
// fails for an unknown kind, a field that makes no sense for the kind, or
// out-of-range values.
func (e *Emulator) AddFault(f Fault) error {
	if err := e.addFault(f); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

// addFault is AddFault with errors that name the field (see fieldError).
func (e *Emulator) addFault(f Fault) error {
	if err := normalizeFault(&f); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
	return nil
}

// PendingFaults returns a copy of the faults not yet used up, in order,
// with their remaining counts, so tests can assert a fault was consumed.
func (e *Emulator) PendingFaults() []Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Fault, len(e.faults))
	for i, f := range e.faults {
		out[i] = *f
	}
	return out
}

func normalizeFault(f *Fault) error {
	if !faultKinds[f.Kind] {
		return fieldErr("kind", "unknown fault kind %q (want one of error, html, malformed, truncate, reset, drop, delay, empty, oversize, wrong_content_type, raw, redirect)", f.Kind)
	}
	switch {
	case f.Count == 0:
		f.Count = 1
	case f.Count < -1:
		return fieldErr("count", "fault count %d: want a positive number, 0 (once) or -1 (forever)", f.Count)
	}
	if strings.ContainsAny(f.RetryAfter, "\r\n") {
		return fieldErr("retry_after", "must not contain line breaks")
	}
	status, takesStatus := defaultStatus[f.Kind]
	switch {
	case !takesStatus && f.Status != 0:
		return fieldErr("status", "fault status applies only to kinds error, html, raw and redirect, not %s", f.Kind)
	case f.Status == 0:
		f.Status = status
	}
	if f.Kind == FaultRedirect && !redirectStatuses[f.Status] {
		return fieldErr("status", "fault status %d for kind redirect: want 301, 302, 303, 307 or 308", f.Status)
	}
	if f.Kind != FaultRaw && f.Body != "" {
		return fieldErr("body", "fault body applies only to kind raw, not %s", f.Kind)
	}
	if err := checkLocation(f); err != nil {
		return err
	}
	if f.Status != 0 && (f.Status < 200 || f.Status > 599) {
		return fieldErr("status", "fault status %d: want 200..599", f.Status)
	}
	if f.Kind != FaultError && (f.Code != "" || f.Message != "") {
		field := "code"
		if f.Code == "" {
			field = "message"
		}
		return fieldErr(field, "fault code and message apply only to kind error, not %s", f.Kind)
	}
	if f.Kind == FaultError {
		if f.Code == "" {
			f.Code = defaultCodeByStatus[f.Status]
			if f.Code == "" {
				f.Code = "KOOPHONE.API.9999"
			}
		}
		if f.Message == "" {
			f.Message = defaultMessageByCode[f.Code]
			if f.Message == "" {
				f.Message = "Emulated error " + f.Code + "."
			}
		}
	}
	if f.Process && f.Kind == FaultRedirect {
		return fieldErr("process", "fault process does not apply to kind redirect: a gateway that redirects a request has not acted on it")
	}
	if f.Process && handlerRuns[f.Kind] {
		return fieldErr("process", "fault process applies only to kinds that replace the answer (error, html, malformed, raw, empty, oversize, drop), not %s, which always runs the handler", f.Kind)
	}
	switch {
	case f.Kind == FaultDelay && f.Delay <= 0:
		return fieldErr("delay", "fault kind delay needs a positive delay, got %s", f.Delay)
	case f.Kind != FaultDelay && f.Delay != 0:
		return fieldErr("delay", "fault delay applies only to kind delay, not %s", f.Kind)
	}
	return nil
}

// checkLocation checks that a redirect has an absolute http(s) Location,
// and that no other kind has one.
func checkLocation(f *Fault) error {
	switch {
	case f.Kind != FaultRedirect && f.Location != "":
		return fieldErr("location", "fault location applies only to kind redirect, not %s", f.Kind)
	case f.Kind != FaultRedirect:
		return nil
	case f.Location == "":
		return fieldErr("location", "required for kind redirect: the absolute http or https URL to send the client to")
	}
	// url.Parse refuses control characters, so the value cannot split
	// the header it is sent in.
	u, err := url.Parse(f.Location)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fieldErr("location", "%q: want an absolute http or https URL, such as \"https://elsewhere.example/v1/instances\"", f.Location)
	}
	return nil
}

// takeFault pops one use of the first pending fault matching the request.
func (e *Emulator) takeFault(path string, rt route, taskID string) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		matches := f.Match == "" || f.Match == path || (rt == routeGetTask && f.Match == taskID)
		if !matches {
			continue
		}
		out := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		return out, true
	}
	return Fault{}, false
}

const htmlGatewayPage = `<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>koophone-emulator</center></body></html>`

// redirectPage is the body of a FaultRedirect's answer: a short page, as
// a gateway sends with a redirect, that names the status and not the
// Location (which would need escaping), so it is the same for every one.
func redirectPage(status int) string {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return "<html><head><title>" + title + "</title></head><body><center><h1>" + title + "</h1></center><hr><center>koophone-emulator</center></body></html>"
}

// oversizeExecuteMsg is how many bytes of execute_msg the oversize fault
// sends: comfortably over the 16 MiB a client is expected to accept.
const oversizeExecuteMsg = 17 << 20

func (e *Emulator) applyFault(w *statusWriter, r *http.Request, x *exchange, rt route, taskID string, f Fault) {
	if f.Process {
		// Run the handler to completion into a buffer and discard its
		// answer: its side effects are done before the fault's answer
		// starts, so a client that sees the failure can already find
		// the task (e.g. through TaskIDs or a GET).
		e.answer(newBufferWriter(), r, rt, taskID, x.respID)
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	switch f.Kind {
	case FaultError:
		writeJSON(w, f.Status, envelope{ErrorCode: f.Code, ErrorMsg: f.Message, RequestID: x.respID})
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(htmlGatewayPage)))
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, htmlGatewayPage)
	case FaultMalformed:
		body := `{"error_code":"0","error_msg":"ok","data":{"jobs":[{"job_id":"`
		w.Header().Set("Content-Type", jsonContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, body)
	case FaultRaw:
		w.Header().Set("Content-Type", jsonContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
	case FaultRedirect:
		page := redirectPage(f.Status)
		w.Header().Set("Location", f.Location)
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, page)
	case FaultEmpty:
		w.Header().Set("Content-Type", jsonContentType)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	case FaultOversize:
		writeOversize(w)
	case FaultWrongContentType:
		b := newBufferWriter()
		e.answer(b, r, rt, taskID, x.respID)
		for k, v := range b.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(b.statusCode())
		_, _ = w.Write(b.body.Bytes())
	case FaultDelay:
		// Read the body first: net/http notices that the client went away
		// (and ends r.Context) only once the body has been read, so a
		// delayed submit would otherwise be held for the whole delay after
		// its client gave up.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			x.commit(0)
			abortConnection(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		timer := time.NewTimer(time.Duration(f.Delay))
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			// The client went away or the server is shutting down:
			// close without a response (returning would send an empty 200).
			x.commit(0)
			abortConnection(w)
			return
		}
		e.answer(w, r, rt, taskID, x.respID)
	case FaultTruncate, FaultReset:
		b := newBufferWriter()
		e.answer(b, r, rt, taskID, x.respID)
		for k, v := range b.header {
			w.Header()[k] = v
		}
		body := b.body.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		writeTruncated(w, x, b.statusCode(), body, f.Kind == FaultReset)
	case FaultDrop:
		x.commit(0)
		abortConnection(w)
	}
}

// abortConnection ends the exchange without any response: it closes the
// hijacked connection, or, where hijacking is impossible (HTTP/2), aborts
// the handler so net/http resets the stream.
func abortConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// writeTruncated sends status, w's headers and the first half of body as
// raw HTTP/1.1 on the hijacked connection, then closes it (with a TCP reset
// when reset is true), so the client sees a body shorter than its
// Content-Length.
func writeTruncated(w *statusWriter, x *exchange, status int, body []byte, reset bool) {
	half := body[:len(body)/2]
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// No hijacking (e.g. HTTP/2): send what we can, then abort.
		w.WriteHeader(status)
		_, _ = w.Write(half)
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	x.commit(status)
	h := w.Header().Clone()
	h.Set("Date", x.e.now().UTC().Format(http.TimeFormat))
	fmt.Fprintf(brw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_ = h.Write(brw)
	_, _ = brw.WriteString("\r\n")
	_, _ = brw.Write(half)
	_ = brw.Flush()
	if tcp, ok := conn.(*net.TCPConn); ok && reset {
		// Linger 0 makes Close send RST and discard unsent data.
		_ = tcp.SetLinger(0)
	}
}

// writeOversize streams a valid JSON envelope whose single job carries an
// execute_msg of oversizeExecuteMsg bytes, without building it in memory.
func writeOversize(w http.ResponseWriter) {
	prefix := `{"error_code":"0","error_msg":"ok","data":{"jobs":[{"job_id":"` + newJobID() +
		`","status":2,"error_code":"","error_msg":"","execute_msg":"`
	const suffix = `"}]}}`
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(prefix)+oversizeExecuteMsg+len(suffix)))
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.WriteString(prefix)
	chunk := []byte(strings.Repeat("x", 64<<10))
	for left := oversizeExecuteMsg; left > 0; left -= len(chunk) {
		n := min(left, len(chunk))
		if _, err := bw.Write(chunk[:n]); err != nil {
			return // the client stopped reading
		}
	}
	_, _ = bw.WriteString(suffix)
	_ = bw.Flush()
}
