// Package ratelimit paces the API requests of one provider instance: never
// faster than the provider's rate_limit (if any), and after a throttling
// answer (HTTP 429, APIGW.0308) every request waits out the pause, then goes
// at half the refused rate, which grows back linearly until it reaches the
// cap, or twice the refused rate without one. So every caller backs off
// together instead of each on its own. The token bucket is x/time/rate's,
// whose reservations go in the order they are made; this package adds the
// pause and the slow-down.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	// floorRate is the slowest pace of a slow-down (or the cap if lower).
	floorRate = 0.1
	// recoveryTime is how long the pace takes to grow back from half the
	// refused rate to the refused rate.
	recoveryTime = 5 * time.Second
	// cooldown is the shortest time between two slow-downs (or the pause if
	// longer), so that the 429s of requests in flight together count once.
	cooldown = time.Second
)

// Limiter paces requests; it is safe for concurrent use.
type Limiter struct {
	cap    rate.Limit // rate.Inf without a cap
	floor  rate.Limit
	bucket *rate.Limiter

	mu            sync.Mutex
	holdUntil     time.Time  // no request goes before this
	cut           rate.Limit // the pace right after the last slow-down; 0 when none is in effect
	recovery      rate.Limit // growth of the pace per second after a slow-down
	ceiling       rate.Limit // the pace at which a slow-down ends
	recoverFrom   time.Time  // when the pace starts to grow back: the end of the pause
	cooldownUntil time.Time
	counter       rateCounter
	stats         Stats
}

// Stats count the calls to Throttled, and the SlowDowns they caused (at most
// one per cooldown).
type Stats struct {
	Throttles, SlowDowns int
}

// New returns a limiter of at most capRate requests per second; 0 means no
// cap.
func New(capRate float64) (*Limiter, error) {
	if capRate < 0 || math.IsNaN(capRate) || math.IsInf(capRate, 0) {
		return nil, fmt.Errorf("the rate limit must be a positive number of requests per second, got %v", capRate)
	}
	l := &Limiter{cap: rate.Inf, floor: floorRate}
	if capRate > 0 {
		l.cap = rate.Limit(capRate)
		l.floor = min(l.floor, l.cap)
	}
	l.bucket = rate.NewLimiter(l.cap, 1)
	return l, nil
}

// Wait blocks until a request may be sent, or returns ctx.Err().
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		now := time.Now()
		if hold := l.holdUntil.Sub(now); hold > 0 {
			l.mu.Unlock()
			if err := sleep(ctx, hold); err != nil {
				return err
			}
			continue
		}
		if limit := l.limitAt(now); limit != l.bucket.Limit() {
			l.bucket.SetLimitAt(now, limit)
		}
		r := l.bucket.ReserveN(now, 1)
		l.counter.add(now)
		l.mu.Unlock()

		if err := sleep(ctx, r.DelayFrom(now)); err != nil {
			r.CancelAt(time.Now())
			return err
		}
		l.mu.Lock()
		held := time.Now().Before(l.holdUntil)
		l.mu.Unlock()
		if !held {
			return nil
		}
		// A throttle arrived while this request waited for its turn: it
		// waits out the pause like every other request.
	}
}

// Throttled reports that the API refused a request for its rate: no request
// goes for pause, then the pace is half the rate at which requests went (cut
// at most once per cooldown), growing back linearly.
func (l *Limiter) Throttled(pause time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.stats.Throttles++
	if !now.Before(l.cooldownUntil) {
		refused := min(l.limitAt(now), max(l.counter.rate(now), l.floor))
		l.cut = max(refused/2, l.floor)
		l.recovery = l.cut / rate.Limit(recoveryTime.Seconds())
		l.ceiling = l.cap
		if l.cap == rate.Inf {
			l.ceiling = 2 * refused
		}
		l.recoverFrom = now
		l.cooldownUntil = now.Add(max(cooldown, pause))
		l.stats.SlowDowns++
	}
	if until := now.Add(pause); until.After(l.holdUntil) {
		l.holdUntil = until
	}
	if l.holdUntil.After(l.recoverFrom) {
		l.recoverFrom = l.holdUntil
	}
}

// Limit returns the pace now, in requests per second; +Inf when unpaced.
func (l *Limiter) Limit() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if limit := l.limitAt(time.Now()); limit != rate.Inf {
		return float64(limit)
	}
	return math.Inf(1)
}

// Stats returns a snapshot of the limiter's counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// limitAt is the pace at time t, ending a slow-down that has grown back to
// its ceiling. The caller holds mu.
func (l *Limiter) limitAt(t time.Time) rate.Limit {
	if l.cut == 0 {
		return l.cap
	}
	grown := l.cut + l.recovery*rate.Limit(max(0, t.Sub(l.recoverFrom).Seconds()))
	if grown >= l.ceiling {
		l.cut = 0
		return l.cap
	}
	return grown
}

// rateCounter estimates the rate of the last second from two one-second
// buckets, the previous one weighted by how much of it that second covers.
type rateCounter struct {
	start     time.Time // start of the current bucket
	cur, prev int
}

func (c *rateCounter) roll(now time.Time) {
	switch elapsed := now.Sub(c.start); {
	case elapsed >= 2*time.Second:
		c.start, c.prev, c.cur = now, 0, 0
	case elapsed >= time.Second:
		c.start, c.prev, c.cur = c.start.Add(time.Second), c.cur, 0
	}
}

func (c *rateCounter) add(now time.Time) {
	c.roll(now)
	c.cur++
}

func (c *rateCounter) rate(now time.Time) rate.Limit {
	c.roll(now)
	covered := 1 - now.Sub(c.start).Seconds()
	return rate.Limit(float64(c.cur) + float64(c.prev)*covered)
}

// sleep pauses for d, or returns ctx.Err() as soon as ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return ctx.Err()
}
