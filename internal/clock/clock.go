// Package clock abstracts time so that code which waits (the task poller, the
// API client's retry backoff, the emulator's job progress) can be driven by a
// fake clock in tests and benchmarks instead of sleeping for real.
package clock

import "time"

// Clock tells the time and makes timers. Only the two operations the rest of
// the provider needs are part of it, which keeps fakes small and honest.
type Clock interface {
	// Now returns the current time on this clock.
	Now() time.Time
	// NewTimer returns a timer that fires once, d from Now.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// C delivers the firing time once the timer expires.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it stopped a
	// pending timer (false when it had already fired or been stopped).
	Stop() bool
}

// Real returns the wall clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }
