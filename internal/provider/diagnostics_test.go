package provider

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

func TestDescribeReadFailure(t *testing.T) {
	running := koophone.Task{ID: "t1", Jobs: []koophone.Job{{Status: 2}, {Status: -1}, {Status: 1}, {Status: 9}, {Status: 0}}}
	cases := []struct {
		name    string
		f       readFailure
		summary string
		detail  []string
	}{
		{
			"cancelled", readFailure{TaskID: "t1", Waiting: true, Observed: true, Last: running,
				Err: &taskwait.StopError{Reason: taskwait.StopCanceled, Elapsed: 3 * time.Second, Polls: 2}},
			"Wait for KooPhone task interrupted", []string{`"t1"`, "interrupted after 3s", "2 of 5 jobs done (1 successful, 1 failed), 1 still running, 1 not started, 1 in an unknown state"},
		},
		{
			"timeout before any successful poll", readFailure{TaskID: "t1", Waiting: true, Timeout: time.Minute,
				Err: &taskwait.StopError{Reason: taskwait.StopTimeout, Elapsed: time.Minute, Polls: 7, LastErr: errors.New("HTTP 503")}},
			"Timed out waiting for KooPhone task", []string{"could not be read successfully within timeouts.read (1m0s), after 7 polls", "The last poll failed: HTTP 503"},
		},
		{
			"deadline without waiting", readFailure{TaskID: "t1", Timeout: 5 * time.Second,
				Err: &taskwait.StopError{Reason: taskwait.StopTimeout, Elapsed: 5 * time.Second, Polls: 1, LastErr: errors.New("HTTP 503 (last attempt)")}},
			"Timed out reading KooPhone task", []string{"within timeouts.read (5s): HTTP 503 (last attempt)"},
		},
		{
			"gateway 404", readFailure{TaskID: "t1", Endpoint: "https://wrong.example/api",
				Err: &koophone.APIError{HTTPStatus: 404, Code: "APIGW.0101", Message: "The API does not exist", RequestID: "r1"}},
			"KooPhone API not found at this endpoint", []string{"https://wrong.example/api", "APIGW.0101", "request id r1", "without the /v1/... path"},
		},
		{
			"other API error", readFailure{TaskID: "t1", Err: &koophone.APIError{HTTPStatus: 200, Code: "KOOPHONE.API.1004", Message: "service not subscribed", RequestID: "r2"}},
			"KooPhone API error", []string{"error code KOOPHONE.API.1004, HTTP 200", `message "service not subscribed"`, "request id r2"},
		},
		{
			"undecodable", readFailure{TaskID: "t1", Endpoint: "https://e.example",
				Err: &koophone.ResponseError{HTTPStatus: 200, Reason: "got an HTML page", Excerpt: "<html>", RequestID: "r3"}},
			"Unexpected response from the KooPhone API", []string{"got an HTML page", "<html>", "r3", "https://e.example"},
		},
		{
			"transport", readFailure{TaskID: "t1", Endpoint: "https://e.example",
				Err: &koophone.TransportError{Op: "send request", RequestID: "r4", Err: errors.New("connection refused")}},
			"Cannot reach the KooPhone API", []string{"connection refused", "r4", "HTTPS_PROXY"},
		},
		{
			"unclassified", readFailure{TaskID: "t1", Err: errors.New("boom")},
			"KooPhone request failed", []string{"boom"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			summary, detail := describeReadFailure(c.f)
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
	if got := progressSentence(koophone.Task{}.Summary()); got != "The task has no job yet." {
		t.Errorf("got %q", got)
	}
}

// A rejected read of many tasks gives the same advice as a read of one:
// about the credentials actually in use.
func TestTasksReadDiagnosticsAdviseOnTheCredentialsInUse(t *testing.T) {
	results := []taskwait.Result{{TaskID: "t1", Err: &koophone.APIError{HTTPStatus: 401, Code: "APIGW.0301", RequestID: "r1"}}}
	diags := tasksReadDiagnostics(results, waitSettings{}, "https://e.example", authSummary{Method: authAKSK, Source: "the provider block"})
	if len(diags) != 1 || diags[0].Summary() != "KooPhone rejected the credentials" {
		t.Fatalf("diags = %v", diags)
	}
	if detail := diags[0].Detail(); !strings.Contains(detail, "signed (SDK-HMAC-SHA256) with the access key from the provider block") {
		t.Errorf("advice is not about the access key:\n%s", detail)
	}
}
