// Package taskwait reads KooPhone tasks and waits until they have finished.
// It is the provider's one wait engine: every data source and resource
// that waits on a task waits through Read.
//
// A wait ends on the jobs the caller waits for, not on whatever the task
// lists: a resource knows from its submit which job runs on which of its
// phones, and waits until each of those jobs is listed and has finished (a
// task may list its jobs late). Without such a set, a wait ends once the
// task lists at least one job and all of them have finished.
//
// A wait is one loop per task: poll; if it has not finished, pause, and
// poll again. The first poll goes at once; the pauses start at FirstPause
// and double up to the poll interval, each shortened at random by up to a
// tenth so that waits started together drift apart. Pauses are never
// lengthened, so a task that has finished is seen within the poll interval
// of finishing, plus whatever time its poll spends queued in the client.
//
// Each poll is one request (Reader.GetTaskOnce): a transient failure is
// retried at the loop's next pause, so a wait never sends more than one
// request per poll. "Task not found" is tolerated for NotFoundGrace after
// the first poll, because a task is not always visible the moment it is
// submitted. Any other failure ends the task's wait.
//
// The only deadline is the context's: the caller sets it once (with
// context.WithTimeoutCause, to name it). When it passes, or the context is
// cancelled, the wait ends at once, mid-request or mid-pause, with a
// *StopError carrying the context's cause, and the Result keeps the task as
// last seen.
//
// Read runs one loop per task, all at once, and returns when every one has
// ended. A task whose read fails for good (rejected credentials, a task
// that never appears) stops the others: the read as a whole has failed.
// The client bounds the requests in flight and paces them; this package
// knows nothing of either.
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

// Target is a task to read and, when waiting, the jobs to wait for.
type Target struct {
	TaskID string
	// JobIDs are the jobs the wait ends on: it ends once each is listed
	// and has finished. Nil means every job the task lists.
	JobIDs []string
}

// Options shape a read.
type Options struct {
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
	// Task is what was read, and Tally its jobs by state.
	Task  koophone.Task
	Tally koophone.Tally
	// Changed is true when the tally differs from the previous poll's, or
	// this is the first successful poll.
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
	// Unlisted are the waited-for jobs (Target.JobIDs) that the last read
	// did not list, in the target's order.
	Unlisted []string
	// Polls counts the requests made for the task through the Reader
	// (failed ones included; the client's own retries of a read without
	// waiting are not counted).
	Polls int
	// Err is nil when the task was read (and, when waiting, has
	// finished). Otherwise it is a *StopError when the read was stopped
	// before that, else the error that ended it.
	Err error
}

// StopError ends the read of a task that was stopped before it finished.
type StopError struct {
	// Cause is why: context.Cause of the read's context (the caller's
	// timeout, context.Canceled for Ctrl-C), or ErrAbandoned.
	Cause error
	// Elapsed is the time from the start of the read.
	Elapsed time.Duration
	// Polls is how many requests were made for the task.
	Polls int
	// LastErr is the failure of the last poll, if it failed.
	LastErr error
	// deadline records that the context ended at its deadline, whatever
	// error its cause is.
	deadline bool
}

func (e *StopError) Error() string {
	msg := fmt.Sprintf("stopped after %s and %d polls: %v", e.Elapsed.Round(time.Millisecond), e.Polls, e.Cause)
	if e.LastErr != nil {
		msg += fmt.Sprintf("; the last poll failed: %v", e.LastErr)
	}
	return msg
}

// Unwrap gives the cause: errors.Is matches context.Canceled for a
// cancellation, context.DeadlineExceeded for a deadline whose cause wraps
// it, and ErrAbandoned.
func (e *StopError) Unwrap() error { return e.Cause }

// TimedOut reports whether the read was stopped by its deadline.
func (e *StopError) TimedOut() bool {
	return e.deadline || errors.Is(e.Cause, context.DeadlineExceeded)
}

// ErrAbandoned is the cause with which Read stops the other tasks when one
// task's read fails for good.
var ErrAbandoned = errors.New("another task's read failed")

// Read reads the targets' tasks, all at once, and returns their results
// in the order of targets. It returns only once every goroutine it
// started has ended.
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
			var stop *StopError
			if res.Err != nil && !errors.As(res.Err, &stop) {
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
		var stopped *koophone.StoppedError
		if errors.As(err, &stopped) {
			err = stopped.Last // only the stop itself is no news from the API
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
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			res.Err = stop(ctx, start, res.Polls, lastErr)
			return res
		case <-timer.C:
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
	states := make(map[string]koophone.State, len(t.Jobs))
	for _, j := range t.Jobs {
		states[j.JobID] = j.State()
	}
	done = true
	for _, id := range jobIDs {
		s, listed := states[id]
		if !listed {
			unlisted = append(unlisted, id)
		}
		done = done && (s == koophone.Successful || s == koophone.Failed)
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
