package clock

import "time"

// NextDeadline returns the deadline of the earliest pending timer, and false
// when no timer is pending.
func (f *Fake) NextDeadline() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next time.Time
	for _, t := range f.timers {
		if next.IsZero() || t.deadline.Before(next) {
			next = t.deadline
		}
	}
	return next, !next.IsZero()
}

// AdvanceToNext moves the clock to the earliest pending timer's deadline,
// firing it (and any other timer due then), and reports whether there was
// one. Simulations of many goroutines use it to jump from event to event.
func (f *Fake) AdvanceToNext() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next time.Time
	for _, t := range f.timers {
		if next.IsZero() || t.deadline.Before(next) {
			next = t.deadline
		}
	}
	if next.IsZero() {
		return false
	}
	f.advanceLocked(next.Sub(f.now))
	return true
}
