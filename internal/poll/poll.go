// Package poll waits for an asynchronous operation to finish by checking on
// it repeatedly, with backoff between checks.
//
// It is deliberately small and generic: it knows nothing of KooPhone. The
// caller supplies the check and says which of its errors are transient
// (keep polling) or mean "not visible yet" (keep polling for a grace
// period). All time goes through a clock.Clock, so tests and benchmarks
// run a twenty-minute wait in virtual time.
package poll

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
)

// Defaults for Options fields left at their zero value.
const (
	DefaultFirstInterval = time.Second
	DefaultMaxInterval   = 10 * time.Second
	DefaultMultiplier    = 2.0
	DefaultJitter        = 0.1
)

// Options shape a wait.
type Options struct {
	// Clock times the pauses and the deadline. Nil means the wall clock.
	Clock clock.Clock
	// FirstInterval is the pause after the first check. It is capped at
	// MaxInterval. Zero means DefaultFirstInterval.
	FirstInterval time.Duration
	// MaxInterval is the longest pause between two checks. Zero means
	// DefaultMaxInterval.
	MaxInterval time.Duration
	// Multiplier grows the pause after each check. Values below 1 mean
	// DefaultMultiplier.
	Multiplier float64
	// Jitter is the largest fraction by which a pause is shortened at
	// random, so that many waits started together drift apart. Pauses are
	// only ever shortened, so MaxInterval stays a bound on detection lag.
	// Zero means DefaultJitter; a negative value disables jitter.
	Jitter float64
	// Random returns a number in [0, 1). Nil means math/rand.
	Random func() float64
	// Timeout ends the wait with a *TimeoutError once this much time on
	// Clock has passed since the wait began. Zero means no timeout other
	// than the context's.
	Timeout time.Duration
	// NotFoundGrace is how long after the first check errors that satisfy
	// IsNotFound are tolerated. Zero means not at all.
	NotFoundGrace time.Duration
	// IsNotFound tells whether a check error means "not visible yet".
	IsNotFound func(error) bool
	// IsTransient tells whether a check error is worth another check.
	IsTransient func(error) bool
	// OnRetry, when set, is called for every check error that the wait
	// survives, with the pause before the next check.
	OnRetry func(err error, next time.Duration)
}

// Check looks at the operation once. It returns the observed value, whether
// the operation is finished, and an error when it could not look.
type Check[T any] func(ctx context.Context) (value T, done bool, err error)

// TimeoutError ends a wait that ran out of time. The value returned next to
// it is the last one observed.
type TimeoutError struct {
	// Elapsed is the time waited, on the wait's clock.
	Elapsed time.Duration
	// Checks is how many checks were made.
	Checks int
	// Observed tells whether any check succeeded, i.e. whether the value
	// returned with the error is meaningful.
	Observed bool
	// LastErr is the error of the last check, if it failed.
	LastErr error
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("still not finished after %s (%d checks)", e.Elapsed.Round(time.Millisecond), e.Checks)
	if e.LastErr != nil {
		msg += fmt.Sprintf("; the last check failed: %v", e.LastErr)
	}
	return msg
}

func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// CanceledError ends a wait whose context was cancelled (Ctrl-C).
type CanceledError struct {
	Elapsed time.Duration
	Checks  int
	Cause   error
}

func (e *CanceledError) Error() string {
	return fmt.Sprintf("wait cancelled after %s (%d checks): %v", e.Elapsed.Round(time.Millisecond), e.Checks, e.Cause)
}

func (e *CanceledError) Unwrap() error { return e.Cause }

// Until checks until check reports done, a check fails permanently, the
// timeout passes or ctx ends. The first check is made at once.
//
// It returns the last observed value in every case, so that a caller can
// say how far the operation got. A context deadline (or a cancellation whose
// cause matches context.DeadlineExceeded, as with WithTimeout) is reported
// as a *TimeoutError, like Options.Timeout; any other cancellation as a
// *CanceledError.
func Until[T any](ctx context.Context, opts Options, check Check[T]) (T, error) {
	opts = withDefaults(opts)
	start := opts.Clock.Now()
	var deadline time.Time
	if opts.Timeout > 0 {
		deadline = start.Add(opts.Timeout)
	}

	var (
		last      T
		observed  bool
		lastErr   error
		checks    int
		pause     = opts.FirstInterval
		firstSeen time.Time
	)
	ended := func() (T, error) {
		elapsed := opts.Clock.Now().Sub(start)
		if ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
			return last, &CanceledError{Elapsed: elapsed, Checks: checks, Cause: context.Cause(ctx)}
		}
		return last, &TimeoutError{Elapsed: elapsed, Checks: checks, Observed: observed, LastErr: lastErr}
	}

	for {
		if ctx.Err() != nil {
			return ended()
		}
		value, done, err := check(ctx)
		checks++
		if checks == 1 {
			firstSeen = opts.Clock.Now()
		}
		switch {
		case err == nil:
			last, observed, lastErr = value, true, nil
			if done {
				return last, nil
			}
		case ctx.Err() != nil:
			// The check failed because the wait ended; that is no news
			// about the operation, so the last real failure is kept.
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				lastErr = err
			}
			return ended()
		case opts.IsNotFound(err) && opts.Clock.Now().Sub(firstSeen) < opts.NotFoundGrace:
			lastErr = err
		case opts.IsTransient(err):
			lastErr = err
		default:
			return last, err
		}

		next := jittered(pause, opts)
		if !deadline.IsZero() {
			remaining := deadline.Sub(opts.Clock.Now())
			if remaining <= 0 {
				return ended()
			}
			next = min(next, remaining)
		}
		if err != nil && opts.OnRetry != nil {
			opts.OnRetry(err, next)
		}
		if sleepErr := clock.Sleep(ctx, opts.Clock, next); sleepErr != nil {
			return ended()
		}
		if !deadline.IsZero() && !opts.Clock.Now().Before(deadline) {
			return ended()
		}
		pause = min(time.Duration(float64(pause)*opts.Multiplier), opts.MaxInterval)
	}
}

func withDefaults(o Options) Options {
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = DefaultMaxInterval
	}
	if o.FirstInterval <= 0 {
		o.FirstInterval = DefaultFirstInterval
	}
	o.FirstInterval = min(o.FirstInterval, o.MaxInterval)
	if o.Multiplier < 1 {
		o.Multiplier = DefaultMultiplier
	}
	if o.Jitter == 0 {
		o.Jitter = DefaultJitter
	}
	if o.Jitter < 0 {
		o.Jitter = 0
	}
	if o.Jitter > 1 {
		o.Jitter = 1
	}
	if o.Random == nil {
		o.Random = rand.Float64
	}
	if o.IsNotFound == nil {
		o.IsNotFound = func(error) bool { return false }
	}
	if o.IsTransient == nil {
		o.IsTransient = func(error) bool { return false }
	}
	return o
}

// jittered shortens d by a random fraction of at most opts.Jitter.
func jittered(d time.Duration, opts Options) time.Duration {
	if opts.Jitter == 0 {
		return d
	}
	return d - time.Duration(opts.Random()*opts.Jitter*float64(d))
}
