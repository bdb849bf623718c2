package poll

import (
	"context"
	"fmt"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
)

// ErrDeadline is the cause of a context ended by WithTimeout. It matches
// context.DeadlineExceeded, so Until reports such an end as a
// *TimeoutError.
var ErrDeadline = fmt.Errorf("the wait's time limit passed: %w", context.DeadlineExceeded)

// WithTimeout returns a copy of ctx that ends, with cause ErrDeadline, once
// d has passed on clock c. Unlike context.WithTimeout it follows the
// injected clock, so one deadline can bound many concurrent waits (and
// everything they block on, such as a rate limiter) in virtual time too.
//
// The returned cancel must be called; it returns only once the goroutine
// that watches the clock has ended.
func WithTimeout(ctx context.Context, c clock.Clock, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := c.NewTimer(d)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-t.C():
			cancel(ErrDeadline)
		case <-ctx.Done():
			t.Stop()
		}
	}()
	return ctx, func() {
		cancel(context.Canceled)
		<-done
	}
}
