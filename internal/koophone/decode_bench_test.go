package koophone

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchTaskBody is a GET task answer of jobs jobs, each with an output of
// outputBytes bytes of adb-style text (lines, so the JSON has escapes).
func benchTaskBody(jobs, outputBytes int) []byte {
	line := "drwxr-xr-x 2 system system 4096 2026-01-01 00:00 com.example.app\n"
	output := strings.Repeat(line, outputBytes/len(line)+1)[:outputBytes]
	type job struct {
		JobID      string  `json:"job_id"`
		Status     int     `json:"status"`
		ErrorCode  *string `json:"error_code"`
		ErrorMsg   *string `json:"error_msg"`
		ExecuteMsg string  `json:"execute_msg"`
	}
	empty := ""
	list := make([]job, jobs)
	for i := range list {
		list[i] = job{JobID: fmt.Sprintf("%032x", i+1), Status: StatusSucceeded, ErrorCode: &empty, ErrorMsg: &empty, ExecuteMsg: output}
	}
	body, err := json.Marshal(map[string]any{"error_code": "0", "error_msg": "ok", "data": map[string]any{"jobs": list}})
	if err != nil {
		panic(err)
	}
	return body
}

// BenchmarkDecodeTask decodes a task of 100 jobs with 1 KiB outputs, the
// largest answer the API documents (100 phones per request, execute_msg
// capped at 1,024 bytes): envelope, then jobs.
func BenchmarkDecodeTask(b *testing.B) {
	body := benchTaskBody(100, 1024)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		env, respErr := decodeEnvelope(http.StatusOK, "application/json", body, nil)
		if respErr != nil {
			b.Fatal(respErr)
		}
		jobs, err := decodeTaskData(env.Data)
		if err != nil || len(jobs) != 100 {
			b.Fatalf("%d jobs, %v", len(jobs), err)
		}
	}
}

// BenchmarkGetTask is the whole read of such a task through the client:
// request, loopback HTTP, body read, decoding. It runs outside any synctest
// bubble, on a real loopback server.
func BenchmarkGetTask(b *testing.B) {
	body := benchTaskBody(100, 1024)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = w.Write(body)
	}))
	defer ts.Close()
	c, err := New(Config{Endpoint: ts.URL, Credentials: TokenCredentials{Token: "t"}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdleConnections()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		task, err := c.GetTask(ctx, "6837531fd3f54550927b930180a706bf")
		if err != nil || len(task.Jobs) != 100 {
			b.Fatalf("%d jobs, %v", len(task.Jobs), err)
		}
	}
}
