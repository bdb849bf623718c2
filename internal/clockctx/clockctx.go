// Package clockctx waits on an injected clock (github.com/jonboulle/clockwork)
// the way the standard library waits on the wall clock: a sleep that ends
// early when its context ends, and a context that ends at a deadline.
//
// Why not clockwork's own WithTimeout: with a fake clock (v0.5.0) its
// context's Err blocks until the context is done, where the context
// contract wants nil; net/http and our own loops call Err on live
// contexts, so a read under such a deadline would hang. (Measured: Err on
// a fresh clockwork.WithTimeout context had not returned after a second.)
// The context here is a plain context.WithCancelCause ended by the clock's
// AfterFunc, so it behaves as any context does.
package clockctx

import (
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
)

// ErrDeadline is the cause of a context ended by WithTimeout. It matches
// context.DeadlineExceeded.
var ErrDeadline = fmt.Errorf("time limit reached: %w", context.DeadlineExceeded)

// Sleep pauses for d on clock c. It returns ctx.Err() at once when the
// context ends first, so Ctrl-C and deadlines end a pause when they
// happen, not after it.
func Sleep(ctx context.Context, c clockwork.Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		// A context that ended at the same moment ended the sleep.
		return ctx.Err()
	}
}

// WithTimeout returns a copy of ctx that ends, with cause ErrDeadline, once
// d has passed on clock c. The returned cancel must be called to release
// the clock's timer.
func WithTimeout(ctx context.Context, c clockwork.Clock, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := c.AfterFunc(d, func() { cancel(ErrDeadline) })
	return ctx, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}
