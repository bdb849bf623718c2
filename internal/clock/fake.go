package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a manually driven clock for tests and virtual-time benchmarks.
//
// Time moves only through Advance, or, when auto-advance is on, by jumping
// straight to the deadline of each new timer. Auto-advance turns a
// single-goroutine wait loop into an instant simulation: the poller asks for
// a 10 s pause and the clock is at once 10 s later, so a 20-minute wait runs
// in microseconds while every timestamp stays exact.
type Fake struct {
	mu          sync.Mutex
	now         time.Time
	timers      []*fakeTimer
	autoAdvance bool
	waitersCond *sync.Cond
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake {
	f := &Fake{now: start}
	f.waitersCond = sync.NewCond(&f.mu)
	return f
}

// NewAutoFake returns a fake clock set to start that advances to each new
// timer's deadline as soon as the timer is created.
func NewAutoFake(start time.Time) *Fake {
	f := NewFake(start)
	f.autoAdvance = true
	return f
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer creates a timer on the fake clock.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{clock: f, deadline: f.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.fired = true
		t.c <- f.now
		return t
	}
	f.timers = append(f.timers, t)
	f.waitersCond.Broadcast()
	if f.autoAdvance {
		f.advanceLocked(t.deadline.Sub(f.now))
	}
	return t
}

// Advance moves the clock forward by d, firing every timer whose deadline is
// reached, in deadline order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked(d)
}

func (f *Fake) advanceLocked(d time.Duration) {
	target := f.now.Add(d)
	sort.SliceStable(f.timers, func(i, j int) bool { return f.timers[i].deadline.Before(f.timers[j].deadline) })
	kept := f.timers[:0]
	for _, t := range f.timers {
		if !t.deadline.After(target) {
			if t.deadline.After(f.now) {
				f.now = t.deadline
			}
			t.fired = true
			t.c <- t.deadline
			continue
		}
		kept = append(kept, t)
	}
	f.timers = kept
	f.now = target
}

// Waiters returns the number of timers that have not fired or been stopped.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// BlockUntilWaiters blocks until at least n timers are pending, so a test can
// advance the clock only once the code under test is actually waiting.
func (f *Fake) BlockUntilWaiters(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.timers) < n {
		f.waitersCond.Wait()
	}
}

type fakeTimer struct {
	clock    *Fake
	deadline time.Time
	c        chan time.Time
	fired    bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.fired {
		return false
	}
	for i, other := range f.timers {
		if other == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			t.fired = true
			return true
		}
	}
	return false
}
