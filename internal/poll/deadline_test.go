package poll

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
)

func TestWithTimeoutFollowsTheClock(t *testing.T) {
	c := clock.NewFake(t0)
	ctx, cancel := WithTimeout(context.Background(), c, time.Minute)
	defer cancel()
	c.BlockUntilWaiters(1)
	c.Advance(59 * time.Second)
	if ctx.Err() != nil {
		t.Fatal("ended before the deadline")
	}
	c.Advance(time.Second)
	<-ctx.Done()
	if cause := context.Cause(ctx); !errors.Is(cause, ErrDeadline) || !errors.Is(cause, context.DeadlineExceeded) {
		t.Errorf("cause = %v", cause)
	}
}

func TestWithTimeoutCancelStopsItsTimer(t *testing.T) {
	c := clock.NewFake(t0)
	_, cancel := WithTimeout(context.Background(), c, time.Minute)
	cancel() // returns once the watcher has ended
	if c.Waiters() != 0 {
		t.Errorf("%d timers left behind", c.Waiters())
	}
}

// A wait whose context ends by a clock deadline is a timeout, not a
// cancellation, even if a check is in flight; the check's own failure,
// caused by that end, is not reported as the last error.
func TestUntilReportsAClockDeadlineAsATimeout(t *testing.T) {
	c := clock.NewFake(t0)
	ctx, cancel := WithTimeout(context.Background(), c, 10*time.Second)
	defer cancel()
	inCheck := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		calls := 0
		_, err := Until(ctx, baseOptions(c), func(ctx context.Context) (int, bool, error) {
			calls++
			if calls == 1 {
				return 0, false, errTransient
			}
			close(inCheck)
			<-ctx.Done() // a request blocked, e.g. in a rate limiter
			return 0, false, ctx.Err()
		})
		errc <- err
	}()
	c.BlockUntilWaiters(2) // the deadline and the first pause
	c.Advance(time.Second)
	<-inCheck
	c.Advance(9 * time.Second)
	err := <-errc
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TimeoutError", err)
	}
	if !errors.Is(te.LastErr, errTransient) {
		t.Errorf("last error = %v, want the transient failure of the first check", te.LastErr)
	}
}
