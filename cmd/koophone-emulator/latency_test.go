package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// held reports whether an API request to url is held by the emulator: an
// hour of latency keeps it from answering within a second, which no load
// on the machine can make it do.
func held(t *testing.T, url string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/instances/batch-query?page_no=1&page_size=10", nil)
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Request-Id", "latency-1")
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		_ = res.Body.Close()
		return false
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request: %v", err)
	}
	return true
}

// -latency, else the seed's "latency", holds the API requests, not the
// admin API's; the flag wins over the seed, even when it is 0.
func TestRunLatency(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"latency": "1h", "phones": [{"instance_id": "p1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		args     []string
		wantHeld bool
	}{
		{"flag", []string{"-latency", "1h"}, true},
		{"seed", []string{"-seed", seed}, true},
		{"the flag wins", []string{"-seed", seed, "-latency", "0"}, false},
		{"none", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, _, stderr, stop := startRun(t, append([]string{"-quiet"}, c.args...))
			if got := held(t, url); got != c.wantHeld {
				t.Errorf("API request held: %v, want %v", got, c.wantHeld)
			}
			// The admin API answers whatever the latency.
			if status, _, _ := get(t, url+"/_emulator/requests", nil); status != http.StatusOK {
				t.Errorf("admin API: status %d", status)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if announced := strings.Contains(stderr.String(), "holds each API request 1h0m0s"); announced != c.wantHeld {
				t.Errorf("stderr announces the latency: %v, want %v:\n%s", announced, c.wantHeld, stderr)
			}
		})
	}
}
