package emulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"
)

func TestRequestRateStatistics(t *testing.T) {
	synctest.Test(t, testRequestRateStatistics)
}

func testRequestRateStatistics(t *testing.T) {
	// The emulator's clock reads Unix second 1000 at start.
	start := time.Now()
	e := New(Options{Token: "tok", ClockOffset: time.Unix(1000, 0).Sub(start)})
	id, err := e.AddTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
	if err != nil {
		t.Fatal(err)
	}
	get := func() {
		req := httptest.NewRequest(http.MethodGet, "/v1/instances/tasks/"+id, nil)
		req.Header.Set("X-Auth-Token", "tok")
		req.Header.Set("X-Request-Id", "r")
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	// Three requests late in second 1000, two early in second 1001, one in 1003.
	for _, ms := range []int{600, 700, 900, 1100, 1200, 3000} {
		time.Sleep(time.Duration(ms)*time.Millisecond - time.Since(start))
		get()
	}
	per := e.RequestsPerSecond()
	if per[1000] != 3 || per[1001] != 2 || per[1003] != 1 || len(per) != 3 {
		t.Errorf("per second = %v", per)
	}
	n, at := e.PeakRequests(time.Second)
	if n != 5 || !at.Equal(time.Unix(1000, 0).Add(600*time.Millisecond)) {
		t.Errorf("peak = %d at %v, want 5 from 1000.6", n, at)
	}
	if n, _ := e.PeakRequests(200 * time.Millisecond); n != 2 {
		t.Errorf("peak in 200ms = %d", n)
	}
}

func TestWithLatencyDelaysRequests(t *testing.T) {
	synctest.Test(t, testWithLatencyDelaysRequests)
}

// testWithLatencyDelaysRequests runs in a bubble, so the latency is
// measured on its fake clock, exactly.
func testWithLatencyDelaysRequests(t *testing.T) {
	h := WithLatency(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }), 30*time.Millisecond)
	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("status = %d", rec.Code)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answered after %v, want at least 30ms", d)
	}
	start = time.Now()
	WithLatency(h, 0).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("the inner handler's latency was skipped: %v", d)
	}
}
