package clock

import "time"

// NextDeadline returns the deadline of the earliest pending timer, and false
// when no timer is pending.
func (f *Fake) NextDeadline() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nextDeadlineLocked()
}

// AdvanceToNext moves the clock to the earliest pending timer's deadline,
// firing it (and any other timer due then), and reports whether there was
// one. Simulations of many goroutines use it to jump from event to event.
func (f *Fake) AdvanceToNext() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	next, ok := f.nextDeadlineLocked()
	if ok {
		f.advanceLocked(next.Sub(f.now))
	}
	return ok
}

func (f *Fake) nextDeadlineLocked() (time.Time, bool) {
	var next time.Time
	for _, t := range f.timers {
		if next.IsZero() || t.deadline.Before(next) {
			next = t.deadline
		}
	}
	return next, !next.IsZero()
}
