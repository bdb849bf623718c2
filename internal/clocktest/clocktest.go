// Package clocktest drives fake clocks (github.com/jonboulle/clockwork) in
// tests: step by step while code under test sleeps on them, or steadily,
// faster than the wall clock, for tests where the code runs out of reach
// (inside the Terraform CLI's plugin protocol).
package clocktest

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// WhenBlocked returns a channel that is closed once n timers are pending
// on c, that is, once the code under test is blocked on the clock; stop
// ends the watch (call it in any case).
func WhenBlocked(c *clockwork.FakeClock, n int) (blocked <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		if c.BlockUntilContext(ctx, n) == nil {
			close(ch)
		}
	}()
	return ch, func() {
		cancel()
		<-done
	}
}

// Until advances c by step each time something sleeps on it, until done
// delivers, and returns what done delivered. Code under test that waits on
// c thus sees time pass exactly as far as it needs, in steps of step, and
// a test never sleeps.
func Until[T any](c *clockwork.FakeClock, step time.Duration, done <-chan T) T {
	for {
		blocked, stop := WhenBlocked(c, 1)
		select {
		case v := <-done:
			stop()
			return v
		case <-blocked:
			stop()
			c.Advance(step)
		}
	}
}

// Scaled returns a fake clock that runs factor times faster than the wall
// clock until the test ends: a goroutine moves it to factor times the real
// time elapsed, every millisecond. Timers fire in order, as on a real
// clock, only sooner: a "30 s" job of an emulator on this clock takes half
// a real second at 60x.
func Scaled(t testing.TB, factor float64) *clockwork.FakeClock {
	t.Helper()
	start := time.Now()
	c := clockwork.NewFakeClockAt(start)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				target := start.Add(time.Duration(float64(time.Since(start)) * factor))
				if d := target.Sub(c.Now()); d > 0 {
					c.Advance(d)
				}
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	return c
}
