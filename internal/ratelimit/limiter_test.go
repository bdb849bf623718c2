package ratelimit

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// Every test that involves time runs in a synctest bubble: time.Now, the
// limiter's timers and the tests' sleeps use the bubble's fake clock, which
// starts at 2000-01-01 00:00 UTC and advances only when every goroutine of
// the bubble is blocked.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newLimiter(t *testing.T, capRate float64) *Limiter {
	t.Helper()
	l, err := New(capRate)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// send lets n requests through l, one after another.
func send(t *testing.T, l *Limiter, n int) {
	t.Helper()
	for range n {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// waitAt runs Wait in a goroutine and returns a channel that receives the
// (fake) time at which it returned, or the zero time on error.
func waitAt(ctx context.Context, l *Limiter) <-chan time.Time {
	done := make(chan time.Time, 1)
	go func() {
		if err := l.Wait(ctx); err != nil {
			done <- time.Time{}
			return
		}
		done <- time.Now()
	}()
	return done
}

// grantTimes makes n requests one after another and returns, for each, the
// offset from t0 at which it was let through, to the nearest millisecond
// (the token bucket computes in floating point).
func grantTimes(t *testing.T, l *Limiter, t0 time.Time, n int) []time.Duration {
	t.Helper()
	var got []time.Duration
	for range n {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		got = append(got, time.Since(t0).Round(time.Millisecond))
	}
	return got
}

func TestNewRejectsUnusableRates(t *testing.T) {
	for _, r := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := New(r); err == nil {
			t.Errorf("New(%v) succeeded", r)
		}
	}
}

func TestWithoutACapNothingIsPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		l := newLimiter(t, 0)
		for i := range 1000 {
			if err := l.Wait(context.Background()); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if took := time.Since(t0); took != 0 || !math.IsInf(l.Limit(), 1) {
			t.Errorf("1000 requests took %v of fake time at pace %v; want none, unpaced", took, l.Limit())
		}
	})
}

func TestACapSpacesRequestsEvenly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		l := newLimiter(t, 4)
		got := grantTimes(t, l, t0, 5)
		want := []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond, time.Second}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("grant times %v, want %v", got, want)
			}
		}
	})
}

func TestThrottlePausesEveryoneThenHalvesTheRefusedRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		// Twenty requests in the last second: the API refused a rate of 20/s.
		l := newLimiter(t, 0)
		send(t, l, 20)
		l.Throttled(3 * time.Second)
		if got := l.Limit(); got != 10 {
			t.Fatalf("pace after the throttle = %v, want 10 (half of 20)", got)
		}
		got := grantTimes(t, l, t0, 3)
		// Nothing before the pause ends; then one request per 100 ms at most.
		if got[0] != 3*time.Second || got[1]-got[0] > 100*time.Millisecond || got[1]-got[0] < 90*time.Millisecond {
			t.Errorf("grant times %v, want the first at 3s, then about 100ms apart", got)
		}
		if s := l.Stats(); s.Throttles != 1 || s.SlowDowns != 1 {
			t.Errorf("stats %+v", s)
		}
	})
}

func TestThePaceRecoversThenPacingEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, 0)
		send(t, l, 20)
		l.Throttled(2 * time.Second)
		// The pause, then linear growth: from 10/s by 10/s every recoveryTime.
		time.Sleep(2 * time.Second)
		if got := l.Limit(); got != 10 {
			t.Errorf("pace at the end of the pause = %v, want 10", got)
		}
		time.Sleep(recoveryTime)
		if got := l.Limit(); math.Abs(got-20) > 1e-9 {
			t.Errorf("pace after recoveryTime = %v, want 20", got)
		}
		time.Sleep(2*recoveryTime + time.Millisecond)
		if got := l.Limit(); !math.IsInf(got, 1) {
			t.Errorf("pace back at twice the refused rate = %v, want unpaced", got)
		}
	})
}

func TestACappedPaceRecoversToTheCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, 8)
		_ = grantTimes(t, l, time.Now(), 9) // 8/s for a second
		l.Throttled(time.Second)
		if got := l.Limit(); got > 4.5 || got < 3.5 {
			t.Fatalf("pace = %v, want about 4 (half of 8)", got)
		}
		time.Sleep(time.Second + 2*recoveryTime)
		if got := l.Limit(); got != 8 {
			t.Errorf("pace = %v, want the cap, 8", got)
		}
	})
}

func TestThrottlesInOneCooldownCutOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, 0)
		send(t, l, 40)
		for range 5 {
			l.Throttled(0)
		}
		if got, s := l.Limit(), l.Stats(); got != 20 || s.SlowDowns != 1 || s.Throttles != 5 {
			t.Fatalf("pace %v, stats %+v; want 20 after one cut of five throttles", got, s)
		}
		time.Sleep(cooldown)
		l.Throttled(0)
		if got := l.Limit(); got >= 20 {
			t.Errorf("a throttle after the cooldown did not cut again: %v", got)
		}
	})
}

func TestThePaceHasAFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, 0)
		for range 30 {
			l.Throttled(0)
			time.Sleep(cooldown)
		}
		if got := l.Limit(); got < floorRate || got > 2*floorRate {
			t.Errorf("pace %v after many throttles, want near the floor %v", got, floorRate)
		}
	})
}

func TestARequestWaitingForItsTurnWaitsOutALaterPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		l := newLimiter(t, 1)
		send(t, l, 1) // the one token is taken
		done := waitAt(context.Background(), l)
		synctest.Wait() // the second request waits for its turn, 1 s away
		l.Throttled(10 * time.Second)
		if at := <-done; at.Sub(t0) < 10*time.Second {
			t.Errorf("let through at %v, inside the 10s pause", at.Sub(t0))
		}
	})
}

func TestCancelledWaitReturnsAtOnceAndGivesItsTurnBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		l := newLimiter(t, 1)
		send(t, l, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- l.Wait(ctx) }()
		synctest.Wait() // the second request waits for its turn, 1 s away
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want context.Canceled", err)
		}
		if waited := time.Since(t0); waited != 0 {
			t.Errorf("the cancelled Wait returned %v later, want at once", waited)
		}
		// The cancelled reservation is returned: the next request goes when
		// the cancelled one would have, a second after the first.
		got := grantTimes(t, l, t0, 1)
		if got[0] != time.Second {
			t.Errorf("next request at %v, want 1s", got[0])
		}
	})
}
