package emulator

import (
	"net/http"
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
