package clockctx

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// timedOut reports whether ctx ended because its deadline passed.
func timedOut(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded)
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSleepEndsWhenTheClockPasses(t *testing.T) {
	c := clockwork.NewFakeClockAt(t0)
	done := make(chan error, 1)
	go func() { done <- Sleep(context.Background(), c, time.Minute) }()
	if err := c.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := <-done; err != nil {
		t.Fatalf("Sleep = %v", err)
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	c := clockwork.NewFakeClockAt(t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, c, time.Hour) }()
	if err := c.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep = %v, want context.Canceled", err)
	}
	if !c.Now().Equal(t0) {
		t.Error("the clock moved")
	}
	if err := Sleep(ctx, c, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on an ended context = %v", err)
	}
	if err := Sleep(context.Background(), c, 0); err != nil {
		t.Errorf("Sleep(0) = %v", err)
	}
}

func TestWithTimeoutFollowsTheClock(t *testing.T) {
	c := clockwork.NewFakeClockAt(t0)
	ctx, cancel := WithTimeout(context.Background(), c, time.Minute)
	defer cancel()
	// A live context answers Err at once (clockwork's own would block).
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err of a live context = %v", err)
	}
	c.Advance(59 * time.Second)
	if ctx.Err() != nil || timedOut(ctx) {
		t.Fatal("ended before its deadline")
	}
	c.Advance(time.Second)
	<-ctx.Done()
	if !timedOut(ctx) || !errors.Is(context.Cause(ctx), ErrDeadline) {
		t.Errorf("cause = %v, want ErrDeadline", context.Cause(ctx))
	}
}

func TestWithTimeoutCancelIsNotATimeout(t *testing.T) {
	c := clockwork.NewFakeClockAt(t0)
	ctx, cancel := WithTimeout(context.Background(), c, time.Minute)
	cancel()
	<-ctx.Done()
	if timedOut(ctx) {
		t.Error("a cancelled context reports a timeout")
	}
	// The timer is released: advancing past the deadline changes nothing.
	c.Advance(time.Hour)
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		t.Errorf("cause = %v", context.Cause(ctx))
	}
}

func TestAutoClockJumpsToEachTimer(t *testing.T) {
	c := NewAutoClock(t0)
	if err := Sleep(context.Background(), c, 90*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.Since(t0); got != 90*time.Minute {
		t.Errorf("advanced %v, want 90m", got)
	}
	// A deadline on the way ends the sleep there, as on a real clock.
	ctx, cancel := WithTimeout(context.Background(), c, time.Minute)
	defer cancel()
	if err := Sleep(ctx, c, time.Hour); err == nil || !timedOut(ctx) {
		t.Errorf("Sleep = %v, cause %v; want the deadline", err, context.Cause(ctx))
	}
	if got := c.Since(t0); got != 91*time.Minute {
		t.Errorf("clock at %v, want the deadline, 91m", got)
	}
}
