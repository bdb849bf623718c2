// Package ratelimit paces the API requests of one provider instance.
//
// A Limiter is a token bucket on an injectable clock (so tests and
// benchmarks run it in virtual time) with two additions that a plain bucket
// such as golang.org/x/time/rate lacks:
//
//   - Fair service. When requests wait for tokens, the one that has waited
//     longest goes first. "Waiting" starts at the time a caller puts in its
//     context with WithSince (the task poller puts the time a poll became
//     due, so a request retried after an error keeps its place), else at
//     the call to Wait. No caller can be overtaken forever, so no task of a
//     large wait starves.
//   - Shared slow-down. Throttled, called when the API answers 429, pauses
//     every request (for Retry-After, or the pause given) and halves the
//     rate; after the pause the rate recovers linearly while the API
//     stops throttling (additive increase, multiplicative decrease). Every caller
//     of the provider backs off together, instead of each on its own.
//
// The limiter starts a goroutine only while requests are queued, and that
// goroutine ends once the queue is empty, so nothing outlives a read.
package ratelimit

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
)

// Options tune a Limiter; the zero value gives the provider's behaviour.
type Options struct {
	// Clock times the bucket. Nil means the wall clock.
	Clock clock.Clock
	// Burst is how many requests may go at once after a quiet period. Zero
	// means 1: requests are evenly spaced, so no window of one second ever
	// holds more requests than the rate.
	Burst int
	// MinRate is the floor of the slow-down after throttling, in requests
	// per second. Zero means a sixteenth of the rate.
	MinRate float64
	// Recovery is how much rate, in requests per second, is regained per
	// second after a slow-down. Zero means a tenth of the rate: from half
	// the rate back to all of it in five seconds.
	Recovery float64
	// Cooldown is the shortest time between two slow-downs, so that the
	// 429s of requests that were already in flight count as one signal.
	// Zero means one second; the pause of the throttle is used when it is
	// longer.
	Cooldown time.Duration
}

// Stats describe a Limiter's activity.
type Stats struct {
	// Granted is the number of requests let through.
	Granted int64
	// Waited is the number of requests that had to queue.
	Waited int64
	// Throttles is the number of calls to Throttled.
	Throttles int64
	// SlowDowns is the number of times the rate was cut.
	SlowDowns int64
	// Rate is the current rate in requests per second.
	Rate float64
	// Limit is the configured rate.
	Limit float64
	// Queued is the number of requests waiting now.
	Queued int
	// MaxQueued is the longest the queue has been.
	MaxQueued int
}

// Limiter is a fair token bucket shared by every request of a provider
// instance. It is safe for concurrent use; create it with New.
type Limiter struct {
	clock    clock.Clock
	limit    float64
	burst    float64
	minRate  float64
	recovery float64
	cooldown time.Duration

	mu            sync.Mutex
	tokens        float64
	last          time.Time // when tokens was last brought up to date
	holdUntil     time.Time // no request goes before this
	cutAt         time.Time // the last slow-down; zero when there was none
	cutRate       float64   // the rate right after it
	recoverFrom   time.Time // when the rate starts to recover: the end of the pause
	cooldownUntil time.Time
	queue         waitQueue
	seq           uint64
	running       bool          // the dispatcher goroutine is active
	kick          chan struct{} // wakes the dispatcher early
	stats         Stats
}

// tokenEpsilon absorbs float rounding when a timer fires exactly when a
// token is due.
const tokenEpsilon = 1e-9

// New returns a limiter of rate requests per second. It fails for a rate
// that is not a positive finite number.
func New(rate float64, opts Options) (*Limiter, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("the rate limit must be a positive number of requests per second, got %v", rate)
	}
	l := &Limiter{
		clock:    opts.Clock,
		limit:    rate,
		burst:    float64(opts.Burst),
		minRate:  opts.MinRate,
		recovery: opts.Recovery,
		cooldown: opts.Cooldown,
		kick:     make(chan struct{}, 1),
	}
	if l.clock == nil {
		l.clock = clock.Real()
	}
	if l.burst < 1 {
		l.burst = 1
	}
	if l.minRate <= 0 || l.minRate > rate {
		l.minRate = rate / 16
	}
	if l.recovery <= 0 {
		l.recovery = rate / 10
	}
	if l.cooldown <= 0 {
		l.cooldown = time.Second
	}
	l.tokens = l.burst
	l.last = l.clock.Now()
	l.stats.Limit = rate
	return l, nil
}

type sinceKey struct{}

// WithSince returns a context whose requests count as waiting since t when
// they queue for a token: the longest-waiting request goes first.
func WithSince(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, sinceKey{}, t)
}

func sinceOf(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(sinceKey{}).(time.Time)
	return t, ok
}

// Wait blocks until the request may be sent, or ctx ends (then it returns
// ctx.Err() and the request must not be sent).
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.clock.Now()
	l.refillLocked(now)
	if len(l.queue) == 0 && l.availableLocked(now) {
		l.takeLocked()
		l.mu.Unlock()
		return nil
	}
	since, ok := sinceOf(ctx)
	if !ok {
		since = now
	}
	w := &waiter{since: since, seq: l.seq, ready: make(chan struct{})}
	l.seq++
	heap.Push(&l.queue, w)
	l.stats.Waited++
	l.stats.MaxQueued = max(l.stats.MaxQueued, len(l.queue))
	l.dispatchLocked(now)
	if len(l.queue) > 0 && !l.running {
		l.running = true
		go l.dispatcher()
	}
	l.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.index < 0 {
		// Granted just as the context ended: give the token back.
		l.tokens = min(l.tokens+1, l.burst)
		l.stats.Granted--
		l.dispatchLocked(l.clock.Now())
	} else {
		heap.Remove(&l.queue, w.index)
	}
	l.kickLocked()
	return ctx.Err()
}

// Throttled tells the limiter that the API refused a request for its rate:
// no request is sent for pause (the answer's Retry-After, or the caller's
// default), and the rate is halved, at most once per cooldown, down to the
// floor. Once the pause is over, the rate recovers linearly.
func (l *Limiter) Throttled(pause time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.refillLocked(now)
	l.stats.Throttles++
	if !now.Before(l.cooldownUntil) {
		l.cutRate = max(l.minRate, l.rateAt(now)/2)
		l.cutAt = now
		l.recoverFrom = now
		l.cooldownUntil = now.Add(max(l.cooldown, pause))
		l.tokens = min(l.tokens, 0)
		l.stats.SlowDowns++
	}
	if pause > 0 {
		if until := now.Add(pause); until.After(l.holdUntil) {
			l.holdUntil = until
		}
		// Recovery starts once the pause is over.
		if l.holdUntil.After(l.recoverFrom) {
			l.recoverFrom = l.holdUntil
		}
	}
	l.kickLocked()
}

// Rate returns the current rate in requests per second.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rateAt(l.clock.Now())
}

// Stats returns a snapshot of the limiter's counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Rate = l.rateAt(l.clock.Now())
	s.Queued = len(l.queue)
	return s
}

// rateAt is the rate at time t: the configured limit, or after a
// slow-down the cut rate plus the recovery since the pause ended.
func (l *Limiter) rateAt(t time.Time) float64 {
	if l.cutAt.IsZero() {
		return l.limit
	}
	elapsed := t.Sub(l.recoverFrom).Seconds()
	if elapsed < 0 {
		elapsed = 0
	}
	return min(l.limit, l.cutRate+l.recovery*elapsed)
}

// refillLocked adds the tokens earned since the last refill.
func (l *Limiter) refillLocked(now time.Time) {
	if !now.After(l.last) {
		return
	}
	dt := now.Sub(l.last).Seconds()
	// The rate is piecewise linear in time: the mean of its two ends is
	// exact within a recovery and a slight overestimate across its end.
	earned := (l.rateAt(l.last) + l.rateAt(now)) / 2 * dt
	l.tokens = min(l.burst, l.tokens+earned)
	l.last = now
}

func (l *Limiter) availableLocked(now time.Time) bool {
	return !now.Before(l.holdUntil) && l.tokens >= 1-tokenEpsilon
}

func (l *Limiter) takeLocked() {
	l.tokens--
	l.stats.Granted++
}

// dispatchLocked grants tokens to queued requests, longest-waiting first.
func (l *Limiter) dispatchLocked(now time.Time) {
	for len(l.queue) > 0 && l.availableLocked(now) {
		w, ok := heap.Pop(&l.queue).(*waiter)
		if !ok {
			panic("ratelimit: queue holds a non-waiter")
		}
		l.takeLocked()
		close(w.ready)
	}
	if len(l.queue) == 0 {
		// Let an idle dispatcher end at once rather than at its timer.
		l.kickLocked()
	}
}

// untilAvailableLocked is how long until the next token can be granted.
func (l *Limiter) untilAvailableLocked(now time.Time) time.Duration {
	var d time.Duration
	if now.Before(l.holdUntil) {
		d = l.holdUntil.Sub(now)
	}
	at := now.Add(d)
	tokens := min(l.burst, l.tokens+(l.rateAt(now)+l.rateAt(at))/2*d.Seconds())
	if missing := 1 - tokens; missing > tokenEpsilon {
		// Rounded up to the nanosecond, so the timer never fires a hair
		// before the token is there.
		d += time.Duration(math.Ceil(missing / l.rateAt(at) * float64(time.Second)))
	}
	return max(d, time.Nanosecond)
}

func (l *Limiter) kickLocked() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// dispatcher grants tokens as they become available while requests are
// queued, then ends.
func (l *Limiter) dispatcher() {
	for {
		l.mu.Lock()
		now := l.clock.Now()
		l.refillLocked(now)
		l.dispatchLocked(now)
		if len(l.queue) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		d := l.untilAvailableLocked(now)
		l.mu.Unlock()
		t := l.clock.NewTimer(d)
		select {
		case <-t.C():
		case <-l.kick:
			t.Stop()
		}
	}
}

// waiter is a request queued for a token.
type waiter struct {
	since time.Time
	seq   uint64
	ready chan struct{}
	index int // position in the queue; -1 once granted
}

// waitQueue is a heap of waiters, longest-waiting first (then first come).
type waitQueue []*waiter

func (q waitQueue) Len() int { return len(q) }

func (q waitQueue) Less(i, j int) bool {
	if !q[i].since.Equal(q[j].since) {
		return q[i].since.Before(q[j].since)
	}
	return q[i].seq < q[j].seq
}

func (q waitQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *waitQueue) Push(x any) {
	w, ok := x.(*waiter)
	if !ok {
		panic("ratelimit: pushed a non-waiter")
	}
	w.index = len(*q)
	*q = append(*q, w)
}

func (q *waitQueue) Pop() any {
	old := *q
	n := len(old)
	w := old[n-1]
	old[n-1] = nil
	w.index = -1
	*q = old[:n-1]
	return w
}
