package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestFaultError(t *testing.T) {
	cases := []struct {
		name       string
		fault      Fault
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"defaults", Fault{Kind: FaultError}, 500, "KOOPHONE.API.9999", "Internal service error."},
		{"throttled", Fault{Kind: FaultError, Status: 429}, 429, "APIGW.0308", "policy user over ratelimit"},
		{"custom code default msg", Fault{Kind: FaultError, Status: 503, Code: "APIGW.0308"}, 503, "APIGW.0308", "ratelimit"},
		{"business error with 200", Fault{Kind: FaultError, Status: 200, Code: "KOOPHONE.API.2004", Message: "Instance frozen."}, 200, "KOOPHONE.API.2004", "Instance frozen."},
		{"unknown code", Fault{Kind: FaultError, Status: 502, Code: "X.1"}, 502, "X.1", "Emulated error X.1."},
		{"401", Fault{Kind: FaultError, Status: 401}, 401, "APIGW.0301", "Incorrect IAM"},
		{"400", Fault{Kind: FaultError, Status: 400}, 400, "KOOPHONE.API.1000", "Invalid request parameter."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newEnv(t, Options{})
			id := v.addTask(TaskSpec{})
			v.addFault(c.fault)
			r := v.getTask(id, withHeader("X-Request-Id", "rid-1"))
			m := wantErr(t, r, c.wantStatus, c.wantCode)
			if msg := str(t, m["error_msg"]); !strings.Contains(msg, c.wantMsg) {
				t.Errorf("error_msg %q, want containing %q", msg, c.wantMsg)
			}
			if m["request_id"] != "rid-1" || r.header.Get("X-Request-Id") != "rid-1" {
				t.Errorf("request id: body %v header %q", m["request_id"], r.header.Get("X-Request-Id"))
			}
			if r.header.Get("Content-Type") != jsonContentType {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			if r.header.Get("Retry-After") != "" {
				t.Errorf("unexpected Retry-After")
			}
			if v.emu.Reads(id) != 0 {
				t.Error("error fault reached the handler")
			}
			rq := lastRequest(t, v.emu)
			if rq.Fault != FaultError || rq.Status != c.wantStatus {
				t.Errorf("recorded %+v", rq)
			}
			// Used up: the next request is normal.
			jobsOf(t, v.getTask(id))
		})
	}
}

func TestFaultRetryAfter(t *testing.T) {
	for _, ra := range []string{"3", "Wed, 21 Oct 2026 07:28:00 GMT"} {
		for _, f := range []Fault{
			{Kind: FaultError, Status: 429, RetryAfter: ra},
			{Kind: FaultHTML, Status: 503, RetryAfter: ra},
			{Kind: FaultWrongContentType, RetryAfter: ra},
		} {
			v := newEnv(t, Options{})
			id := v.addTask(TaskSpec{})
			v.addFault(f)
			r := v.getTask(id)
			if got := r.header.Get("Retry-After"); got != ra {
				t.Errorf("%s: Retry-After %q, want %q", f.Kind, got, ra)
			}
		}
	}
}

func TestFaultHTML(t *testing.T) {
	for _, c := range []struct {
		status, want int
	}{{0, 502}, {503, 503}, {504, 504}} {
		v := newEnv(t, Options{})
		v.addFault(Fault{Kind: FaultHTML, Status: c.status})
		r := v.getTask("any")
		if r.status != c.want || r.header.Get("Content-Type") != "text/html" ||
			!strings.HasPrefix(string(r.body), "<html><head><title>502 Bad Gateway</title></head><body>") ||
			!strings.HasSuffix(string(r.body), "</body></html>") || json.Valid(r.body) {
			t.Errorf("got %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		if r.header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id")
		}
	}
}

func TestFaultMalformedAndEmpty(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{})
	v.addFault(Fault{Kind: FaultMalformed})
	v.addFault(Fault{Kind: FaultEmpty})
	for _, kind := range []FaultKind{FaultMalformed, FaultEmpty} {
		r := v.getTask(id)
		if r.status != 200 || r.header.Get("Content-Type") != jsonContentType || json.Valid(r.body) ||
			r.header.Get("X-Request-Id") == "" {
			t.Errorf("%s: %d %q %q", kind, r.status, r.header.Get("Content-Type"), r.body)
		}
		if kind == FaultEmpty && len(r.body) != 0 {
			t.Errorf("empty: body %q", r.body)
		}
		if kind == FaultMalformed && !strings.HasPrefix(string(r.body), `{"error_code":"0"`) {
			t.Errorf("malformed: body %q", r.body)
		}
	}
	if v.emu.Reads(id) != 0 {
		t.Error("malformed/empty reached the handler")
	}
}

func TestFaultWrongContentType(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{JobID: "j", Status: 2}}})
	v.addFault(Fault{Kind: FaultWrongContentType, Match: id})
	r := v.getTask(id, withHeader("X-Request-Id", "abc"))
	if r.status != 200 || r.header.Get("Content-Type") != "text/plain" || r.header.Get("X-Request-Id") != "abc" ||
		string(r.body) != `{"error_code":"0","error_msg":"ok","data":{"jobs":[{"job_id":"j","status":2,"error_code":null,"error_msg":null,"execute_msg":null}]}}` {
		t.Errorf("got %d %v %s", r.status, r.header, r.body)
	}
	if v.emu.Reads(id) != 1 {
		t.Errorf("Reads %d: the normal answer runs the handler", v.emu.Reads(id))
	}
	// The normal answer includes the x-request-id check.
	v.addFault(Fault{Kind: FaultWrongContentType})
	r = v.getTask(id, noRequestID())
	if r.header.Get("Content-Type") != "text/plain" || !strings.Contains(string(r.body), "KOOPHONE.API.0002") {
		t.Errorf("got %v %s", r.header, r.body)
	}
}

func TestFaultTruncate(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: 2, ExecuteMsg: sp(strings.Repeat("o", 300))}}})
	v.addFault(Fault{Kind: FaultTruncate, RetryAfter: "1"})
	res, err := v.client.Do(v.newRequest(http.MethodGet, "/v1/instances/tasks/"+id, nil, withHeader("X-Request-Id", "tr")))
	if err != nil {
		t.Fatalf("headers should arrive: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading truncated body: err %v (read %d bytes), want unexpected EOF", err, len(body))
	}
	full, _ := strconv.Atoi(res.Header.Get("Content-Length"))
	if res.StatusCode != 200 || full < 300 || len(body) != full/2 || res.Header.Get("X-Request-Id") != "tr" ||
		res.Header.Get("Content-Type") != jsonContentType || res.Header.Get("Retry-After") != "1" {
		t.Errorf("status %d, Content-Length %d, got %d bytes, headers %v", res.StatusCode, full, len(body), res.Header)
	}
	if !strings.HasPrefix(string(body), `{"error_code":"0","error_msg":"ok","data":{"jobs":[{`) {
		t.Errorf("body %q", body)
	}
	if v.emu.Reads(id) != 1 {
		t.Errorf("Reads %d: the server side served the read", v.emu.Reads(id))
	}
	if rq := lastRequest(t, v.emu); rq.Status != 200 || rq.Fault != FaultTruncate {
		t.Errorf("recorded %+v", rq)
	}
	// The server keeps working afterwards.
	jobsOf(t, v.getTask(id))
}

func TestFaultRaw(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{})
	body := "{\"error_code\":\"0\",\"data\":{\"jobs\":[{\"execute_msg\":\"caf\xe9\"}]}}"
	v.addFault(Fault{Kind: FaultRaw, Status: 202, Body: body})
	r := v.getTask(id)
	if r.status != 202 || string(r.body) != body || r.header.Get("Content-Type") != jsonContentType {
		t.Errorf("got %d %v %q", r.status, r.header, r.body)
	}
	if err := v.emu.AddFault(Fault{Kind: FaultError, Body: "x"}); err == nil {
		t.Error("body accepted on a non-raw fault")
	}
}

func TestFaultReset(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: 2, ExecuteMsg: sp(strings.Repeat("o", 300))}}})
	v.addFault(Fault{Kind: FaultReset})
	res, err := v.client.Do(v.newRequest(http.MethodGet, "/v1/instances/tasks/"+id, nil, withHeader("X-Request-Id", "rst")))
	if err != nil {
		// The reset may arrive before the client has read the headers.
		if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
			t.Fatalf("err = %v, want a reset", err)
		}
	} else {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Fatal("reading the body after a reset succeeded")
		}
	}
	if rq := lastRequest(t, v.emu); rq.Fault != FaultReset {
		t.Errorf("recorded %+v", rq)
	}
	jobsOf(t, v.getTask(id))
}

func TestFaultDrop(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{})
	// A fresh connection per request: Go's Transport would otherwise
	// silently retry a GET whose reused connection was dropped.
	v.client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	v.addFault(Fault{Kind: FaultDrop})
	_, err := v.send(http.MethodGet, "/v1/instances/tasks/"+id, nil)
	if err == nil {
		t.Fatal("drop: the client got a response")
	}
	if rq := lastRequest(t, v.emu); rq.Status != 0 || rq.Fault != FaultDrop {
		t.Errorf("recorded %+v", rq)
	}
	if v.emu.Reads(id) != 0 {
		t.Error("drop reached the handler")
	}
	jobsOf(t, v.getTask(id))
	// POSTs are not retried by the Transport, even on a reused connection.
	v.client = v.srv.Client()
	v.getTask(id) // warm a keep-alive connection
	v.addFault(Fault{Kind: FaultDrop, Match: pathAsync})
	if _, err := v.send(http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["a"]}`); err == nil {
		t.Fatal("drop of a POST: the client got a response")
	}
}

func TestFaultDelay(t *testing.T) {
	synctest.Test(t, testFaultDelay)
}

func testFaultDelay(t *testing.T) {
	v := bubbleEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: 2, After: Duration(10 * time.Second)}}})
	v.addFault(Fault{Kind: FaultDelay, Delay: Duration(30 * time.Second)})
	done := make(chan resp, 1)
	go func() {
		r, err := v.send(http.MethodGet, "/v1/instances/tasks/"+id, nil)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	synctest.Wait() // the handler waits out the delay
	select {
	case <-done:
		t.Fatal("answered before the delay elapsed")
	default:
	}
	time.Sleep(30*time.Second - time.Nanosecond)
	synctest.Wait()
	select {
	case <-done:
		t.Fatal("answered before the delay elapsed")
	default:
	}
	time.Sleep(time.Nanosecond)
	r := <-done
	// Answered normally, as of the time after the delay: the job is final.
	if s := jobsOf(t, r)[0]["status"]; s != json.Number("2") {
		t.Errorf("status %v", s)
	}
	if rq := lastRequest(t, v.emu); rq.Fault != FaultDelay || rq.Status != 200 || !rq.Time.Equal(epoch) {
		t.Errorf("recorded %+v", rq)
	}
}

func TestFaultDelayEndsWithContext(t *testing.T) {
	synctest.Test(t, testFaultDelayEndsWithContext)
}

func testFaultDelayEndsWithContext(t *testing.T) {
	v := bubbleEnv(t, Options{})
	v.addFault(Fault{Kind: FaultDelay, Delay: Duration(time.Hour)})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		res, err := v.client.Do(v.newRequest(http.MethodGet, "/v1/instances/tasks/x", nil).WithContext(ctx))
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	synctest.Wait() // the handler waits out the delay
	start := time.Now()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	// The handler notices the closed connection and gives up without
	// waiting for the delay to pass.
	synctest.Wait()
	if len(v.emu.Requests()) != 1 {
		t.Fatalf("%d requests recorded, want the delayed one", len(v.emu.Requests()))
	}
	if rq := v.emu.Requests()[0]; rq.Status != 0 || rq.Fault != FaultDelay {
		t.Errorf("recorded %+v", rq)
	}
	if d := time.Since(start); d != 0 {
		t.Errorf("the handler gave up after %s, want at once", d)
	}
}

func TestFaultOversize(t *testing.T) {
	v := newEnv(t, Options{})
	v.addFault(Fault{Kind: FaultOversize})
	v.addFault(Fault{Kind: FaultOversize})
	res, err := v.client.Do(v.newRequest(http.MethodGet, "/v1/instances/tasks/x", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Check the shape cheaply: envelope prefix, a run of filler, suffix;
	// then validate the JSON with the filler shrunk (decoding 17 MiB under
	// -race is slow).
	i := strings.Index(string(b[:512]), `"execute_msg":"`) + len(`"execute_msg":"`)
	j := len(b) - len(`"}]}}`)
	if res.StatusCode != 200 || int64(len(b)) != res.ContentLength || len(b) <= 16<<20 || j-i <= 16<<20 ||
		res.Header.Get("Content-Type") != jsonContentType || res.Header.Get("X-Request-Id") == "" {
		t.Fatalf("status %d, length %d/%d, execute_msg %d bytes", res.StatusCode, len(b), res.ContentLength, j-i)
	}
	if strings.Trim(string(b[i:j]), "x") != "" {
		t.Error("execute_msg filler is not plain text")
	}
	small := string(b[:i]) + "xyz" + string(b[j:])
	var env struct {
		ErrorCode string `json:"error_code"`
		Data      struct {
			Jobs []struct {
				Status     int    `json:"status"`
				ExecuteMsg string `json:"execute_msg"`
			} `json:"jobs"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(small), &env); err != nil || env.ErrorCode != "0" || len(env.Data.Jobs) != 1 ||
		env.Data.Jobs[0].ExecuteMsg != "xyz" || env.Data.Jobs[0].Status != 2 {
		t.Fatalf("envelope %q: %v", small, err)
	}
	// A client that stops reading early: the server gives up and stays healthy.
	res, err = v.client.Do(v.newRequest(http.MethodGet, "/v1/instances/tasks/x", nil))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.CopyN(io.Discard, res.Body, 1<<20)
	res.Body.Close()
	if n != 1<<20 {
		t.Errorf("read %d", n)
	}
	wantErr(t, v.getTask("x"), 400, "KOOPHONE.API.1323")
}

func TestFaultCountAndMatch(t *testing.T) {
	v := newEnv(t, Options{})
	a := v.addTask(TaskSpec{TaskID: "task-a"})
	b := v.addTask(TaskSpec{TaskID: "task-b"})
	v.addFault(Fault{Kind: FaultError, Status: 503, Match: a, Count: 2})
	v.addFault(Fault{Kind: FaultError, Status: 504, Match: pathAsync})
	v.addFault(Fault{Kind: FaultError, Status: 502, Match: "/v1/instances/tasks/" + b})

	// Another task and other paths are not matched by a task-id fault.
	wantErr(t, v.getTask("task-a-not"), 400, "KOOPHONE.API.1323")
	if pf := v.emu.PendingFaults(); len(pf) != 3 || pf[0].Count != 2 {
		t.Fatalf("pending %+v", pf)
	}
	wantErr(t, v.getTask(b), 502, "KOOPHONE.API.9999") // matched by exact path
	wantErr(t, v.getTask(a), 503, "KOOPHONE.API.9999")
	if pf := v.emu.PendingFaults(); len(pf) != 2 || pf[0].Count != 1 {
		t.Fatalf("pending %+v", pf)
	}
	wantErr(t, v.getTask(a), 503, "KOOPHONE.API.9999")
	jobsOf(t, v.getTask(a))
	wantErr(t, v.do(http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["p"]}`), 504, "KOOPHONE.API.9999")
	submitData(t, v.do(http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["p"]}`))
	if pf := v.emu.PendingFaults(); len(pf) != 0 {
		t.Fatalf("pending %+v", pf)
	}
}

func TestFaultForeverAndFIFO(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{})
	v.addFault(Fault{Kind: FaultError, Status: 500, Count: 2})
	v.addFault(Fault{Kind: FaultError, Status: 503, Count: -1, Match: id})
	v.addFault(Fault{Kind: FaultError, Status: 502}) // never reached for this task
	want := []int{500, 500}
	for range 20 {
		want = append(want, 503)
	}
	for i, w := range want {
		if r := v.getTask(id); r.status != w {
			t.Fatalf("request %d: status %d, want %d", i, r.status, w)
		}
	}
	// Other requests skip the forever fault and take the next one.
	wantErr(t, v.getTask("other"), 502, "KOOPHONE.API.9999")
	wantErr(t, v.getTask("other"), 400, "KOOPHONE.API.1323")
	if pf := v.emu.PendingFaults(); len(pf) != 1 || pf[0].Count != -1 {
		t.Errorf("pending %+v", pf)
	}
}

func TestFaultOrderOfChecks(t *testing.T) {
	synctest.Test(t, testFaultOrderOfChecks)
}

func testFaultOrderOfChecks(t *testing.T) {
	v := bubbleEnv(t, Options{})
	v.addFault(Fault{Kind: FaultError, Status: 503})
	// Unrouted and unauthenticated requests do not consume faults.
	wantErr(t, v.do(http.MethodGet, "/nope", nil), 404, "APIGW.0101")
	wantErr(t, v.getTask("x", noToken()), 401, "APIGW.0301")
	// The fault comes before the x-request-id check.
	r := v.getTask("x", noRequestID())
	m := wantErr(t, r, 503, "KOOPHONE.API.9999")
	if !uuidRe.MatchString(str(t, m["request_id"])) || m["request_id"] != r.header.Get("X-Request-Id") {
		t.Errorf("generated request id: body %v header %q", m["request_id"], r.header.Get("X-Request-Id"))
	}
	// A delay fault then answers normally, including the header check.
	v.addFault(Fault{Kind: FaultDelay, Delay: Duration(time.Second)})
	done := make(chan resp, 1)
	go func() { r, _ := v.send(http.MethodGet, "/v1/instances/tasks/x", nil, noRequestID()); done <- r }()
	synctest.Wait()
	time.Sleep(time.Second)
	wantErr(t, <-done, 200, "KOOPHONE.API.0002")
}

func TestAddFaultValidation(t *testing.T) {
	e := New(Options{Token: testToken})
	cases := []struct {
		name string
		f    Fault
		want string
	}{
		{"no kind", Fault{}, "unknown fault kind"},
		{"bad kind", Fault{Kind: "explode"}, `"explode"`},
		{"count -2", Fault{Kind: FaultDrop, Count: -2}, "count -2"},
		{"status for drop", Fault{Kind: FaultDrop, Status: 500}, "status applies only"},
		{"status 99", Fault{Kind: FaultError, Status: 99}, "200..599"},
		{"status 600", Fault{Kind: FaultHTML, Status: 600}, "200..599"},
		{"status 199", Fault{Kind: FaultError, Status: 199}, "200..599"},
		{"code for html", Fault{Kind: FaultHTML, Code: "X"}, "code and message"},
		{"message for empty", Fault{Kind: FaultEmpty, Message: "x"}, "code and message"},
		{"delay without duration", Fault{Kind: FaultDelay}, "positive delay"},
		{"negative delay", Fault{Kind: FaultDelay, Delay: -1}, "positive delay"},
		{"delay for error", Fault{Kind: FaultError, Delay: Duration(time.Second)}, "delay applies only"},
		{"header injection", Fault{Kind: FaultError, RetryAfter: "1\r\nX-Evil: 1"}, "line breaks"},
		// These kinds always run the handler: process would change nothing.
		{"process for delay", Fault{Kind: FaultDelay, Delay: Duration(time.Second), Process: true}, "fault process applies only to kinds that replace the answer"},
		{"process for truncate", Fault{Kind: FaultTruncate, Process: true}, "not truncate, which always runs the handler"},
		{"process for reset", Fault{Kind: FaultReset, Process: true}, "not reset"},
		{"process for wrong_content_type", Fault{Kind: FaultWrongContentType, Process: true}, "not wrong_content_type"},
		{"redirect without location", Fault{Kind: FaultRedirect}, "location: required for kind redirect"},
		{"redirect to a relative URL", Fault{Kind: FaultRedirect, Location: "/v1/elsewhere"}, `location: "/v1/elsewhere": want an absolute http or https URL`},
		{"redirect to a host without scheme", Fault{Kind: FaultRedirect, Location: "elsewhere.example/v1"}, "want an absolute http or https URL"},
		{"redirect to ftp", Fault{Kind: FaultRedirect, Location: "ftp://elsewhere.example/"}, "want an absolute http or https URL"},
		{"redirect without host", Fault{Kind: FaultRedirect, Location: "https:///v1"}, "want an absolute http or https URL"},
		{"redirect location with a line break", Fault{Kind: FaultRedirect, Location: "https://elsewhere.example/\r\nX-Evil: 1"}, "want an absolute http or https URL"},
		{"redirect with status 200", Fault{Kind: FaultRedirect, Location: redirectTarget, Status: 200}, "status: fault status 200 for kind redirect: want 301, 302, 303, 307 or 308"},
		{"redirect with status 304", Fault{Kind: FaultRedirect, Location: redirectTarget, Status: 304}, "want 301, 302, 303, 307 or 308"},
		{"redirect with status 300", Fault{Kind: FaultRedirect, Location: redirectTarget, Status: 300}, "want 301, 302, 303, 307 or 308"},
		{"redirect with process", Fault{Kind: FaultRedirect, Location: redirectTarget, Process: true}, "process: fault process does not apply to kind redirect"},
		{"redirect with a body", Fault{Kind: FaultRedirect, Location: redirectTarget, Body: "{}"}, "body applies only to kind raw"},
		{"redirect with a code", Fault{Kind: FaultRedirect, Location: redirectTarget, Code: "X"}, "code and message apply only to kind error"},
		{"location for error", Fault{Kind: FaultError, Location: redirectTarget}, "location: fault location applies only to kind redirect, not error"},
		{"location for raw", Fault{Kind: FaultRaw, Location: redirectTarget}, "fault location applies only to kind redirect, not raw"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := e.AddFault(c.f); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want containing %q", err, c.want)
			}
		})
	}
	if len(e.PendingFaults()) != 0 {
		t.Error("an invalid fault was queued")
	}
	for _, k := range []FaultKind{FaultError, FaultHTML, FaultMalformed, FaultTruncate, FaultReset, FaultRaw, FaultDrop, FaultEmpty, FaultOversize, FaultWrongContentType} {
		if err := e.AddFault(Fault{Kind: k}); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	for _, k := range []FaultKind{FaultError, FaultHTML, FaultMalformed, FaultRaw, FaultDrop, FaultEmpty, FaultOversize} {
		if err := e.AddFault(Fault{Kind: k, Process: true}); err != nil {
			t.Errorf("%s with process: %v", k, err)
		}
	}
	redirects := len(e.PendingFaults())
	for _, status := range []int{0, 301, 302, 303, 307, 308} {
		if err := e.AddFault(Fault{Kind: FaultRedirect, Status: status, Location: redirectTarget, RetryAfter: "1"}); err != nil {
			t.Errorf("redirect %d: %v", status, err)
		}
	}
	if err := e.AddFault(Fault{Kind: FaultRedirect, Location: "HTTP://elsewhere.example:8080/x?y=1#z"}); err != nil {
		t.Errorf("redirect to an upper-case scheme, a port, a query and a fragment: %v", err)
	}
	pf := e.PendingFaults()
	if pf[0].Count != 1 || pf[0].Status != 500 || pf[0].Code != "KOOPHONE.API.9999" || pf[1].Status != 502 {
		t.Errorf("defaults not applied: %+v", pf[:2])
	}
	if r := pf[redirects]; r.Kind != FaultRedirect || r.Status != http.StatusTemporaryRedirect || r.Location != redirectTarget {
		t.Errorf("redirect defaults not applied: %+v", r)
	}
}

// redirectTarget is where redirect faults send clients in tests.
const redirectTarget = "https://elsewhere.example/v1/instances"

// A redirect fault answers every endpoint a client uses with a 3xx and
// the Location, without running the handler: no task is created, no read
// counted.
func TestFaultRedirect(t *testing.T) {
	cases := []struct {
		name, method, path string
		body               any
		status, want       int
	}{
		{"task query, default status", http.MethodGet, "/v1/instances/tasks/seeded", nil, 0, http.StatusTemporaryRedirect},
		{"async command", http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["p1"]}`, http.StatusFound, http.StatusFound},
		{"app install", http.MethodPost, pathInstall, validInstall(), http.StatusPermanentRedirect, http.StatusPermanentRedirect},
		{"phone listing", http.MethodGet, pathList + "?page_no=1&page_size=10", nil, http.StatusMovedPermanently, http.StatusMovedPermanently},
		{"see other", http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["p1"]}`, http.StatusSeeOther, http.StatusSeeOther},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newEnv(t, Options{Phones: []Phone{{InstanceID: "p1"}}})
			// As the provider's client must: look at the redirect, never
			// follow it.
			v.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			seeded := v.addTask(TaskSpec{TaskID: "seeded", Jobs: []JobSpec{{Status: StatusSucceeded}}})
			v.addFault(Fault{Match: strings.SplitN(c.path, "?", 2)[0], Kind: FaultRedirect, Status: c.status, Location: redirectTarget, RetryAfter: "2"})
			r := v.do(c.method, c.path, c.body, withHeader("X-Request-Id", "rd-1"))
			if r.status != c.want || r.header.Get("Location") != redirectTarget || r.header.Get("Content-Type") != "text/html" ||
				r.header.Get("X-Request-Id") != "rd-1" || r.header.Get("Retry-After") != "2" {
				t.Errorf("got %d, headers %v", r.status, r.header)
			}
			title := fmt.Sprintf("<title>%d %s</title>", c.want, http.StatusText(c.want))
			if body := string(r.body); !strings.HasPrefix(body, "<html><head>"+title) || !strings.HasSuffix(body, "</html>") || strings.Contains(body, redirectTarget) {
				t.Errorf("body %q, want a short HTML page titled %s", body, title)
			}
			if ids := v.emu.TaskIDs(); len(ids) != 1 || ids[0] != seeded {
				t.Errorf("TaskIDs %v: the redirected request created a task", ids)
			}
			if n := v.emu.Reads(seeded); n != 0 {
				t.Errorf("Reads %d: the redirected request reached the handler", n)
			}
			if rq := lastRequest(t, v.emu); rq.Fault != FaultRedirect || rq.Status != c.want || rq.RequestID != "rd-1" {
				t.Errorf("recorded %+v", rq)
			}
			if pf := v.emu.PendingFaults(); len(pf) != 0 {
				t.Errorf("the fault was not used up: %+v", pf)
			}
			// Used up: the next request is answered.
			if r := v.do(c.method, c.path, c.body); r.status != http.StatusOK {
				t.Errorf("after the fault: %d %s", r.status, r.body)
			}
		})
	}
}

// The redirect is one a client that follows redirects does follow: that
// is the client the provider must not be.
func TestFaultRedirectIsFollowable(t *testing.T) {
	var landed atomic.Pointer[http.Request]
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		landed.Store(r)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer target.Close()
	v := newEnv(t, Options{})
	v.client = &http.Client{} // follows redirects, as http.DefaultClient does
	v.addFault(Fault{Kind: FaultRedirect, Location: target.URL + "/landed?from=emulator"})
	if r := v.getTask("any"); r.status != http.StatusNoContent {
		t.Fatalf("status %d, want the target's 204", r.status)
	}
	if r := landed.Load(); r == nil || r.Method != http.MethodGet || r.URL.Path != "/landed" || r.URL.RawQuery != "from=emulator" {
		t.Errorf("the target got %+v", r)
	}
}

// TestFaultTruncateRawBytes looks at the exact bytes on the wire.
func TestFaultTruncateRawBytes(t *testing.T) {
	v := newEnv(t, Options{})
	v.addFault(Fault{Kind: FaultTruncate})
	conn, err := net.Dial("tcp", v.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /v1/instances/tasks/nope HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "+testToken+"\r\nX-Request-Id: raw\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	want := `{"error_code":"KOOPHONE.API.1323","error_msg":"The app installation task does not exist."}`
	if !errors.Is(err, io.ErrUnexpectedEOF) || res.StatusCode != 400 || res.ContentLength != int64(len(want)) || string(b) != want[:len(want)/2] {
		t.Errorf("status %d, length %d, body %q, err %v", res.StatusCode, res.ContentLength, b, err)
	}
}

// TestFaultsOverHTTP2 covers the fallback when the connection cannot be
// hijacked: the stream is reset instead.
func TestFaultsOverHTTP2(t *testing.T) {
	e := New(Options{Token: testToken})
	id, _ := e.AddTask(TaskSpec{Jobs: []JobSpec{{Status: 2, ExecuteMsg: sp(strings.Repeat("o", 100))}}})
	srv := httptest.NewUnstartedServer(e)
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	get := func() (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/instances/tasks/"+id, nil)
		req.Header.Set("X-Auth-Token", testToken)
		req.Header.Set("X-Request-Id", "h2")
		return srv.Client().Do(req)
	}
	res, err := get()
	if err != nil || res.ProtoMajor != 2 {
		t.Fatalf("HTTP/2 not in use: %v %v", res, err)
	}
	res.Body.Close()

	_ = e.AddFault(Fault{Kind: FaultDrop})
	if res, err := get(); err == nil {
		b, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		if rerr == nil {
			t.Errorf("drop over HTTP/2: got %d %q", res.StatusCode, b)
		}
	}
	_ = e.AddFault(Fault{Kind: FaultTruncate})
	res, err = get()
	if err == nil {
		b, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		if rerr == nil {
			t.Errorf("truncate over HTTP/2: read %d bytes without error", len(b))
		}
	}
	reqs := e.Requests()
	if len(reqs) != 3 || reqs[1].Fault != FaultDrop || reqs[1].Status != 0 || reqs[2].Fault != FaultTruncate || reqs[2].Status != 200 {
		t.Errorf("requests %+v", reqs)
	}
}

// A fault with Process set runs the real handler first (a submit creates
// its task, as it would without the fault) and then misbehaves anyway:
// the "submitted, but the client never learnt it" cases a retried submit
// must not turn into a second command.
func TestFaultProcess(t *testing.T) {
	submitAsync := `{"command":"ls -l /system","instance_ids":["p1"]}`
	cases := []struct {
		name      string
		fault     Fault
		path      string
		body      any
		opts      []reqOpt
		wantTasks int // tasks the request created
		check     func(t *testing.T, r resp, err error)
	}{
		{
			name: "error 500 after an async command", fault: Fault{Kind: FaultError, Process: true},
			path: pathAsync, body: submitAsync, wantTasks: 1,
			check: func(t *testing.T, r resp, err error) { wantErr(t, r, 500, "KOOPHONE.API.9999") },
		},
		{
			name: "error 502 after an app install", fault: Fault{Kind: FaultError, Status: 502, Process: true},
			path: pathInstall, body: validInstall(), wantTasks: 1,
			check: func(t *testing.T, r resp, err error) { wantErr(t, r, 502, "KOOPHONE.API.9999") },
		},
		{
			name: "error 503 after an async command", fault: Fault{Kind: FaultError, Status: 503, Process: true},
			path: pathAsync, body: submitAsync, wantTasks: 1,
			check: func(t *testing.T, r resp, err error) { wantErr(t, r, 503, "KOOPHONE.API.9999") },
		},
		{
			name: "html after an app install", fault: Fault{Kind: FaultHTML, Process: true},
			path: pathInstall, body: validInstall(), wantTasks: 1,
			check: func(t *testing.T, r resp, err error) {
				if r.status != 502 || r.header.Get("Content-Type") != "text/html" || r.body[0] != '<' {
					t.Errorf("got %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
				}
			},
		},
		{
			name: "empty after an async command", fault: Fault{Kind: FaultEmpty, Process: true},
			path: pathAsync, body: submitAsync, wantTasks: 1,
			check: func(t *testing.T, r resp, err error) {
				if r.status != 200 || len(r.body) != 0 {
					t.Errorf("got %d %q", r.status, r.body)
				}
			},
		},
		{
			name: "drop after an async command", fault: Fault{Kind: FaultDrop, Process: true},
			path: pathAsync, body: submitAsync, wantTasks: 1,
			check: func(t *testing.T, r resp, err error) {
				if err == nil {
					t.Errorf("the client got a response: %d %s", r.status, r.body)
				}
			},
		},
		{
			name: "drop after an app install", fault: Fault{Kind: FaultDrop, Process: true},
			path: pathInstall, body: validInstall(), wantTasks: 1,
			check: func(t *testing.T, r resp, err error) {
				if err == nil {
					t.Errorf("the client got a response: %d %s", r.status, r.body)
				}
			},
		},
		// The handler runs exactly as without the fault: a request it
		// refuses creates nothing.
		{
			name: "error after an invalid command", fault: Fault{Kind: FaultError, Status: 503, Process: true},
			path: pathAsync, body: `{"command":"ls\n","instance_ids":["p1"]}`, wantTasks: 0,
			check: func(t *testing.T, r resp, err error) { wantErr(t, r, 503, "KOOPHONE.API.9999") },
		},
		{
			name: "error after a submit without x-request-id", fault: Fault{Kind: FaultError, Process: true},
			path: pathAsync, body: submitAsync, opts: []reqOpt{noRequestID()}, wantTasks: 0,
			check: func(t *testing.T, r resp, err error) { wantErr(t, r, 500, "KOOPHONE.API.9999") },
		},
		// Without Process the fault keeps the request from the handler.
		{
			name: "error without process", fault: Fault{Kind: FaultError},
			path: pathAsync, body: submitAsync, wantTasks: 0,
			check: func(t *testing.T, r resp, err error) { wantErr(t, r, 500, "KOOPHONE.API.9999") },
		},
		{
			name: "drop without process", fault: Fault{Kind: FaultDrop},
			path: pathInstall, body: validInstall(), wantTasks: 0,
			check: func(t *testing.T, r resp, err error) {
				if err == nil {
					t.Errorf("the client got a response: %d %s", r.status, r.body)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newEnv(t, Options{Instances: []string{"p1", "p2"}, JobDuration: -1})
			// A plain client, as the provider's: no retries of its own,
			// and the Transport does not retry a POST.
			v.client = &http.Client{}
			seeded := v.addTask(TaskSpec{})
			c.fault.Match = c.path
			v.addFault(c.fault)
			r, err := v.send(http.MethodPost, c.path, c.body, c.opts...)
			if c.fault.Kind != FaultDrop && err != nil {
				t.Fatalf("send: %v", err)
			}
			c.check(t, r, err)

			ids := v.emu.TaskIDs()
			if len(ids) != 1+c.wantTasks || ids[0] != seeded {
				t.Fatalf("TaskIDs %v: want the seeded task and %d new", ids, c.wantTasks)
			}
			if c.wantTasks == 1 {
				// The task is complete and queryable by the time the
				// client has seen the failure.
				for _, j := range jobsOf(t, v.getTask(ids[1])) {
					if j["status"] != json.Number("2") {
						t.Errorf("job %v", j)
					}
				}
			}
			reqs := v.emu.Requests()
			if len(reqs) == 0 {
				t.Fatal("no requests recorded")
			}
			rq := reqs[0]
			wantStatus := r.status
			if c.fault.Kind == FaultDrop {
				wantStatus = 0 // nothing was written
			}
			if rq.Path != c.path || rq.Fault != c.fault.Kind || rq.Status != wantStatus {
				t.Errorf("recorded %+v, want fault %s status %d", rq, c.fault.Kind, wantStatus)
			}
			if len(v.emu.PendingFaults()) != 0 {
				t.Error("the fault was not used up")
			}
		})
	}
}

// Process on a task query counts a read although the client gets the
// fault's answer.
func TestFaultProcessGetCountsRead(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: 2, AfterPolls: 1}}})
	v.addFault(Fault{Kind: FaultError, Status: 503, Match: id, Process: true})
	wantErr(t, v.getTask(id), 503, "KOOPHONE.API.9999")
	if n := v.emu.Reads(id); n != 1 {
		t.Errorf("Reads %d, want 1", n)
	}
	// The processed read was the first; this one is final.
	if s := jobsOf(t, v.getTask(id))[0]["status"]; s != json.Number("2") {
		t.Errorf("status %v", s)
	}
}
