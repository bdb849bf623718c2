package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fuzzToken = "fuzz-token-secret"

// FuzzEmulatorRequest sends arbitrary requests to the emulator. Whatever
// arrives, it must not panic, must answer with a valid status, must answer
// API requests with a well-formed envelope, must never echo the token, and
// must grant success only to authenticated requests that carry a request id.
func FuzzEmulatorRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, method, target, token, requestID string, body []byte) {
		req, err := http.NewRequest(method, "http://emulator.test"+target, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if token != "" {
			req.Header.Set("X-Auth-Token", token)
		}
		if requestID != "" {
			req.Header.Set("X-Request-Id", requestID)
		}
		emu := New(Options{Token: fuzzToken, JobDuration: -1})
		if _, err := emu.AddTask(TaskSpec{TaskID: "seeded", Jobs: []JobSpec{{Status: StatusSucceeded}}}); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)

		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		if token != fuzzToken && strings.Contains(rec.Body.String(), fuzzToken) {
			t.Fatal("the response echoes the token")
		}
		if strings.HasPrefix(req.URL.Path, "/_emulator") {
			return
		}
		var env struct {
			ErrorCode *string         `json:"error_code"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.ErrorCode == nil {
			t.Fatalf("API answer is not an envelope: %d %q", rec.Code, rec.Body.String())
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Fatal("no X-Request-Id on the answer")
		}
		if *env.ErrorCode == "0" && (token != fuzzToken || requestID == "") {
			t.Fatalf("success without credentials or request id: %s %s", method, target)
		}
	})
}

// FuzzParseSeed feeds ParseSeed arbitrary seed files, starting from the
// reference one: whatever the bytes, it must not panic (the errors walk
// the JSON to name the field), an error must be about the file, not a
// request body, and a seed it accepts must apply or fail cleanly.
func FuzzParseSeed(f *testing.F) {
	ref, err := os.ReadFile(filepath.Join("..", "..", "examples", "emulator", "seed.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ref)
	f.Add([]byte(`{"tasks":[{},{"jobs":[{},{"stat":1}]}],"rules":[{"kind":"command","after":"5"}]}`))
	f.Add([]byte(`{"phones":[{"instance_id":1}],"faults":[{"kind":"delay","delay":"soon"}]}`))
	f.Add([]byte(`{"phones":[{"instance_id":"p-{01..3}","instance_name":"n {01..3}"},{"instance_id":"p-{9..2}"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		seed, err := ParseSeed(data)
		if err != nil {
			if strings.Contains(err.Error(), "request body") {
				t.Fatalf("a seed file error about a request body: %v", err)
			}
			return
		}
		e := New(Options{Token: fuzzToken})
		_, _ = e.ApplySeed(seed)
	})
}
