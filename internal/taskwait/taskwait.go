// Package taskwait reads KooPhone tasks and waits until they have finished:
// it is the provider's one wait engine.
//
// A wait polls each task with one request (Reader.GetTaskOnce) at once, then
// after pauses that start at FirstPause and double up to the poll interval,
// each shortened at random by up to a tenth so that waits started together
// drift apart. A transient failure is retried at the next poll; "task not
// found" for NotFoundGrace, since a new task is not always visible at once.
// Any other failure ends the task's read, and stops the other tasks'.
//
// With the jobs it waits for (a resource knows them from its submit), a wait
// ends once each is listed and has finished, as a task may list its jobs
// late; without, once the task lists jobs and all have finished. The only
// deadline is the context's: it ends the wait at once with a *StopError.
package taskwait

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The schedule of every wait.
const (
	DefaultPollInterval = 10 * time.Second
	MinPollInterval     = time.Second // the shortest a caller may ask for
	FirstPause          = time.Second
	// NotFoundGrace is how long after its first poll a task may be "not
	// found".
	NotFoundGrace = 30 * time.Second
	jitter        = 0.1 // the largest fraction by which a pause is shortened
)

// Reader reads tasks; *koophone.Client is one.
type Reader interface {
	GetTask(ctx context.Context, taskID string) (koophone.Task, error)     // a read, with retries
	GetTaskOnce(ctx context.Context, taskID string) (koophone.Task, error) // a poll
}

// Target is a task to read and, when waiting, the jobs to wait for.
type Target struct {
	TaskID string
	JobIDs []string // nil means every job the task lists
}

// Options shape a read.
type Options struct {
	// Wait polls each task until it has finished; else each is read once,
	// with the client's retries.
	Wait bool
	// PollInterval is the longest pause between two polls; zero means
	// DefaultPollInterval.
	PollInterval time.Duration
	// Random returns a number in [0, 1) to shorten the pauses; it must be
	// safe for concurrent use. Nil means math/rand.
	Random   func() float64
	Observer Observer // optional
}

// Poll describes one successful poll of a task, for progress logs.
type Poll struct {
	TaskID  string
	N       int // the polls of this task so far, failed ones included
	Task    koophone.Task
	Tally   koophone.Tally
	Changed bool // the first successful poll, or a tally unlike the last
}

// Observer is told how a read progresses, concurrently from the read's
// goroutines: its methods must be safe for that, and quick.
type Observer interface {
	// TaskContext derives from ctx the context of a task's requests and
	// calls, so that a logger that keeps per-context state, as tflog does,
	// gets one context per goroutine.
	TaskContext(ctx context.Context, taskID string) context.Context
	Polled(ctx context.Context, p Poll)
	// Retrying is told of each failed poll that the wait survives.
	Retrying(ctx context.Context, taskID string, err error, next time.Duration)
	// Finished is told of each task whose read has ended.
	Finished(ctx context.Context, r Result, ended, total int)
}

// Result is the outcome of reading one task.
type Result struct {
	TaskID   string
	Task     koophone.Task // the last successful read, when Observed
	Observed bool
	Unlisted []string // the Target.JobIDs that the last read did not list
	Polls    int      // the Reader's calls for the task, failed ones included
	// Err is nil when the task was read (and, when waiting, has finished);
	// a *StopError when the read was stopped before, else the failure.
	Err error
}

// StopError ends the read of a task that was stopped before it finished.
type StopError struct {
	// Cause is context.Cause of the read's context (the caller's timeout,
	// context.Canceled for Ctrl-C), or ErrAbandoned. Unwrap gives it.
	Cause   error
	Elapsed time.Duration // since the read started
	Polls   int
	LastErr error // of the last poll, if it failed
	// deadline records that the context ended at its deadline, whatever its
	// cause is.
	deadline bool
}

func (e *StopError) Error() string {
	msg := fmt.Sprintf("stopped after %s and %d polls: %v", e.Elapsed.Round(time.Millisecond), e.Polls, e.Cause)
	if e.LastErr != nil {
		msg += fmt.Sprintf("; the last poll failed: %v", e.LastErr)
	}
	return msg
}

func (e *StopError) Unwrap() error { return e.Cause }

// TimedOut reports whether the read was stopped by its deadline.
func (e *StopError) TimedOut() bool {
	return e.deadline || errors.Is(e.Cause, context.DeadlineExceeded)
}

// ErrAbandoned is the cause with which Read stops the other tasks when one
// task's read fails for good.
var ErrAbandoned = errors.New("another task's read failed")

// Read reads the targets' tasks, all at once, and returns their results in
// the order of targets once every goroutine it started has ended.
func Read(ctx context.Context, r Reader, targets []Target, opts Options) []Result {
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
	start := time.Now()

	results := make([]Result, len(targets))
	var (
		wg    sync.WaitGroup
		ended atomic.Int64
	)
	for i, target := range targets {
		wg.Go(func() {
			tctx := opts.Observer.TaskContext(ctx, target.TaskID)
			var res Result
			if opts.Wait {
				res = wait(tctx, r, target, opts, start)
			} else {
				res = readOnce(tctx, r, target.TaskID, start)
			}
			results[i] = res
			if _, stopped := errors.AsType[*StopError](res.Err); res.Err != nil && !stopped {
				abandon(ErrAbandoned)
			}
			opts.Observer.Finished(tctx, res, int(ended.Add(1)), len(targets))
		})
	}
	wg.Wait()
	return results
}

// readOnce reads a task once, with the client's retries.
func readOnce(ctx context.Context, r Reader, id string, start time.Time) Result {
	res := Result{TaskID: id, Polls: 1}
	t, err := r.GetTask(ctx, id)
	switch {
	case err == nil:
		res.Task, res.Observed = t, true
	case ctx.Err() != nil:
		if stopped, ok := errors.AsType[*koophone.StoppedError](err); ok {
			err = stopped.Last // the stop itself is no news from the API
		}
		res.Err = stop(ctx, start, 1, err)
	default:
		res.Err = err
	}
	return res
}

// wait polls a task until the target's jobs have finished, it fails for
// good, or ctx ends.
func wait(ctx context.Context, r Reader, target Target, opts Options, start time.Time) Result {
	res := Result{TaskID: target.TaskID}
	var (
		last      koophone.Tally
		lastErr   error
		firstPoll time.Time
		pause     = min(FirstPause, opts.PollInterval)
	)
	for {
		t, err := r.GetTaskOnce(ctx, target.TaskID)
		res.Polls++
		if res.Polls == 1 {
			firstPoll = time.Now()
		}
		switch {
		case err == nil:
			tally := t.Tally()
			changed := !res.Observed || tally != last
			res.Task, res.Observed, last, lastErr = t, true, tally, nil
			opts.Observer.Polled(ctx, Poll{TaskID: target.TaskID, N: res.Polls, Task: t, Tally: tally, Changed: changed})
			var done bool
			res.Unlisted, done = finished(t, target.JobIDs)
			if done {
				return res
			}
		case ctx.Err() != nil:
			// The poll failed because the read was stopped: that is no
			// news about the task, so the last real failure is kept.
			res.Err = stop(ctx, start, res.Polls, lastErr)
			return res
		case errors.Is(err, koophone.ErrTaskNotFound) && time.Since(firstPoll) < NotFoundGrace,
			koophone.IsTransient(err):
			lastErr = err
		default:
			res.Err = err
			return res
		}

		next := pause - time.Duration(opts.Random()*jitter*float64(pause))
		if lastErr != nil {
			opts.Observer.Retrying(ctx, target.TaskID, lastErr, next)
		}
		select {
		case <-ctx.Done():
			res.Err = stop(ctx, start, res.Polls, lastErr)
			return res
		case <-time.After(next):
		}
		pause = min(2*pause, opts.PollInterval)
	}
}

// finished reports whether the wait for the jobs of t is over, and which
// of jobIDs t does not list.
func finished(t koophone.Task, jobIDs []string) (unlisted []string, done bool) {
	if jobIDs == nil {
		return nil, t.Tally().Outcome() != koophone.Running
	}
	read := t.JobsByID()
	done = true
	for _, id := range jobIDs {
		j, listed := read[id]
		if !listed {
			unlisted = append(unlisted, id)
		}
		s := j.State()
		done = done && listed && (s == koophone.Successful || s == koophone.Failed)
	}
	return unlisted, done
}

// stop describes why ctx ended a task's read.
func stop(ctx context.Context, start time.Time, polls int, lastErr error) *StopError {
	return &StopError{
		Cause: context.Cause(ctx), Elapsed: time.Since(start), Polls: polls, LastErr: lastErr,
		deadline: errors.Is(ctx.Err(), context.DeadlineExceeded),
	}
}

type nopObserver struct{}

func (nopObserver) TaskContext(ctx context.Context, _ string) context.Context { return ctx }
func (nopObserver) Polled(context.Context, Poll)                              {}
func (nopObserver) Retrying(context.Context, string, error, time.Duration)    {}
func (nopObserver) Finished(context.Context, Result, int, int)                {}
