package koophone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

// sentIDs decodes the body of a phone operation: exactly {"instance_ids": [...]}.
func sentIDs(t *testing.T, req *http.Request) []string {
	t.Helper()
	var body map[string][]string
	dec := json.NewDecoder(req.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body is not {instance_ids: [...]}: %v", err)
	}
	if len(body) != 1 || body["instance_ids"] == nil {
		t.Fatalf("body = %v, want only instance_ids", body)
	}
	return body["instance_ids"]
}

// wantIDsPosted checks that req is a POST to path whose body is exactly
// {"instance_ids": ids}.
func wantIDsPosted(t *testing.T, req *http.Request, path string, ids ...string) {
	t.Helper()
	if req.Method != http.MethodPost || req.URL.Path != path {
		t.Errorf("request = %s %s", req.Method, req.URL.Path)
	}
	if got := sentIDs(t, req); !slices.Equal(got, ids) {
		t.Errorf("instance_ids = %v, want %v", got, ids)
	}
}

func TestRebootInstancesSendsTheIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, `{"error_code":"0","error_msg":"OK"}`))
		c, _ := ts.client(t)
		reqID, err := c.RebootInstances(context.Background(), []string{"p1", "p2"})
		if err != nil {
			t.Fatal(err)
		}
		req := ts.request(0)
		wantIDsPosted(t, req, "/v1/instances/reboot", "p1", "p2")
		if reqID == "" || reqID != req.Header.Get("x-request-id") {
			t.Errorf("request id = %q, sent %q", reqID, req.Header.Get("x-request-id"))
		}
	})
}

func TestRebootInstancesNotAllRunning(t *testing.T) {
	for _, status := range []int{200, 400} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(status, `{"error_code":"KOOPHONE.API.5005","error_msg":"not all instances are running"}`))
				c, _ := ts.client(t)
				reqID, err := c.RebootInstances(context.Background(), []string{"p1"})
				apiErr, ok := errors.AsType[*APIError](err)
				if !ok || apiErr.Code != "KOOPHONE.API.5005" || apiErr.HTTPStatus != status || apiErr.RequestID != reqID || reqID == "" {
					t.Fatalf("err = %#v (request id %q), want the 5005 APIError", err, reqID)
				}
				if _, unknown := errors.AsType[*OutcomeUnknownError](err); unknown {
					t.Errorf("a refusal is an unknown outcome: %v", err)
				}
				if ts.count() != 1 {
					t.Errorf("%d requests, want 1", ts.count())
				}
			})
		})
	}
}

// A reboot and a reset are not idempotent: after an answer that leaves
// open whether the API acted, they are not sent again.
func TestRebootAndResetAreNotResentAfterAnAmbiguousFailure(t *testing.T) {
	ops := map[string]func(*Client) (string, error){
		"reboot": func(c *Client) (string, error) { return c.RebootInstances(context.Background(), []string{"p1"}) },
		"reset": func(c *Client) (string, error) {
			sub, err := c.ResetInstances(context.Background(), []string{"p1"})
			return sub.RequestID, err
		},
	}
	answers := map[string]http.HandlerFunc{
		"HTTP 500":           jsonAnswer(500, `{"error_code":"KOOPHONE.API.9999"}`),
		"502 gateway page":   htmlAnswer(502),
		"connection dropped": hijackAndClose,
	}
	for op, run := range ops {
		for name, answer := range answers {
			t.Run(op+" "+name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ts := newTestServer(t, answer, jsonAnswer(200, `{"error_code":"0","error_msg":"OK"}`))
					c, _ := ts.client(t)
					reqID, err := run(c)
					unknown, ok := errors.AsType[*OutcomeUnknownError](err)
					if !ok || unknown.RequestID == "" || unknown.RequestID != reqID {
						t.Fatalf("err = %v (request id %q), want an unknown outcome with its request id", err, reqID)
					}
					if ts.count() != 1 {
						t.Errorf("%d requests, want 1: it was sent again", ts.count())
					}
				})
			})
		}
	}
}

func TestResetInstancesBothAnswerShapes(t *testing.T) {
	withTask := `{"error_code":"0","error_msg":"OK","data":{"task_id":"RM_6837531fd3f54550927b930180a706bf",` +
		`"cmd_jobs":[{"instance_id":"p1","job_id":"j1"},{"instance_id":"p2","job_id":"j2"}]}}`
	cases := map[string]struct {
		answer string
		want   Submission
	}{
		"task":          {withTask, Submission{TaskID: "RM_6837531fd3f54550927b930180a706bf", Jobs: []SubmittedJob{{"p1", "j1"}, {"p2", "j2"}}}},
		"task, no jobs": {`{"error_code":"0","error_msg":"OK","data":{"task_id":"RM_1"}}`, Submission{TaskID: "RM_1", Jobs: []SubmittedJob{}}},
		"no data":       {`{"error_code":"0","error_msg":"OK"}`, Submission{}},
		"null data":     {`{"error_code":"0","error_msg":"OK","data":null}`, Submission{}},
		"empty object":  {`{"error_code":"0","error_msg":"OK","data":{}}`, Submission{}},
		"empty string":  {`{"error_code":"0","error_msg":"OK","data":""}`, Submission{}},
		"null fields":   {`{"error_code":"0","error_msg":"OK","data":{"task_id":null,"cmd_jobs":null}}`, Submission{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(200, tc.answer))
				c, _ := ts.client(t)
				sub, err := c.ResetInstances(context.Background(), []string{"p1", "p2"})
				if err != nil {
					t.Fatal(err)
				}
				req := ts.request(0)
				wantIDsPosted(t, req, "/v1/instances/batch-reset", "p1", "p2")
				if sub.RequestID == "" || sub.RequestID != req.Header.Get("x-request-id") {
					t.Errorf("request id = %q, sent %q", sub.RequestID, req.Header.Get("x-request-id"))
				}
				if sub.TaskID != tc.want.TaskID || !slices.Equal(sub.Jobs, tc.want.Jobs) {
					t.Errorf("submission = %+v, want %+v", sub, tc.want)
				}
			})
		})
	}
}

// Jobs without a task id, or data that is not an object, name a task the
// client cannot follow: the reset happened, its outcome is unknown.
func TestResetInstancesUnreadableTask(t *testing.T) {
	for name, data := range map[string]string{
		"jobs, no task id": `{"cmd_jobs":[{"instance_id":"p1","job_id":"j1"}]}`,
		"a list":           `[1]`,
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(200, `{"error_code":"0","error_msg":"OK","data":`+data+`}`))
				c, _ := ts.client(t)
				_, err := c.ResetInstances(context.Background(), []string{"p1"})
				if _, ok := errors.AsType[*OutcomeUnknownError](err); !ok {
					t.Errorf("err = %v, want an unknown outcome", err)
				}
			})
		})
	}
}

func TestPhoneOperationsRefuseBadListsBeforeSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, `{"error_code":"0","error_msg":"OK"}`))
		c, _ := ts.client(t)
		tooMany := make([]string, MaxInstancesPerRequest+1)
		for i := range tooMany {
			tooMany[i] = fmt.Sprintf("p%d", i)
		}
		for _, ids := range [][]string{nil, tooMany} {
			if _, err := c.RebootInstances(context.Background(), ids); err == nil {
				t.Errorf("reboot of %d ids: no error", len(ids))
			}
			if _, err := c.ResetInstances(context.Background(), ids); err == nil {
				t.Errorf("reset of %d ids: no error", len(ids))
			}
		}
		got, err := c.InstanceStatuses(context.Background(), nil)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("statuses of no phone = %v, %v; want an empty map", got, err)
		}
		if ts.count() != 0 {
			t.Errorf("%d requests sent", ts.count())
		}
	})
}

// statusAnswer answers batch-query-status with status (as a JSON number)
// for every id asked for except those in skip.
func statusAnswer(t *testing.T, status func(id string) string, skip ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			InstanceIDs []string `json:"instance_ids"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("body: %v", err)
		}
		var items []string
		for _, id := range body.InstanceIDs {
			if !slices.Contains(skip, id) {
				items = append(items, fmt.Sprintf(`{"instance_id":%q,"status":%s}`, id, status(id)))
			}
		}
		jsonAnswer(200, `{"error_code":"0","error_msg":"ok","data":{"status_results":[`+strings.Join(items, ",")+`]}}`)(w, r)
	}
}

func TestInstanceStatusesDecodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, `{"error_code":"0","error_msg":"ok","data":{"status_results":[`+
			`{"instance_id":"p1","status":2},{"instance_id":"p2","status":"4"},{"instance_id":"p3","status":null},`+
			`{"instance_id":"p4","status":7},{"instance_id":"stranger","status":2},{"instance_id":null,"status":1}]}}`))
		c, _ := ts.client(t)
		got, err := c.InstanceStatuses(context.Background(), []string{"p1", "p2", "p3", "p4", "p5", "p1"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"p1": PhoneStatusRunning, "p2": PhoneStatusStarting, "p3": PhoneStatusUnknown, "p4": 7}
		if !maps.Equal(got, want) {
			t.Errorf("statuses = %v, want %v (p5 unlisted, the stranger not asked for)", got, want)
		}
		// Each id once.
		wantIDsPosted(t, ts.request(0), "/v1/instances/batch-query-status", "p1", "p2", "p3", "p4", "p5")
	})
}

func TestInstanceStatusesBadAnswers(t *testing.T) {
	for name, answer := range map[string]string{
		"no data":       `{"error_code":"0","error_msg":"ok"}`,
		"word status":   `{"error_code":"0","error_msg":"ok","data":{"status_results":[{"instance_id":"p1","status":"running"}]}}`,
		"business code": `{"error_code":"KOOPHONE.API.1001","error_msg":"No permission to operate the instance."}`,
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(200, answer))
				c, _ := ts.client(t)
				if _, err := c.InstanceStatuses(context.Background(), []string{"p1"}); err == nil {
					t.Fatal("no error")
				}
				if ts.count() != 1 {
					t.Errorf("%d requests, want 1: a permanent error is not retried", ts.count())
				}
			})
		})
	}
}

// The status query is a POST, yet a read: a transient failure is retried
// as a GET's is, even one after which the API may have acted.
func TestInstanceStatusesIsRetriedLikeARead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ok := statusAnswer(t, func(string) string { return "2" })
		ts := newTestServer(t, jsonAnswer(500, `{"error_code":"KOOPHONE.API.9999"}`), hijackAndClose, htmlAnswer(503), ok)
		c, _ := ts.client(t)
		got, err := c.InstanceStatuses(context.Background(), []string{"p1"})
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, map[string]int64{"p1": 2}) || ts.count() != 4 {
			t.Errorf("statuses %v after %d requests, want p1 running after 4", got, ts.count())
		}
	})
}

func TestInstanceStatusesSplitsIntoRequestsOf100(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, statusAnswer(t, func(id string) string { return fmt.Sprintf("%q", id[len(id)-1:]) }, "p-150"))
		c, _ := ts.client(t)
		ids := make([]string, 250)
		for i := range ids {
			ids[i] = fmt.Sprintf("p-%03d", i)
		}
		got, err := c.InstanceStatuses(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		if ts.count() != 3 {
			t.Fatalf("%d requests, want 3", ts.count())
		}
		for i, want := range [][]string{ids[:100], ids[100:200], ids[200:]} {
			if sent := sentIDs(t, ts.request(i)); !slices.Equal(sent, want) {
				t.Errorf("request %d sent %d ids %v..., want %v...", i, len(sent), sent[:1], want[:1])
			}
		}
		if len(got) != 249 || got["p-007"] != 7 || got["p-249"] != 9 {
			t.Errorf("%d statuses (p-007 %d, p-249 %d), want 249 (all but p-150)", len(got), got["p-007"], got["p-249"])
		}
		if _, listed := got["p-150"]; listed {
			t.Error("p-150, left out of the answer, has a status")
		}
	})
}

// A failing request ends the read; the statuses of the requests before it
// are returned with the error.
func TestInstanceStatusesKeepsEarlierPagesOnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, statusAnswer(t, func(string) string { return "1" }),
			jsonAnswer(400, `{"error_code":"KOOPHONE.API.1001","error_msg":"No permission to operate the instance."}`))
		c, _ := ts.client(t)
		ids := make([]string, 150)
		for i := range ids {
			ids[i] = fmt.Sprintf("p%d", i)
		}
		got, err := c.InstanceStatuses(context.Background(), ids)
		if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Code != "KOOPHONE.API.1001" {
			t.Fatalf("err = %v, want 1001", err)
		}
		if len(got) != 100 || got["p0"] != PhoneStatusStopped {
			t.Errorf("%d statuses, want the first request's 100", len(got))
		}
	})
}
