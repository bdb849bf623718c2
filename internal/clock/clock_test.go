package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestFakeAdvanceFiresTimersInOrder(t *testing.T) {
	f := NewFake(t0)
	late := f.NewTimer(10 * time.Second)
	early := f.NewTimer(time.Second)
	f.Advance(5 * time.Second)
	select {
	case at := <-early.C():
		if !at.Equal(t0.Add(time.Second)) {
			t.Errorf("early fired at %v", at)
		}
	default:
		t.Fatal("early timer did not fire")
	}
	select {
	case <-late.C():
		t.Fatal("late timer fired early")
	default:
	}
	if f.Waiters() != 1 {
		t.Errorf("waiters = %d", f.Waiters())
	}
	f.Advance(5 * time.Second)
	if at := <-late.C(); !at.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("late fired at %v", at)
	}
	if !f.Now().Equal(t0.Add(10 * time.Second)) {
		t.Errorf("now = %v", f.Now())
	}
}

func TestFakeStop(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Error("Stop of a pending timer returned false")
	}
	if tm.Stop() {
		t.Error("second Stop returned true")
	}
	f.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Error("stopped timer fired")
	default:
	}
}

func TestFakeZeroTimerFiresAtOnce(t *testing.T) {
	f := NewFake(t0)
	select {
	case <-f.NewTimer(0).C():
	default:
		t.Fatal("zero timer did not fire")
	}
}

func TestAutoFakeJumpsToDeadline(t *testing.T) {
	f := NewAutoFake(t0)
	if err := Sleep(context.Background(), f, 90*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := f.Now().Sub(t0); got != 90*time.Minute {
		t.Errorf("advanced %v", got)
	}
}

func TestSleepHonoursContext(t *testing.T) {
	f := NewFake(t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, f, time.Hour) }()
	f.BlockUntilWaiters(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if f.Waiters() != 0 {
		t.Error("cancelled sleep left its timer behind")
	}
	if err := Sleep(ctx, f, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep on a done context = %v", err)
	}
}

func TestScaledClockCompressesTime(t *testing.T) {
	s := Scaled(1000)
	start := s.Now()
	realStart := time.Now()
	if err := Sleep(context.Background(), s, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if wall := time.Since(realStart); wall > 2*time.Second {
		t.Errorf("a 5 s sleep at 1000x took %v of real time", wall)
	}
	if virtual := s.Now().Sub(start); virtual < 5*time.Second {
		t.Errorf("virtual time advanced only %v", virtual)
	}
}

func TestScaledTimerStop(t *testing.T) {
	s := Scaled(1)
	tm := s.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Error("Stop returned false")
	}
	tm.Stop() // idempotent
}

func TestRealClock(t *testing.T) {
	c := Real()
	if d := time.Since(c.Now()); d < 0 || d > time.Minute {
		t.Errorf("real clock off by %v", d)
	}
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	if tm.Stop() {
		t.Error("Stop after firing returned true")
	}
}

func TestFakeAdvanceToNext(t *testing.T) {
	f := NewFake(t0)
	if f.AdvanceToNext() {
		t.Fatal("advanced with no timer pending")
	}
	late := f.NewTimer(3 * time.Second)
	early := f.NewTimer(time.Second)
	if next, ok := f.NextDeadline(); !ok || !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("next deadline = %v, %v", next, ok)
	}
	if !f.AdvanceToNext() {
		t.Fatal("did not advance")
	}
	if !f.Now().Equal(t0.Add(time.Second)) {
		t.Errorf("now = %v", f.Now())
	}
	<-early.C()
	select {
	case <-late.C():
		t.Fatal("late timer fired")
	default:
	}
	f.AdvanceToNext()
	<-late.C()
	if !f.Now().Equal(t0.Add(3 * time.Second)) {
		t.Errorf("now = %v", f.Now())
	}
}
