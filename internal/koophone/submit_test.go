package koophone

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
)

const okSubmission = `{"error_code":"0","error_msg":"ok","data":{"task_id":"6837531fd3f54550927b930180a706bf",` +
	`"cmd_jobs":[{"instance_id":"p1","job_id":"j1"},{"instance_id":"p2","job_id":"j2"}]}}`

func TestSubmitCommandSendsTheDocumentedBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, okSubmission))
		c, log := ts.client(t)
		command := `pm list packages | grep "koo"`
		sub, err := c.SubmitCommand(context.Background(), command, []string{"p1", "p2"})
		if err != nil {
			t.Fatal(err)
		}
		want := Submission{TaskID: "6837531fd3f54550927b930180a706bf", Jobs: []SubmittedJob{{"p1", "j1"}, {"p2", "j2"}}}
		if sub.TaskID != want.TaskID || len(sub.Jobs) != 2 || sub.Jobs[0] != want.Jobs[0] || sub.Jobs[1] != want.Jobs[1] {
			t.Errorf("submission = %+v, want %+v", sub, want)
		}
		req := ts.request(0)
		if sub.RequestID == "" || sub.RequestID != req.Header.Get("x-request-id") {
			t.Errorf("request id = %q, sent %q", sub.RequestID, req.Header.Get("x-request-id"))
		}
		if req.Method != http.MethodPost || req.URL.Path != "/v1/instances/async-command" {
			t.Errorf("request = %s %s", req.Method, req.URL.Path)
		}
		if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q", ct)
		}
		var body map[string]any
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if ids, _ := body["instance_ids"].([]any); body["command"] != command || len(ids) != 2 || len(body) != 2 {
			t.Errorf("body = %v", body)
		}
		if strings.Contains(log.all(), "grep") {
			t.Errorf("the command was logged: %s", log.all())
		}
	})
}

func TestInstallAppBodyAndBothResponseShapes(t *testing.T) {
	nested := `{"error_code":"0","error_msg":"ok","data":{"data":{"task_id":"ZGCA01",` +
		`"cmd_jobs":[{"instance_id":"p1","job_id":"j1"}]}}}`
	flat := `{"error_code":"0","error_msg":"ok","data":{"task_id":"ZGCA01",` +
		`"cmd_jobs":[{"instance_id":"p1","job_id":"j1"}]}}`
	for name, answer := range map[string]string{"flat": flat, "nested": nested} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, jsonAnswer(200, answer))
				c, _ := ts.client(t)
				sub, err := c.InstallApp(context.Background(), testInstallRequest)
				if err != nil {
					t.Fatal(err)
				}
				if sub.TaskID != "ZGCA01" || len(sub.Jobs) != 1 || sub.Jobs[0] != (SubmittedJob{"p1", "j1"}) {
					t.Errorf("submission = %+v", sub)
				}
				req := ts.request(0)
				if req.URL.Path != "/v1/instances/app/install" {
					t.Errorf("path = %s", req.URL.Path)
				}
				raw, _ := io.ReadAll(req.Body)
				var body map[string]any
				if err := json.Unmarshal(raw, &body); err != nil {
					t.Fatal(err)
				}
				want := map[string]any{
					"object_name": "com.example.game", "file_name": "game.apk", "object_version": "1.2.3", "object_size": "120",
					"biz_type": "apk", "content_type": "application/octet-stream", "fast_install": "1",
					"install_package_url": "https://bucket.obs.example.com/game.apk",
				}
				for k, v := range want {
					if body[k] != v {
						t.Errorf("body[%s] = %v, want %v", k, body[k], v)
					}
				}
				if _, ok := body["content_md5"]; ok {
					t.Errorf("empty content_md5 was sent: %s", raw)
				}
				if ids, _ := body["instance_id_list"].([]any); len(ids) != 1 || ids[0] != "p1" {
					t.Errorf("instance_id_list = %v", body["instance_id_list"])
				}
			})
		})
	}
}

// testInstallRequest is a valid install of one package on phone p1.
var testInstallRequest = InstallAppRequest{
	ObjectName: "com.example.game", FileName: "game.apk", ObjectVersion: "1.2.3", ObjectSize: "120",
	BizType: "apk", ContentType: "application/octet-stream",
	InstallPackageURL: "https://bucket.obs.example.com/game.apk", FastInstall: true, InstanceIDs: []string{"p1"},
}

// A submit is not idempotent: only answers that prove the API did nothing
// (throttling, a refused connection) are retried; after any answer that
// leaves the outcome open, the caller learns that it is unknown.
func TestSubmitIsNeverSentTwiceWhenItMayHaveActed(t *testing.T) {
	cases := []struct {
		name     string
		answers  []http.HandlerFunc
		requests int
		unknown  bool
		ok       bool
	}{
		{name: "HTTP 500", answers: []http.HandlerFunc{jsonAnswer(500, `{"error_code":"KOOPHONE.API.9999"}`)}, requests: 1, unknown: true},
		{name: "HTTP 503 gateway page", answers: []http.HandlerFunc{htmlAnswer(503)}, requests: 1, unknown: true},
		{name: "internal error under HTTP 200", answers: []http.HandlerFunc{jsonAnswer(200, `{"error_code":"KOOPHONE.API.9999"}`)}, requests: 1, unknown: true},
		{name: "accepted but no task id", answers: []http.HandlerFunc{jsonAnswer(200, `{"error_code":"0","data":{}}`)}, requests: 1, unknown: true},
		{name: "connection lost after sending", answers: []http.HandlerFunc{hijackAndClose}, requests: 1, unknown: true},
		{name: "HTTP 400 is a refusal", answers: []http.HandlerFunc{jsonAnswer(400, `{"error_code":"KOOPHONE.API.1000"}`)}, requests: 1},
		{name: "business error under HTTP 200", answers: []http.HandlerFunc{jsonAnswer(200, `{"error_code":"KOOPHONE.API.1001"}`)}, requests: 1},
		{
			name:     "HTTP 429 is retried",
			answers:  []http.HandlerFunc{retryAfterAnswer(429, "1"), jsonAnswer(200, okSubmission)},
			requests: 2, ok: true,
		},
		{
			name:     "APIGW.0308 is retried",
			answers:  []http.HandlerFunc{jsonAnswer(200, `{"error_code":"APIGW.0308"}`), jsonAnswer(200, okSubmission)},
			requests: 2, ok: true,
		},
		{
			name:     "429 then 500",
			answers:  []http.HandlerFunc{jsonAnswer(429, `{"error_code":"APIGW.0308"}`), jsonAnswer(500, `{}`)},
			requests: 2, unknown: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, tc.answers...)
				c, _ := ts.client(t)
				_, err := c.SubmitCommand(context.Background(), "reboot", []string{"p1"})
				if n := ts.count(); n != tc.requests {
					t.Errorf("requests = %d, want %d", n, tc.requests)
				}
				var unknown *OutcomeUnknownError
				switch {
				case tc.ok && err != nil:
					t.Fatalf("err = %v", err)
				case tc.ok:
				case err == nil:
					t.Fatal("no error")
				case errors.As(err, &unknown) != tc.unknown:
					t.Errorf("outcome unknown = %v, want %v: %v", !tc.unknown, tc.unknown, err)
				case tc.unknown && (unknown.RequestID == "" || !strings.Contains(err.Error(), unknown.RequestID)):
					t.Errorf("no request id in %v", err)
				case IsTransient(err) && tc.unknown:
					t.Errorf("an unknown outcome is transient: %v", err)
				}
			})
		})
	}
}

// A submit that could not even connect never reached the API, so it is
// sent again, like a read. (A real refused connection, outside a bubble:
// the pauses are cut to nothing.)
func TestSubmitRetriesAConnectionThatWasNeverMade(t *testing.T) {
	c, _ := newTestClient(t, refusingEndpoint(t), noBackoff, func(c *Config) { c.MaxRetries = 2 })
	_, err := c.SubmitCommand(context.Background(), "reboot", []string{"p1"})
	var retryErr *RetryError
	var unknown *OutcomeUnknownError
	if !errors.As(err, &retryErr) || retryErr.Attempts != 3 || errors.As(err, &unknown) {
		t.Fatalf("err = %v, want 3 attempts and a known outcome", err)
	}
}

// Cancelling while a submit is out leaves its outcome unknown; cancelling
// before it could be sent does not.
func TestSubmitCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		arrived := make(chan struct{})
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			// Once the body is read, the server notices the client leaving.
			_, _ = io.Copy(io.Discard, r.Body)
			close(arrived)
			<-r.Context().Done()
		})
		c, _ := ts.client(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { <-arrived; cancel() }()
		_, err := c.SubmitCommand(ctx, "reboot", []string{"p1"})
		var unknown *OutcomeUnknownError
		if !errors.As(err, &unknown) || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled while out: err = %v, want an unknown outcome", err)
		}

		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		_, err = c.SubmitCommand(ctx, "reboot", []string{"p1"})
		if errors.As(err, &unknown) || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled before sending: err = %v, want a plain cancellation", err)
		}
		if ts.count() != 1 {
			t.Errorf("%d requests, want only the first submit", ts.count())
		}
	})
}

func htmlAnswer(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><body>Service Unavailable</body></html>")
	}
}

func retryAfterAnswer(status int, after string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", after)
		jsonAnswer(status, `{"error_code":"APIGW.0308","error_msg":"policy user over ratelimit"}`)(w, r)
	}
}

// hijackAndClose reads the request and closes the connection without an
// answer, as a proxy that dies after forwarding would.
func hijackAndClose(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}
