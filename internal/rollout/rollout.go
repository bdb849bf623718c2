// Package rollout submits work to any number of phones in waves: the
// provider's one wave engine.
//
// The API takes at most 100 phones per submit, and a fleet team wants to
// stop a rollout that goes wrong before it reaches every phone. So the
// phones, in a stable order, are split into waves; an optional canary wave
// runs alone first; then the waves run ParallelWaves at a time, each one
// submitted and then waited on (package taskwait). Once more phones than
// the failure budget have failed, or a submit fails, or a wait fails, no
// further wave is submitted; the waves already submitted are still waited
// on, since their work runs on the phones whatever happens. A canary that
// fails on any phone stops the rollout too, whatever the budget. Without
// waiting there is nothing to gate on, and every wave is submitted at once.
//
// A submit is never sent twice: a wave whose submit failed keeps its
// error, which for an *koophone.OutcomeUnknownError means the work may be
// running on its phones.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// MaxWaveSize is the API's limit on the phones of one submit.
const MaxWaveSize = koophone.MaxInstancesPerRequest

// Options shape a rollout.
type Options struct {
	WaveSize      int // 1 to MaxWaveSize
	CanarySize    int // 0: no canary
	MaxFailed     int // the failure budget: more failed phones stop the rollout
	ParallelWaves int // at least 1
	// Wait makes each wave wait until its phones have finished; without
	// it, every wave is submitted at once and none is read.
	Wait         bool
	PollInterval time.Duration
	Observer     taskwait.Observer // optional
	// Submitted, optional, is told of each wave whose task exists, one
	// call at a time.
	Submitted func(ctx context.Context, w *Wave)
	// WaveContext, optional, derives from ctx the context of a wave's
	// calls, as taskwait.Observer.TaskContext does for a task: waves run
	// concurrently, and a logger that keeps per-context state, as tflog
	// does, needs one context per goroutine.
	WaveContext func(ctx context.Context, wave int) context.Context
}

// Submit sends the work to the phones of one wave.
type Submit func(ctx context.Context, instanceIDs []string) (koophone.Submission, error)

// Wave is one submit and its wait.
type Wave struct {
	Number      int      // 1-based, in the rollout's order
	InstanceIDs []string // sorted
	// Submitted is true once the API has answered with a task, which
	// Submission then holds.
	Submitted  bool
	Submission koophone.Submission
	// SubmitErr is why the submit gave no task; nil for a wave that was
	// submitted or never tried.
	SubmitErr error
	// Wait is the wait of a submitted wave, when the rollout waited.
	Wait taskwait.Result
}

// Tried reports whether the wave's submit was sent (or attempted).
func (w *Wave) Tried() bool { return w.Submitted || w.SubmitErr != nil }

// Phone is what became of one phone of a submitted wave.
type Phone struct {
	InstanceID string
	JobID      string        // "" when the submit's answer had no job for it
	Job        *koophone.Job // the last read of its job; nil until listed
	State      koophone.State
}

// Phones joins the submit's answer to the last read of the task, in the
// order of InstanceIDs. A phone the answer has no job for is Missing; a
// job not read yet is Unknown.
func (w *Wave) Phones() []Phone {
	jobs := make(map[string]string, len(w.Submission.Jobs))
	for _, j := range w.Submission.Jobs {
		jobs[j.InstanceID] = j.JobID
	}
	read := w.Wait.Task.JobsByID()
	phones := make([]Phone, len(w.InstanceIDs))
	for i, id := range w.InstanceIDs {
		p := Phone{InstanceID: id, JobID: jobs[id], State: koophone.Unknown}
		switch j, listed := read[p.JobID]; {
		case p.JobID == "":
			p.State = koophone.Missing
		case listed:
			p.Job, p.State = &j, j.State()
		}
		phones[i] = p
	}
	return phones
}

// Tally counts the wave's phones by state.
func (w *Wave) Tally() koophone.Tally {
	var t koophone.Tally
	for _, p := range w.Phones() {
		t.Add(p.State)
	}
	return t
}

// jobIDs are the jobs the wave's wait follows.
func (w *Wave) jobIDs() []string {
	ids := make([]string, 0, len(w.Submission.Jobs))
	for _, j := range w.Submission.Jobs {
		if slices.Contains(w.InstanceIDs, j.InstanceID) && j.JobID != "" {
			ids = append(ids, j.JobID)
		}
	}
	return ids
}

// BudgetError stops a rollout whose failed phones exceed the budget, or
// whose canary failed on any phone.
type BudgetError struct {
	Failed, MaxFailed int
	After             int  // the number of the wave whose wait went over it
	Canary            bool // the canary failed, within the budget or not
}

func (e *BudgetError) Error() string {
	phones := "phones"
	if e.Failed == 1 {
		phones = "phone"
	}
	if e.Canary {
		return fmt.Sprintf("the canary (wave 1) failed on %d %s", e.Failed, phones)
	}
	return fmt.Sprintf("%d %s failed, more than max_failed_phones (%d), after wave %d", e.Failed, phones, e.MaxFailed, e.After)
}

// Result is the outcome of a rollout.
type Result struct {
	Waves  []*Wave
	Failed int // failed (or missing) phones of the waves waited on
	// Stop is the first reason the rollout stopped: a *BudgetError, the
	// failed submit of a wave (its SubmitErr), a failed wait (its
	// Wait.Err) or the context's cause. A budget exceeded by the last wave
	// sets it too, with no wave left untried.
	Stop error
}

// Untried lists the waves whose submit was never sent.
func (r Result) Untried() []*Wave {
	var ws []*Wave
	for _, w := range r.Waves {
		if !w.Tried() {
			ws = append(ws, w)
		}
	}
	return ws
}

// Split cuts instanceIDs, sorted, into waves: a first one of canarySize
// phones when that is above 0, then waves of waveSize.
func Split(instanceIDs []string, waveSize, canarySize int) [][]string {
	ids := slices.Sorted(slices.Values(instanceIDs))
	var waves [][]string
	waveSize = max(waveSize, 1)
	if canarySize > 0 && len(ids) > 0 {
		n := min(canarySize, len(ids))
		waves, ids = append(waves, ids[:n]), ids[n:]
	}
	for len(ids) > 0 {
		n := min(waveSize, len(ids))
		waves, ids = append(waves, ids[:n]), ids[n:]
	}
	return waves
}

// Run rolls the work out to instanceIDs and returns once every wave it
// submitted has been waited on (or ctx has ended).
func Run(ctx context.Context, r taskwait.Reader, submit Submit, instanceIDs []string, opts Options) Result {
	opts.WaveSize = min(max(opts.WaveSize, 1), MaxWaveSize)
	opts.ParallelWaves = max(opts.ParallelWaves, 1)
	if opts.WaveContext == nil {
		opts.WaveContext = func(ctx context.Context, _ int) context.Context { return ctx }
	}
	ro := &run{reader: r, submit: submit, opts: opts}
	for i, ids := range Split(instanceIDs, opts.WaveSize, opts.CanarySize) {
		ro.res.Waves = append(ro.res.Waves, &Wave{Number: i + 1, InstanceIDs: ids})
	}
	waves := ro.res.Waves
	parallel := opts.ParallelWaves
	switch {
	case !opts.Wait:
		parallel = len(waves)
	case opts.CanarySize > 0 && len(waves) > 0:
		ro.wave(ctx, waves[0]) // alone, before any other
		waves = waves[1:]
	}
	next := make(chan *Wave)
	var wg sync.WaitGroup
	for range min(parallel, len(waves)) {
		wg.Go(func() {
			for w := range next {
				ro.wave(ctx, w)
			}
		})
	}
	for _, w := range waves {
		if ro.stopped(ctx) {
			break
		}
		next <- w
	}
	close(next)
	wg.Wait()
	if ro.res.Stop == nil && ctx.Err() != nil && len(ro.res.Untried()) > 0 {
		ro.res.Stop = context.Cause(ctx)
	}
	return ro.res
}

type run struct {
	reader taskwait.Reader
	submit Submit
	opts   Options
	mu     sync.Mutex // guards res and serializes opts.Submitted
	res    Result
}

// stopped reports whether no further wave may be submitted.
func (ro *run) stopped(ctx context.Context) bool {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	return ro.res.Stop != nil || ctx.Err() != nil
}

// wave submits w unless the rollout has stopped, then waits on it.
func (ro *run) wave(ctx context.Context, w *Wave) {
	if ro.stopped(ctx) {
		return
	}
	ctx = ro.opts.WaveContext(ctx, w.Number)
	sub, err := ro.submit(ctx, w.InstanceIDs)
	ro.mu.Lock()
	if err != nil {
		w.SubmitErr = err
		ro.stop(err)
		ro.mu.Unlock()
		return
	}
	w.Submitted, w.Submission = true, sub
	if ro.opts.Submitted != nil {
		ro.opts.Submitted(ctx, w)
	}
	ro.mu.Unlock()
	if !ro.opts.Wait {
		return
	}

	// With every phone missing from the answer there is no job to follow.
	if jobIDs := w.jobIDs(); len(jobIDs) > 0 {
		w.Wait = taskwait.Read(ctx, ro.reader, []taskwait.Target{{TaskID: sub.TaskID, JobIDs: jobIDs}}, taskwait.Options{
			Wait: true, PollInterval: ro.opts.PollInterval, Observer: ro.opts.Observer,
		})[0]
	}
	ro.mu.Lock()
	defer ro.mu.Unlock()
	ro.res.Failed += w.Tally().Failed
	switch {
	case w.Wait.Err != nil:
		if _, ended := errors.AsType[*taskwait.StopError](w.Wait.Err); ended {
			ro.stop(context.Cause(ctx))
		} else {
			ro.stop(w.Wait.Err)
		}
	case w.Number == 1 && ro.opts.CanarySize > 0 && ro.res.Failed > 0:
		// A canary is a test of the rollout, not a part of its budget.
		ro.stop(&BudgetError{Failed: ro.res.Failed, MaxFailed: ro.opts.MaxFailed, After: 1, Canary: true})
	case ro.res.Failed > ro.opts.MaxFailed:
		ro.stop(&BudgetError{Failed: ro.res.Failed, MaxFailed: ro.opts.MaxFailed, After: w.Number})
	}
}

// stop records the first reason to stop; ro.mu is held.
func (ro *run) stop(err error) {
	if ro.res.Stop == nil {
		ro.res.Stop = err
	}
}
