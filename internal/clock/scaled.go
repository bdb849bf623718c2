package clock

import (
	"sync"
	"time"
)

// Scaled returns a clock that runs factor times faster than the wall clock:
// a one-second timer fires after 1/factor seconds of real time, and Now
// advances by factor seconds for every real second.
//
// It exists for acceptance tests, where the provider runs inside the
// Terraform CLI's plugin protocol and cannot be driven step by step like a
// fake clock, yet waits of "10 s" between polls must not cost ten real
// seconds. Relative order of events is preserved, so behaviour is the same
// as with the real clock, only compressed.
func Scaled(factor float64) Clock {
	if factor <= 0 {
		factor = 1
	}
	now := time.Now()
	return &scaledClock{factor: factor, realStart: now, virtualStart: now}
}

type scaledClock struct {
	factor       float64
	realStart    time.Time
	virtualStart time.Time
	mu           sync.Mutex
}

func (s *scaledClock) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := time.Since(s.realStart)
	return s.virtualStart.Add(time.Duration(float64(elapsed) * s.factor))
}

func (s *scaledClock) NewTimer(d time.Duration) Timer {
	wall := time.Duration(float64(d) / s.factor)
	inner := time.NewTimer(wall)
	out := make(chan time.Time, 1)
	st := &scaledTimer{inner: inner, c: out, done: make(chan struct{})}
	go func() {
		select {
		case <-inner.C:
			out <- s.Now()
		case <-st.done:
		}
	}()
	return st
}

type scaledTimer struct {
	inner *time.Timer
	c     chan time.Time
	once  sync.Once
	done  chan struct{}
}

func (t *scaledTimer) C() <-chan time.Time { return t.c }

func (t *scaledTimer) Stop() bool {
	stopped := t.inner.Stop()
	t.once.Do(func() { close(t.done) })
	return stopped
}
