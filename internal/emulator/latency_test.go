package emulator

import (
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// WithAPILatency holds each API request for the latency, in the bubble's
// virtual time, and lets the admin API answer at once; no latency is the
// handler itself.
func TestWithAPILatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := New(Options{Token: testToken, Phones: pool(3)})
		srv := ServeInMemory(WithAPILatency(emu, 50*time.Millisecond))
		var dials atomic.Int64
		client, tr := memClient(srv, &dials)
		defer srv.Close()
		defer tr.CloseIdleConnections()
		for _, c := range []struct {
			path string
			auth bool
			want time.Duration
		}{
			{pathList + "?page_no=1&page_size=10", true, 50 * time.Millisecond},
			{"/v1/instances/tasks/nope", true, 50 * time.Millisecond},
			{"/_emulator/requests", false, 0},
			{"/_emulator/tasks", false, 0},
		} {
			req, _ := http.NewRequest(http.MethodGet, InMemoryURL+c.path, nil)
			if c.auth {
				req.Header.Set("X-Auth-Token", testToken)
				req.Header.Set("X-Request-Id", "r-1")
			}
			start := time.Now()
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if took := time.Since(start); took != c.want {
				t.Errorf("%s took %v, want %v", c.path, took, c.want)
			}
		}
		if n := len(emu.Requests()); n != 2 {
			t.Errorf("%d API requests recorded, want 2", n)
		}
	})
	emu := New(Options{Token: testToken})
	if h := WithAPILatency(emu, 0); h != http.Handler(emu) {
		t.Errorf("no latency: got a wrapper %T", h)
	}
}
