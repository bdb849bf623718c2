package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newLimiter(t *testing.T, rate float64, c clock.Clock) *Limiter {
	t.Helper()
	l, err := New(rate, Options{Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// eventually polls cond (in real time) until it holds, failing after a few
// seconds: the goroutines under test need real time to reach their next
// blocking point, while the clock they measure stays fake.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// noLeak fails the test when goroutines it started are still running at
// its end (goleak waits a moment for them to finish first).
func noLeak(t *testing.T) {
	t.Helper()
	ignoreEarlier := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreEarlier) })
}

func TestNewRejectsUnusableRates(t *testing.T) {
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := New(r, Options{}); err == nil {
			t.Errorf("New(%v) succeeded", r)
		}
	}
}

func TestFirstRequestGoesAtOnceThenEvenSpacing(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	l := newLimiter(t, 4, c)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan time.Time, 3)
	for range 3 {
		go func() {
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			done <- c.Now()
		}()
	}
	eventually(t, "three queued requests", func() bool { return l.Stats().Queued == 3 && c.Waiters() == 1 })
	var got []time.Duration
	for i := range 3 {
		eventually(t, "dispatcher waiting", func() bool { return l.Stats().Queued == 2-i+1 && c.Waiters() == 1 })
		if next, ok := c.NextDeadline(); !ok || next.Sub(c.Now()) != 250*time.Millisecond {
			t.Fatalf("next grant in %v, want 250ms", next.Sub(c.Now()))
		}
		c.AdvanceToNext()
		got = append(got, (<-done).Sub(t0))
	}
	if fmt.Sprint(got) != "[250ms 500ms 750ms]" {
		t.Errorf("granted at %v", got)
	}
	if s := l.Stats(); s.Granted != 4 || s.Waited != 3 || s.MaxQueued != 3 {
		t.Errorf("stats = %+v", s)
	}
}

// runQueued starts one goroutine per context, each waiting on l, waits
// until all are queued, then advances the clock one grant at a time and
// returns the names in the order they were granted.
func runQueued(t *testing.T, c *clock.Fake, l *Limiter, names []string, ctxs []context.Context) []string {
	t.Helper()
	granted := make(chan string, len(names))
	for i, name := range names {
		go func() {
			if err := l.Wait(ctxs[i]); err != nil {
				t.Error(err)
			}
			granted <- name
		}()
		// Queue them one by one so arrival order is known.
		eventually(t, name+" queued", func() bool { return l.Stats().Queued == i+1 })
	}
	var order []string
	for range names {
		eventually(t, "dispatcher waiting", func() bool { return c.Waiters() == 1 })
		c.AdvanceToNext()
		order = append(order, <-granted)
	}
	return order
}

func TestLongestWaitingIsServedFirst(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	l := newLimiter(t, 1, c)
	_ = l.Wait(context.Background()) // empty the bucket
	bg := context.Background()
	ctxs := []context.Context{
		WithSince(bg, t0.Add(-1*time.Second)), // a
		WithSince(bg, t0.Add(-5*time.Second)), // b: waiting longest
		bg,                                    // c: waiting since now
		WithSince(bg, t0.Add(-3*time.Second)), // d
		bg,                                    // e: arrives after c
	}
	order := runQueued(t, c, l, []string{"a", "b", "c", "d", "e"}, ctxs)
	if fmt.Sprint(order) != "[b d a c e]" {
		t.Errorf("served in order %v, want [b d a c e]", order)
	}
}

func TestWithoutSinceServiceIsFirstComeFirstServed(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	l := newLimiter(t, 10, c)
	_ = l.Wait(context.Background())
	names := []string{"1", "2", "3", "4", "5", "6"}
	ctxs := make([]context.Context, len(names))
	for i := range ctxs {
		ctxs[i] = context.Background()
	}
	if order := runQueued(t, c, l, names, ctxs); fmt.Sprint(order) != fmt.Sprint(names) {
		t.Errorf("served in order %v", order)
	}
}

// Greedy callers that ask again the moment they are served, as pollers do
// when the limit is the bottleneck, are served in turns: no one starves,
// and no window of one second holds more grants than the rate.
func TestNoStarvationAndNeverMoreThanTheRateInAnySecond(t *testing.T) {
	noLeak(t)
	const (
		callers = 25
		rate    = 5
		rounds  = 4
	)
	c := clock.NewFake(t0)
	l := newLimiter(t, rate, c)
	_ = l.Wait(context.Background()) // empty the bucket: everyone queues
	ctx, cancel := context.WithCancel(context.Background())
	type grant struct {
		who int
		at  time.Time
	}
	grants := make(chan grant, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				// Each request counts as waiting since it was asked for.
				if err := l.Wait(WithSince(ctx, c.Now())); err != nil {
					return
				}
				grants <- grant{i, c.Now()}
			}
		}()
	}
	quiescent := func() bool { return l.Stats().Queued == callers && c.Waiters() == 1 }
	var log []grant
	for len(log) < callers*rounds {
		eventually(t, "all callers queued", quiescent)
		c.AdvanceToNext()
		log = append(log, <-grants)
	}
	eventually(t, "all callers queued", quiescent)
	cancel()
	wg.Wait()

	// Turns: within each run of `callers` grants, everyone once.
	for r := 0; r+callers <= len(log); r += callers {
		seen := map[int]bool{}
		for _, g := range log[r : r+callers] {
			if seen[g.who] {
				t.Fatalf("caller %d served twice in round %d before others were served once", g.who, r/callers)
			}
			seen[g.who] = true
		}
	}
	// Rate: any half-open one-second window holds at most `rate` grants.
	for i := range log {
		n := 0
		for _, g := range log[i:] {
			if g.at.Sub(log[i].at) < time.Second {
				n++
			}
		}
		if n > rate {
			t.Fatalf("%d grants in the second after %v, want at most %d", n, log[i].at.Sub(t0), rate)
		}
	}
	if s := l.Stats(); s.Queued != 0 {
		t.Errorf("queue not empty after cancellation: %+v", s)
	}
}

func TestCancelledWaitLeavesTheQueue(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	l := newLimiter(t, 1, c)
	_ = l.Wait(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Wait(ctx) }()
	eventually(t, "queued", func() bool { return l.Stats().Queued == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if s := l.Stats(); s.Queued != 0 || s.Granted != 1 {
		t.Errorf("stats = %+v", s)
	}
	// The token the cancelled request did not use is still there.
	c.Advance(time.Second)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(t0); got != time.Second {
		t.Errorf("next request waited until %v", got)
	}
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a done context = %v", err)
	}
}

func TestThrottledPausesEveryoneAndHalvesTheRate(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	l := newLimiter(t, 10, c)
	_ = l.Wait(context.Background())
	l.Throttled(2 * time.Second)
	if r := l.Rate(); r != 5 {
		t.Errorf("rate after a throttle = %v, want 5", r)
	}
	// A second 429 from a request that was already in flight does not
	// cut again, but a longer Retry-After extends the pause.
	l.Throttled(3 * time.Second)
	if s := l.Stats(); s.SlowDowns != 1 || s.Throttles != 2 {
		t.Errorf("stats = %+v", s)
	}
	done := make(chan time.Duration, 1)
	go func() {
		if err := l.Wait(context.Background()); err != nil {
			t.Error(err)
		}
		done <- c.Now().Sub(t0)
	}()
	eventually(t, "queued", func() bool { return l.Stats().Queued == 1 && c.Waiters() == 1 })
	c.AdvanceToNext()
	if got := <-done; got != 3*time.Second {
		t.Errorf("the next request went after %v, want after the 3s pause", got)
	}
}

func TestRateHasAFloor(t *testing.T) {
	c := clock.NewFake(t0)
	l, err := New(16, Options{Clock: c, Recovery: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		l.Throttled(0)
		c.Advance(time.Second) // past the cooldown
	}
	if r := l.Rate(); math.Abs(r-1) > 1e-6 {
		t.Errorf("rate after many throttles = %v, want the floor 1 (16/16)", r)
	}
}

func TestRateRecoversLinearly(t *testing.T) {
	c := clock.NewFake(t0)
	l := newLimiter(t, 16, c)
	l.Throttled(0)
	if r := l.Rate(); r != 8 {
		t.Errorf("rate after a throttle = %v, want 8", r)
	}
	// Recovery is a tenth of the limit per second: 1.6 requests/s per second.
	c.Advance(2500 * time.Millisecond)
	if r := l.Rate(); math.Abs(r-12) > 1e-9 {
		t.Errorf("rate 2.5s after the cut = %v, want 12", r)
	}
	c.Advance(time.Hour)
	if r := l.Rate(); r != 16 {
		t.Errorf("rate long after = %v, want the limit 16", r)
	}
}

// While recovering, requests are spaced by the current (lower) rate.
func TestSpacingFollowsTheReducedRate(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	l, err := New(2, Options{Clock: c, Recovery: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	l.Throttled(0) // rate 1/s, no pause
	var at []time.Duration
	for range 3 {
		done := make(chan struct{})
		go func() {
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			close(done)
		}()
		eventually(t, "queued", func() bool { return l.Stats().Queued == 1 && c.Waiters() == 1 })
		c.AdvanceToNext()
		<-done
		at = append(at, c.Now().Sub(t0).Round(time.Millisecond))
	}
	if fmt.Sprint(at) != "[1s 2s 3s]" {
		t.Errorf("granted at %v, want one per second", at)
	}
}

func TestBurstAllowsThatManyAtOnce(t *testing.T) {
	c := clock.NewFake(t0)
	l, err := New(1, Options{Clock: c, Burst: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for i := range 3 {
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := l.Stats().Waited; got != 0 {
		t.Errorf("%d requests waited, want none within the burst", got)
	}
}
