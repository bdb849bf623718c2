// Package taskwait reads KooPhone tasks and, on request, waits until they
// have finished. It is the one poller behind every data source that waits:
// koophone_instance_task reads one task with it, koophone_instance_tasks
// many at once.
//
// Every task is polled by its own poll.Until loop, so all tasks of a read
// are polled concurrently, each with the same schedule (at once, then
// pauses from 1 s doubling up to the poll interval), the same tolerance of
// transient errors and of "not found" for a grace period, and each stops as
// soon as its task has finished: a finished task is never polled again.
// The requests of all loops go through the client, whose shared rate
// limiter decides when each is sent; each poll tells the limiter when it
// became due, so that when the limit is the bottleneck the task that has
// waited longest is polled first.
//
// One deadline, on the injected clock, bounds the whole read, including
// time spent queueing for the limiter. A task whose read fails for good
// (an unknown task after the grace period, rejected credentials) ends the
// read of all the others, since the read as a whole has failed.
//
// The package has no Terraform imports: the provider turns results into
// attributes and diagnostics, and the benchmark program drives it in
// virtual time.
package taskwait

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/poll"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

// The schedule every wait follows.
const (
	// FirstPause is the pause after a task's first poll; pauses then
	// double up to the poll interval.
	FirstPause = time.Second
	// NotFoundGrace is how long after its first poll a waited-for task may
	// be "not found": a task is not always visible the moment it is
	// submitted.
	NotFoundGrace = 30 * time.Second
	// DefaultPollInterval is the longest pause between two polls of a task
	// when Options.PollInterval is zero.
	DefaultPollInterval = 10 * time.Second
)

// ErrAbandoned is the cause of the end of a task's read when the read of
// another task of the same call failed for good.
var ErrAbandoned = errors.New("stopped because another task's read failed")

// Reader reads one task; *koophone.Client is one.
type Reader interface {
	GetTask(ctx context.Context, taskID string) (koophone.Task, error)
}

// Poll describes one successful read of a task, for progress logs.
type Poll struct {
	// TaskID is the task read.
	TaskID string
	// N counts the polls of this task, this one included (failed ones too).
	N int
	// Task is what was read.
	Task koophone.Task
	// Summary is Task.Summary().
	Summary koophone.Summary
	// Changed is true when the summary differs from the previous poll's,
	// or this is the first successful poll.
	Changed bool
}

// Observer is told how a read progresses. Its methods are called from the
// goroutines of the read, concurrently; they must be safe for that and
// quick.
type Observer interface {
	// TaskContext returns the context in which a task is read, derived
	// from ctx: every request and every other call of the Observer for the
	// task gets it. A logger that keeps per-context state (tflog does)
	// gets one context per goroutine here.
	TaskContext(ctx context.Context, taskID string) context.Context
	// Polled is called after each successful read of a task.
	Polled(ctx context.Context, p Poll)
	// Retrying is called for each failed poll that the wait survives,
	// with the pause before the next poll of that task.
	Retrying(ctx context.Context, taskID string, err error, next time.Duration)
	// Finished is called when a task's read has ended, successfully or
	// not, with how many of the call's tasks have ended so far.
	Finished(ctx context.Context, r Result, ended, total int)
}

// Options shape a read.
type Options struct {
	// Clock times the pauses and the deadline. Nil means the wall clock.
	Clock clock.Clock
	// Wait polls each task until it has finished. When false, each task is
	// read once, as it is.
	Wait bool
	// PollInterval is the longest pause between two polls of a task. Zero
	// means DefaultPollInterval.
	PollInterval time.Duration
	// Timeout bounds the whole read, on Clock. Zero means no bound other
	// than the context's.
	Timeout time.Duration
	// Observer, when set, is told of the read's progress.
	Observer Observer
	// Jitter and Random are passed to the poller (see poll.Options);
	// Random must be safe for concurrent use. Zero values mean the
	// poller's defaults.
	Jitter float64
	Random func() float64
}

// Result is the outcome of reading one task.
type Result struct {
	// TaskID is the task.
	TaskID string
	// Task is the last successful read of the task, when Observed.
	Task koophone.Task
	// Observed is true when at least one read succeeded.
	Observed bool
	// Polls counts the reads of the task, failed ones included.
	Polls int
	// Err is nil when the task was read (and, when waiting, has finished).
	// Otherwise it is the error that ended the task's read: a
	// *poll.TimeoutError when the deadline passed first, a
	// *poll.CanceledError when the read was cancelled (its cause is
	// ErrAbandoned when another task's read failed), else the error of
	// the client.
	Err error
}

// Abandoned reports whether the task's read ended only because another
// task's read failed.
func (r Result) Abandoned() bool { return errors.Is(r.Err, ErrAbandoned) }

// Read reads the tasks with ids concurrently and returns their results in
// the order of ids. It returns only once every goroutine it started has
// ended.
func Read(ctx context.Context, r Reader, ids []string, opts Options) []Result {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = poll.WithTimeout(ctx, opts.Clock, opts.Timeout)
		defer cancel()
	}
	ctx, abandon := context.WithCancelCause(ctx)
	defer abandon(nil)

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
				res = waitOne(tctx, r, id, opts)
			} else {
				res = readOne(tctx, r, id)
			}
			results[i] = res
			if res.Err != nil && !endedByContext(res.Err) {
				abandon(ErrAbandoned)
			}
			opts.Observer.Finished(tctx, res, int(ended.Add(1)), len(ids))
		}()
	}
	wg.Wait()
	return results
}

// endedByContext tells errors that only say the read was stopped (a
// deadline, a cancellation) from failures of the read itself.
func endedByContext(err error) bool {
	var (
		te *poll.TimeoutError
		ce *poll.CanceledError
	)
	return errors.As(err, &te) || errors.As(err, &ce) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// readOne reads a task once.
func readOne(ctx context.Context, r Reader, id string) Result {
	t, err := r.GetTask(ctx, id)
	if err != nil {
		if ctx.Err() != nil {
			// Say why the context ended (the read's deadline, another
			// task's failure) rather than only "context canceled".
			if cause := context.Cause(ctx); !errors.Is(err, cause) {
				err = fmt.Errorf("%w (%v)", cause, err)
			}
		}
		return Result{TaskID: id, Polls: 1, Err: err}
	}
	return Result{TaskID: id, Task: t, Observed: true, Polls: 1}
}

// waitOne polls a task until it has finished.
func waitOne(ctx context.Context, r Reader, id string, opts Options) Result {
	var (
		polls int
		last  *koophone.Summary
	)
	check := func(ctx context.Context) (koophone.Task, bool, error) {
		polls++
		// The poll is due now: if it has to queue for the rate limiter, it
		// has waited since now, and goes before polls that became due later.
		t, err := r.GetTask(ratelimit.WithSince(ctx, opts.Clock.Now()), id)
		if err != nil {
			return t, false, err
		}
		sum := t.Summary()
		changed := last == nil || *last != sum
		last = &sum
		opts.Observer.Polled(ctx, Poll{TaskID: id, N: polls, Task: t, Summary: sum, Changed: changed})
		return t, sum.Done(), nil
	}
	popts := poll.Options{
		Clock:         opts.Clock,
		FirstInterval: FirstPause,
		MaxInterval:   opts.PollInterval,
		Timeout:       opts.Timeout,
		Jitter:        opts.Jitter,
		Random:        opts.Random,
		NotFoundGrace: NotFoundGrace,
		IsNotFound:    func(err error) bool { return errors.Is(err, koophone.ErrTaskNotFound) },
		IsTransient:   koophone.IsTransient,
		OnRetry: func(err error, next time.Duration) {
			opts.Observer.Retrying(ctx, id, err, next)
		},
	}
	t, err := poll.Until(ctx, popts, check)
	return Result{TaskID: id, Task: t, Observed: last != nil, Polls: polls, Err: err}
}

type nopObserver struct{}

func (nopObserver) TaskContext(ctx context.Context, _ string) context.Context { return ctx }

func (nopObserver) Polled(context.Context, Poll)                           {}
func (nopObserver) Retrying(context.Context, string, error, time.Duration) {}
func (nopObserver) Finished(context.Context, Result, int, int)             {}
