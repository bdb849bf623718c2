// Package taskwait reads KooPhone tasks and waits until they have finished.
// It is the provider's one wait engine: every data source (and resource)
// that waits on a task waits through Read.
//
// A wait is one loop per task: poll; if the task has not finished, pause,
// and poll again. The first poll goes at once; the pauses start at
// FirstPause and double up to the poll interval, each shortened at random
// by up to a tenth so that waits started together drift apart. Pauses are
// never lengthened, so a task that has finished is seen within the poll
// interval of finishing, plus whatever time its poll spends queued in the
// client (for a free connection slot, or behind the rate limit).
//
// Each poll is one request (Reader.GetTaskOnce): a transient failure is
// retried by the loop's own schedule, at its next pause, so a wait never
// sends more than one request per poll. "Task not found" is tolerated for
// NotFoundGrace after the first poll, because a task is not always visible
// the moment it is submitted. Any other failure ends the task's wait.
//
// The only deadline is the context's: the caller sets it once, with
// clockctx.WithTimeout so that it follows the injected clock. When it
// passes, or the context is cancelled, the wait ends at once (mid-request
// or mid-pause) with a *StopError, and the Result keeps the task as last
// seen.
//
// Read runs one loop per task, all at once, and returns when every one has
// ended. A task whose read fails for good (rejected credentials, a task that
// never appears) stops the others: the read as a whole has failed. The
// client bounds the requests in flight and paces them; this package knows
// nothing of either.
package taskwait

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/koophone/terraform-provider-koophone/internal/clockctx"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The schedule of every wait.
const (
	// DefaultPollInterval is the longest pause between two polls of a
	// task when Options.PollInterval is zero.
	DefaultPollInterval = 10 * time.Second
	// MinPollInterval is the shortest poll interval a caller may ask for.
	MinPollInterval = time.Second
	// FirstPause is the pause after a task's first poll; pauses then
	// double up to the poll interval.
	FirstPause = time.Second
	// NotFoundGrace is how long after its first poll a waited-for task may
	// be "not found".
	NotFoundGrace = 30 * time.Second
	// jitter is the largest fraction by which a pause is shortened.
	jitter = 0.1
)

// Reader reads tasks; *koophone.Client is one.
type Reader interface {
	// GetTask reads a task, retrying transient failures as the client is
	// configured to: a read without waiting.
	GetTask(ctx context.Context, taskID string) (koophone.Task, error)
	// GetTaskOnce reads a task with one request: a poll.
	GetTaskOnce(ctx context.Context, taskID string) (koophone.Task, error)
}

// Options shape a read.
type Options struct {
	// Clock times the pauses. Nil means the wall clock.
	Clock clockwork.Clock
	// Wait polls each task until it has finished. When false, each task is
	// read once (with the client's retries), as it is.
	Wait bool
	// PollInterval is the longest pause between two polls of a task. Zero
	// means DefaultPollInterval.
	PollInterval time.Duration
	// Random returns a number in [0, 1) that shortens a pause by up to a
	// tenth; it must be safe for concurrent use. Nil means math/rand;
	// func() float64 { return 0 } gives exact pauses.
	Random func() float64
	// Observer, when set, is told of the read's progress.
	Observer Observer
}

// Poll describes one successful poll of a task, for progress logs.
type Poll struct {
	TaskID string
	// N counts the polls of this task, this one included (failed ones too).
	N int
	// Task is what was read, and Summary its summary.
	Task    koophone.Task
	Summary koophone.Summary
	// Changed is true when the summary differs from the previous poll's,
	// or this is the first successful poll.
	Changed bool
}

// Observer is told how a read progresses. Its methods are called from the
// goroutines of the read, concurrently; they must be safe for that and
// quick.
type Observer interface {
	// TaskContext returns the context a task is read in, derived from
	// ctx: every request and every call of the Observer for the task gets
	// it. (A logger that keeps per-context state, as tflog does, gets one
	// context per goroutine.)
	TaskContext(ctx context.Context, taskID string) context.Context
	// Polled is called after each successful poll.
	Polled(ctx context.Context, p Poll)
	// Retrying is called for each failed poll that the wait survives,
	// with the pause before the next poll.
	Retrying(ctx context.Context, taskID string, err error, next time.Duration)
	// Finished is called when a task's read has ended, with how many of
	// the read's tasks have ended so far.
	Finished(ctx context.Context, r Result, ended, total int)
}

// Result is the outcome of reading one task.
type Result struct {
	TaskID string
	// Task is the last successful read of the task, when Observed.
	Task     koophone.Task
	Observed bool
	// Polls counts the requests made for the task through the Reader
	// (failed ones included; the client's own retries of a read without
	// waiting are not counted).
	Polls int
	// Err is nil when the task was read (and, when waiting, has
	// finished). Otherwise it is a *StopError when the read was stopped
	// before that, else the error that ended it.
	Err error
}

// StopReason says why a read was stopped.
type StopReason string

// Why reads stop.
const (
	// StopTimeout: the context's deadline passed.
	StopTimeout StopReason = "timeout"
	// StopCanceled: the context was cancelled (Ctrl-C).
	StopCanceled StopReason = "canceled"
	// StopAbandoned: another task of the same read failed for good.
	StopAbandoned StopReason = "abandoned"
)

// StopError ends the read of a task that was stopped before it finished.
type StopError struct {
	Reason StopReason
	// Elapsed is the time from the start of the read, on its clock.
	Elapsed time.Duration
	// Polls is how many requests were made for the task.
	Polls int
	// LastErr is the failure of the last poll, if it failed.
	LastErr error
}

func (e *StopError) Error() string {
	msg := fmt.Sprintf("stopped (%s) after %s and %d polls", e.Reason, e.Elapsed.Round(time.Millisecond), e.Polls)
	if e.LastErr != nil {
		msg += fmt.Sprintf("; the last poll failed: %v", e.LastErr)
	}
	return msg
}

// Unwrap lets errors.Is match context.DeadlineExceeded for a timeout and
// context.Canceled for a cancellation.
func (e *StopError) Unwrap() error {
	if e.Reason == StopTimeout {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

// errAbandoned is the cause with which Read stops the other tasks.
var errAbandoned = errors.New("another task's read failed")

// Read reads the tasks with ids, all at once, and returns their results in
// the order of ids. It returns only once every goroutine it started has
// ended.
func Read(ctx context.Context, r Reader, ids []string, opts Options) []Result {
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Random == nil {
		opts.Random = rand.Float64
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	ctx, abandon := context.WithCancelCause(ctx)
	defer abandon(nil)
	start := opts.Clock.Now()

	results := make([]Result, len(ids))
	var (
		wg    sync.WaitGroup
		ended atomic.Int64
	)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tctx := opts.Observer.TaskContext(ctx, id)
			var res Result
			if opts.Wait {
				res = wait(tctx, r, id, opts, start)
			} else {
				res = readOnce(tctx, r, id, opts, start)
			}
			results[i] = res
			var stop *StopError
			if res.Err != nil && !errors.As(res.Err, &stop) {
				abandon(errAbandoned)
			}
			opts.Observer.Finished(tctx, res, int(ended.Add(1)), len(ids))
		}()
	}
	wg.Wait()
	return results
}

// readOnce reads a task once, with the client's retries.
func readOnce(ctx context.Context, r Reader, id string, opts Options, start time.Time) Result {
	res := Result{TaskID: id, Polls: 1}
	t, err := r.GetTask(ctx, id)
	switch {
	case err == nil:
		res.Task, res.Observed = t, true
	case ctx.Err() != nil:
		if err == ctx.Err() {
			err = nil // only the stop itself: no news from the API
		}
		res.Err = stopped(ctx, opts, start, 1, err)
	default:
		res.Err = err
	}
	return res
}

// wait polls a task until it has finished, fails for good, or ctx ends.
func wait(ctx context.Context, r Reader, id string, opts Options, start time.Time) Result {
	res := Result{TaskID: id}
	var (
		last      koophone.Summary
		lastErr   error
		firstPoll time.Time
		pause     = min(FirstPause, opts.PollInterval)
	)
	for {
		t, err := r.GetTaskOnce(ctx, id)
		res.Polls++
		if res.Polls == 1 {
			firstPoll = opts.Clock.Now()
		}
		switch {
		case err == nil:
			sum := t.Summary()
			changed := !res.Observed || sum != last
			res.Task, res.Observed, last, lastErr = t, true, sum, nil
			opts.Observer.Polled(ctx, Poll{TaskID: id, N: res.Polls, Task: t, Summary: sum, Changed: changed})
			if sum.Done() {
				return res
			}
		case ctx.Err() != nil:
			// The poll failed because the read was stopped: that is no
			// news about the task, so the last real failure is kept.
			res.Err = stopped(ctx, opts, start, res.Polls, lastErr)
			return res
		case errors.Is(err, koophone.ErrTaskNotFound) && opts.Clock.Since(firstPoll) < NotFoundGrace,
			koophone.IsTransient(err):
			lastErr = err
		default:
			res.Err = err
			return res
		}

		next := pause - time.Duration(opts.Random()*jitter*float64(pause))
		if lastErr != nil {
			opts.Observer.Retrying(ctx, id, lastErr, next)
		}
		if clockctx.Sleep(ctx, opts.Clock, next) != nil {
			res.Err = stopped(ctx, opts, start, res.Polls, lastErr)
			return res
		}
		pause = min(2*pause, opts.PollInterval)
	}
}

// stopped describes why ctx ended a task's read.
func stopped(ctx context.Context, opts Options, start time.Time, polls int, lastErr error) *StopError {
	e := &StopError{Reason: StopCanceled, Elapsed: opts.Clock.Since(start), Polls: polls, LastErr: lastErr}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errAbandoned):
		e.Reason = StopAbandoned
	case errors.Is(cause, context.DeadlineExceeded):
		e.Reason = StopTimeout
	}
	return e
}

type nopObserver struct{}

func (nopObserver) TaskContext(ctx context.Context, _ string) context.Context { return ctx }
func (nopObserver) Polled(context.Context, Poll)                              {}
func (nopObserver) Retrying(context.Context, string, error, time.Duration)    {}
func (nopObserver) Finished(context.Context, Result, int, int)                {}
