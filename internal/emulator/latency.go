package emulator

import (
	"net/http"
	"strings"
	"time"
)

// WithLatency returns a handler that waits d of real time before passing
// each request to h, as a network round trip to a distant API would, so a
// benchmark can tell the client's own overhead from the network's. A
// request whose context ends during the wait gets no response.
func WithLatency(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}

// WithAPILatency is WithLatency for the API requests only: the admin API
// under /_emulator/ answers at once, so a script that programs faults or
// reads the requests is not slowed down with the provider it tests.
func WithAPILatency(h http.Handler, d time.Duration) http.Handler {
	delayed := WithLatency(h, d)
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, adminPrefix) {
			h.ServeHTTP(w, r)
			return
		}
		delayed.ServeHTTP(w, r)
	})
}
