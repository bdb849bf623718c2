package emulator

import (
	"sort"
	"time"
)

// RequestsPerSecond counts the API requests by the whole second (Unix
// seconds, on the emulator's clock) in which they arrived, so a benchmark
// can check a client's rate limit the way a gateway counting "requests per
// second" would.
func (e *Emulator) RequestsPerSecond() map[int64]int {
	counts := map[int64]int{}
	for _, r := range e.Requests() {
		counts[r.Time.Unix()]++
	}
	return counts
}

// PeakRequests returns the largest number of API requests that arrived
// within any window of the given length (half-open: [t, t+window)), and
// when that window started. It is stricter than RequestsPerSecond: a burst
// that straddles two whole seconds counts once, in full.
func (e *Emulator) PeakRequests(window time.Duration) (int, time.Time) {
	reqs := e.Requests()
	times := make([]time.Time, len(reqs))
	for i, r := range reqs {
		times[i] = r.Time
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, at := 0, time.Time{}
	j := 0
	for i := range times {
		for j < len(times) && times[j].Sub(times[i]) < window {
			j++
		}
		if n := j - i; n > best {
			best, at = n, times[i]
		}
	}
	return best, at
}
