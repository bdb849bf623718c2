package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

func TestDescribeReadFailure(t *testing.T) {
	running := koophone.Task{ID: "t1", Jobs: []koophone.Job{{Status: 2}, {Status: -1}, {Status: 1}, {Status: 9}, {Status: 0}}}
	readTimeout := timeoutExpired{"timeouts.read", time.Minute}
	waiting := waitSettings{Wait: true, Timeout: time.Minute, TimeoutName: "timeouts.read"}
	pd := &providerData{endpoint: "https://e.example"}
	cases := []struct {
		name    string
		res     taskwait.Result
		ws      waitSettings
		summary string
		detail  []string
	}{
		{
			"cancelled", taskwait.Result{TaskID: "t1", Observed: true, Task: running,
				Err: &taskwait.StopError{Cause: context.Canceled, Elapsed: 3 * time.Second, Polls: 2}}, waiting,
			"Wait for KooPhone task interrupted", []string{`"t1"`, "interrupted after 3s", "the run was interrupted (Ctrl-C",
				"2 of 5 jobs done (1 successful, 1 failed), 1 still running, 1 not started, 1 in an unknown state"},
		},
		{
			"timeout while running", taskwait.Result{TaskID: "t1", Observed: true, Task: running,
				Err: &taskwait.StopError{Cause: readTimeout, Elapsed: time.Minute, Polls: 9}}, waiting,
			"Timed out waiting for KooPhone task", []string{`Task "t1" is still running after 1m0s (timeouts.read is 1m0s): timeouts.read (1m0s) ran out.`,
				"Last state: running, after 9 polls", "Raise timeouts.read"},
		},
		{
			"timeout before any successful poll", taskwait.Result{TaskID: "t1",
				Err: &taskwait.StopError{Cause: readTimeout, Elapsed: time.Minute, Polls: 7, LastErr: errors.New("HTTP 503")}}, waiting,
			"Timed out waiting for KooPhone task", []string{"could not be read successfully within timeouts.read (1m0s), after 7 polls", "The last poll failed: HTTP 503"},
		},
		{
			"deadline without waiting", taskwait.Result{TaskID: "t1",
				Err: &taskwait.StopError{Cause: timeoutExpired{"timeouts.read", 5 * time.Second}, Elapsed: 5 * time.Second, Polls: 1, LastErr: errors.New("HTTP 503 (last attempt)")}},
			waitSettings{Timeout: 5 * time.Second, TimeoutName: "timeouts.read"},
			"Timed out reading KooPhone task", []string{"within timeouts.read (5s): HTTP 503 (last attempt)"},
		},
		{
			"gateway 404", taskwait.Result{TaskID: "t1", Err: &koophone.APIError{HTTPStatus: 404, Code: "APIGW.0101", Message: "The API does not exist", RequestID: "r1"}},
			waitSettings{}, "KooPhone API not found at this endpoint", []string{"https://e.example", "APIGW.0101", "request id r1", "without the /v1/... path"},
		},
		{
			"other API error", taskwait.Result{TaskID: "t1", Err: &koophone.APIError{HTTPStatus: 200, Code: "KOOPHONE.API.1004", Message: "service not subscribed", RequestID: "r2"}},
			waitSettings{}, "KooPhone API error", []string{"error code KOOPHONE.API.1004, HTTP 200", `message "service not subscribed"`, "request id r2"},
		},
		{
			"undecodable", taskwait.Result{TaskID: "t1", Err: &koophone.ResponseError{HTTPStatus: 200, Reason: "got an HTML page", Excerpt: "<html>", RequestID: "r3"}},
			waitSettings{}, "Unexpected response from the KooPhone API", []string{"got an HTML page", "<html>", "r3", "https://e.example"},
		},
		{
			"transport", taskwait.Result{TaskID: "t1", Err: &koophone.TransportError{Op: "send request", RequestID: "r4", Err: errors.New("connection refused")}},
			waitSettings{}, "Cannot reach the KooPhone API", []string{"connection refused", "r4", "HTTPS_PROXY"},
		},
		{
			"redirect", taskwait.Result{TaskID: "t1", Err: &koophone.RedirectError{HTTPStatus: 307, Host: "elsewhere.example", RequestID: "r5"}},
			waitSettings{}, "KooPhone API answered with a redirect", []string{"HTTP 307 Temporary Redirect", "to elsewhere.example", "r5", "https://e.example"},
		},
		{
			"unclassified", taskwait.Result{TaskID: "t1", Err: errors.New("boom")},
			waitSettings{}, "KooPhone request failed", []string{"boom"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			summary, detail := describeReadFailure(c.res, c.ws, pd)
			if summary != c.summary {
				t.Errorf("summary = %q, want %q", summary, c.summary)
			}
			for _, want := range c.detail {
				if !strings.Contains(detail, want) {
					t.Errorf("detail lacks %q:\n%s", want, detail)
				}
			}
		})
	}
}

func TestProgressSentenceWithoutJobs(t *testing.T) {
	if got := progressSentence(koophone.Task{}.Tally()); got != "The task has no job yet." {
		t.Errorf("got %q", got)
	}
}

// A rejected read of many tasks gives the same advice as a read of one:
// about the credentials actually in use.
func TestTasksReadDiagnosticsAdviseOnTheCredentialsInUse(t *testing.T) {
	results := []taskwait.Result{{TaskID: "t1", Err: &koophone.APIError{HTTPStatus: 401, Code: "APIGW.0301", RequestID: "r1"}}}
	diags := tasksReadDiagnostics(results, waitSettings{}, &providerData{endpoint: "https://e.example", auth: authSummary{Method: authAKSK, Source: "the provider block"}})
	if len(diags) != 1 || diags[0].Summary() != "KooPhone rejected the credentials" {
		t.Fatalf("diags = %v", diags)
	}
	if detail := diags[0].Detail(); !strings.Contains(detail, "signed (SDK-HMAC-SHA256) with the access key from the provider block") {
		t.Errorf("advice is not about the access key:\n%s", detail)
	}
}

// Each kind of failure gets its own summary and advice, with the page it
// happened on.
func TestDescribeListFailure(t *testing.T) {
	progress := koophone.InstanceList{Pages: 2, Instances: make([]koophone.Instance, 200)}
	transport := &koophone.TransportError{Op: "send request", RequestID: "r-1", Err: errors.New("connection refused")}
	pd := &providerData{endpoint: "https://kp.example"}
	for _, c := range []struct {
		err    error
		list   koophone.InstanceList
		filter koophone.InstanceFilter
		want   []string
	}{
		{&koophone.StoppedError{Cause: context.Canceled}, progress, koophone.InstanceFilter{},
			[]string{"Listing KooPhone phones interrupted", "no filter) on page 3, after 2 pages and 200 phones was interrupted: the run was interrupted"}},
		{&koophone.StoppedError{Cause: timeoutExpired{"timeouts.read", time.Minute}, InFlight: true}, koophone.InstanceList{}, koophone.InstanceFilter{PoolName: "demo"},
			[]string{"Timed out listing KooPhone phones", `pool_name "demo"`, "on page 1 did not finish: timeouts.read (1m0s) ran out", "Raise timeouts.read"}},
		{&koophone.ResponseError{HTTPStatus: 200, Reason: "the body is empty", RequestID: "r-2"}, koophone.InstanceList{}, koophone.InstanceFilter{},
			[]string{"Unexpected response from the KooPhone API", "on page 1 failed: unexpected response", "[request id r-2]", "endpoint (https://kp.example)"}},
		{transport, koophone.InstanceList{}, koophone.InstanceFilter{PoolName: "p"},
			[]string{"Cannot reach the KooPhone API", `pool_name "p"`, "connection refused", "[request id r-1]", "HTTPS_PROXY"}},
		{&koophone.RetryError{Attempts: 5, Last: transport}, progress, koophone.InstanceFilter{},
			[]string{"KooPhone API unavailable", "on page 3, after 2 pages and 200 phones failed 5 times in a row with transient errors", "max_retries"}},
		{&koophone.APIError{HTTPStatus: 404, Code: koophone.CodeGatewayNotFound, RequestID: "r-3"}, koophone.InstanceList{}, koophone.InstanceFilter{},
			[]string{"KooPhone API not found at this endpoint", "https://kp.example", "request id r-3", "without the /v1/... path"}},
		{&koophone.RedirectError{HTTPStatus: 302, Host: "login.example:8443", RequestID: "r-4"}, koophone.InstanceList{}, koophone.InstanceFilter{},
			[]string{"KooPhone API answered with a redirect", "HTTP 302 Found", "to login.example:8443", "does not follow redirects", "r-4", "Nothing was sent"}},
		{errors.New("boom"), koophone.InstanceList{}, koophone.InstanceFilter{}, []string{"KooPhone request failed", "on page 1 failed: boom"}},
	} {
		summary, detail := describeListFailure(c.err, c.list, c.filter, pd)
		text := summary + "\n" + detail
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%v: %q lacks %q", c.err, text, w)
			}
		}
	}
}
