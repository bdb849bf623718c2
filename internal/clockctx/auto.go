package clockctx

import (
	"sort"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// AutoClock is a fake clock for simulations in virtual time: every timer
// made with NewTimer, After or Sleep fires at once, the clock jumping to
// its deadline, so a wait loop runs a twenty-minute wait in microseconds
// with every timestamp exact. A function given to AfterFunc (such as a
// WithTimeout deadline) runs when a jump reaches its time: the jump stops
// there, runs it, and leaves the timer that asked for the jump unfired, as
// a real deadline would interrupt a sleep.
//
// It suits one waiting goroutine at a time; concurrent sleepers would each
// move the clock by their own pause.
type AutoClock struct {
	*clockwork.FakeClock

	mu    sync.Mutex
	funcs []*autoFunc
}

// NewAutoClock returns an AutoClock set to start.
func NewAutoClock(start time.Time) *AutoClock {
	return &AutoClock{FakeClock: clockwork.NewFakeClockAt(start)}
}

// NewTimer jumps the clock d forward, or to the first AfterFunc due
// before then, and returns a timer that has fired when the clock got to
// its deadline.
func (c *AutoClock) NewTimer(d time.Duration) clockwork.Timer {
	t := c.FakeClock.NewTimer(d)
	target := c.Now().Add(d)
	if f := c.dueBy(target); f != nil {
		c.Advance(f.at.Sub(c.Now()))
		f.fn()
		return t
	}
	c.Advance(d)
	return t
}

// After returns the channel of NewTimer(d).
func (c *AutoClock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).Chan() }

// Sleep moves the clock d forward.
func (c *AutoClock) Sleep(d time.Duration) { <-c.After(d) }

// AfterFunc calls f, synchronously, when a jump of the clock reaches d
// from now.
func (c *AutoClock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	af := &autoFunc{clock: c, at: c.Now().Add(d), fn: f}
	c.funcs = append(c.funcs, af)
	sort.SliceStable(c.funcs, func(i, j int) bool { return c.funcs[i].at.Before(c.funcs[j].at) })
	return af
}

// dueBy removes and returns the first AfterFunc due at or before t.
func (c *AutoClock) dueBy(t time.Time) *autoFunc {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.funcs) == 0 || c.funcs[0].at.After(t) {
		return nil
	}
	f := c.funcs[0]
	c.funcs = c.funcs[1:]
	return f
}

// autoFunc is a function waiting for the clock; as a Timer it can only be
// stopped.
type autoFunc struct {
	clock *AutoClock
	at    time.Time
	fn    func()
}

func (f *autoFunc) Chan() <-chan time.Time { return nil }

func (f *autoFunc) Reset(time.Duration) bool { panic("clockctx: Reset of an AutoClock AfterFunc") }

func (f *autoFunc) Stop() bool {
	c := f.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, g := range c.funcs {
		if g == f {
			c.funcs = append(c.funcs[:i], c.funcs[i+1:]...)
			return true
		}
	}
	return false
}
