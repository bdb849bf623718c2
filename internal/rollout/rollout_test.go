package rollout

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// The tests run in synctest bubbles: the waits' pauses and the fake API's
// job durations follow a fake clock, so the times asserted are exact and
// cost no wall-clock time.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const jobDuration = 10 * time.Second

// fakeAPI submits tasks whose jobs finish jobDuration after their submit,
// failing on the phones of fail, and reads them back. It implements
// taskwait.Reader and gives a Submit.
type fakeAPI struct {
	fail      map[string]bool // phones whose job fails
	omit      map[string]bool // phones the submit's answer leaves out
	submitErr map[int]error   // the n-th submit (from 1) fails with this

	mu      sync.Mutex
	submits []submitted
	reads   int
}

type submitted struct {
	at  time.Time
	ids []string
}

func (f *fakeAPI) submit(_ context.Context, ids []string) (koophone.Submission, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submits = append(f.submits, submitted{time.Now(), slices.Clone(ids)})
	n := len(f.submits)
	if err := f.submitErr[n]; err != nil {
		return koophone.Submission{}, err
	}
	sub := koophone.Submission{TaskID: fmt.Sprint("task-", n)}
	for _, id := range ids {
		if !f.omit[id] {
			sub.Jobs = append(sub.Jobs, koophone.SubmittedJob{InstanceID: id, JobID: "job-" + id})
		}
	}
	return sub, nil
}

func (f *fakeAPI) GetTaskOnce(_ context.Context, taskID string) (koophone.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	var n int
	if _, err := fmt.Sscanf(taskID, "task-%d", &n); err != nil || n > len(f.submits) {
		return koophone.Task{}, koophone.ErrTaskNotFound
	}
	s := f.submits[n-1]
	task := koophone.Task{ID: taskID}
	for _, id := range s.ids {
		status := int64(koophone.StatusRunning)
		switch {
		case f.omit[id]:
			continue
		case time.Since(s.at) < jobDuration:
		case f.fail[id]:
			status = koophone.StatusFailed
		default:
			status = koophone.StatusSucceeded
		}
		task.Jobs = append(task.Jobs, koophone.Job{JobID: "job-" + id, Status: status})
	}
	return task, nil
}

func (f *fakeAPI) GetTask(ctx context.Context, taskID string) (koophone.Task, error) {
	return f.GetTaskOnce(ctx, taskID)
}

func (f *fakeAPI) run(ctx context.Context, ids []string, opts Options) Result {
	return Run(ctx, f, f.submit, ids, opts)
}

func phones(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("phone-%04d", n-1-i) // reversed: Run sorts them
	}
	return ids
}

func waveSizes(waves []*Wave) []int {
	sizes := make([]int, len(waves))
	for i, w := range waves {
		sizes[i] = len(w.InstanceIDs)
	}
	return sizes
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		n, waveSize, canary int
		want                []int
	}{
		{250, 100, 0, []int{100, 100, 50}},
		{250, 100, 1, []int{1, 100, 100, 49}},
		{3, 100, 5, []int{3}},
		{5, 2, 0, []int{2, 2, 1}},
	} {
		waves := Split(phones(c.n), c.waveSize, c.canary)
		sizes := make([]int, len(waves))
		for i, w := range waves {
			sizes[i] = len(w)
		}
		if !slices.Equal(sizes, c.want) {
			t.Errorf("Split(%d phones, %d, canary %d) = waves of %v, want %v", c.n, c.waveSize, c.canary, sizes, c.want)
		}
		if all := slices.Concat(waves...); !slices.IsSorted(all) || len(all) != c.n {
			t.Errorf("Split(%d phones) does not keep every phone in sorted order: %v", c.n, all)
		}
	}
}

// Waves go one after the other: each is submitted once the one before
// has finished, and takes one job duration plus at most one pause.
func TestRun_sequentialWaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{}
		start := time.Now()
		res := f.run(t.Context(), phones(250), Options{WaveSize: 100, Wait: true, PollInterval: time.Second})
		if res.Stop != nil || res.Failed != 0 || !slices.Equal(waveSizes(res.Waves), []int{100, 100, 50}) {
			t.Fatalf("Stop %v, Failed %d, waves %v; want nil, 0, [100 100 50]", res.Stop, res.Failed, waveSizes(res.Waves))
		}
		for i := 1; i < len(f.submits); i++ {
			if gap := f.submits[i].at.Sub(f.submits[i-1].at); gap < jobDuration || gap > jobDuration+time.Second {
				t.Errorf("wave %d was submitted %s after wave %d, want between %s and %s", i+1, gap, i, jobDuration, jobDuration+time.Second)
			}
		}
		if elapsed := time.Since(start); elapsed > 3*(jobDuration+time.Second) {
			t.Errorf("the rollout took %s", elapsed)
		}
		for _, w := range res.Waves {
			if tally := w.Tally(); tally.Successful != len(w.InstanceIDs) {
				t.Errorf("wave %d: %+v, want every phone successful", w.Number, tally)
			}
		}
	})
}

// A failed canary stops the rollout whatever the budget; so does the
// third failure with a budget of 2, and a missing phone counts as failed.
func TestRun_stops(t *testing.T) {
	for _, c := range []struct {
		name      string
		f         *fakeAPI
		n         int
		opts      Options
		submits   int
		failed    int
		wantStop  BudgetError
		untriedOf []int // the sizes of the waves never submitted
	}{
		{
			name: "failed canary", f: &fakeAPI{fail: map[string]bool{"phone-0000": true}}, n: 250,
			opts:    Options{WaveSize: 100, CanarySize: 1, MaxFailed: 2},
			submits: 1, failed: 1, wantStop: BudgetError{Failed: 1, MaxFailed: 2, After: 1, Canary: true}, untriedOf: []int{100, 100, 49},
		},
		{
			// With no budget the canary's failure is over it: the budget's
			// error, which stops the rollout just the same.
			name: "failed canary, no budget", f: &fakeAPI{fail: map[string]bool{"phone-0000": true}}, n: 250,
			opts:    Options{WaveSize: 100, CanarySize: 1},
			submits: 1, failed: 1, wantStop: BudgetError{Failed: 1, After: 1, Canary: true}, untriedOf: []int{100, 100, 49},
		},
		{
			name: "budget of 2", f: &fakeAPI{fail: map[string]bool{"phone-0003": true, "phone-0013": true, "phone-0025": true, "phone-0045": true}}, n: 50,
			opts:    Options{WaveSize: 10, MaxFailed: 2},
			submits: 3, failed: 3, wantStop: BudgetError{Failed: 3, MaxFailed: 2, After: 3}, untriedOf: []int{10, 10},
		},
		{
			name: "missing phone", f: &fakeAPI{omit: map[string]bool{"phone-0001": true}}, n: 20,
			opts:    Options{WaveSize: 10},
			submits: 1, failed: 1, wantStop: BudgetError{Failed: 1, After: 1}, untriedOf: []int{10},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c.opts.Wait = true
				res := c.f.run(t.Context(), phones(c.n), c.opts)
				stop, ok := errors.AsType[*BudgetError](res.Stop)
				if !ok || *stop != c.wantStop {
					t.Errorf("Stop = %v, want %+v", res.Stop, c.wantStop)
				}
				if len(c.f.submits) != c.submits || res.Failed != c.failed {
					t.Errorf("%d submits, %d failed; want %d, %d", len(c.f.submits), res.Failed, c.submits, c.failed)
				}
				if got := waveSizes(res.Untried()); !slices.Equal(got, c.untriedOf) {
					t.Errorf("untried waves of %v phones, want %v", got, c.untriedOf)
				}
			})
		})
	}
}

// parallel_waves runs that many waves at once, after the canary.
func TestRun_parallelWaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{}
		start := time.Now()
		res := f.run(t.Context(), phones(1001), Options{WaveSize: 100, CanarySize: 1, ParallelWaves: 10, Wait: true, PollInterval: time.Second})
		if res.Stop != nil || len(f.submits) != 11 {
			t.Fatalf("Stop %v, %d submits; want nil, 11", res.Stop, len(f.submits))
		}
		for _, s := range f.submits[1:] {
			if got := s.at.Sub(f.submits[0].at); got < jobDuration || got > jobDuration+time.Second {
				t.Errorf("a wave went %s after the canary, want right after it finished", got)
			}
		}
		if elapsed := time.Since(start); elapsed > 2*(jobDuration+time.Second) {
			t.Errorf("the rollout took %s, want two wave durations", elapsed)
		}
	})
}

// Without waiting, every wave is submitted at once, the canary too, and
// nothing is read.
func TestRun_withoutWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{fail: map[string]bool{"phone-0000": true}}
		res := f.run(t.Context(), phones(250), Options{WaveSize: 100, CanarySize: 1})
		if res.Stop != nil || len(f.submits) != 4 || f.reads != 0 {
			t.Errorf("Stop %v, %d submits, %d reads; want nil, 4, 0", res.Stop, len(f.submits), f.reads)
		}
	})
}

// A failed submit stops the waves after it; an unknown outcome is never
// sent again.
func TestRun_submitErrors(t *testing.T) {
	for _, err := range []error{
		&koophone.APIError{HTTPStatus: 400, Code: "KOOPHONE.API.1001", Message: "No permission."},
		&koophone.OutcomeUnknownError{RequestID: "req-2", Err: errors.New("connection reset")},
	} {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeAPI{submitErr: map[int]error{2: err}}
			res := f.run(t.Context(), phones(250), Options{WaveSize: 100, Wait: true})
			if res.Stop != err || len(f.submits) != 2 || res.Waves[1].SubmitErr != err || res.Waves[1].Submitted {
				t.Errorf("%T: Stop %v, %d submits, wave 2 %+v; want the error, 2 submits", err, res.Stop, len(f.submits), res.Waves[1])
			}
			if got := waveSizes(res.Untried()); !slices.Equal(got, []int{50}) {
				t.Errorf("%T: untried waves of %v phones, want [50]", err, got)
			}
		})
	}
}

// The deadline stops the rollout with its cause; the wave in flight ends
// its wait with a *taskwait.StopError, and the others are never tried.
func TestRun_deadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{}
		expired := errors.New("timeouts.create (15s) ran out")
		ctx, cancel := context.WithTimeoutCause(t.Context(), 15*time.Second, expired)
		defer cancel()
		res := f.run(ctx, phones(250), Options{WaveSize: 100, Wait: true, PollInterval: time.Second})
		if !errors.Is(res.Stop, expired) || len(f.submits) != 2 {
			t.Errorf("Stop %v, %d submits; want the timeout's cause, 2", res.Stop, len(f.submits))
		}
		if _, ok := errors.AsType[*taskwait.StopError](res.Waves[1].Wait.Err); !ok {
			t.Errorf("wave 2's wait ended with %v, want a *taskwait.StopError", res.Waves[1].Wait.Err)
		}
		if got := waveSizes(res.Untried()); !slices.Equal(got, []int{50}) {
			t.Errorf("untried waves of %v phones, want [50]", got)
		}
	})
}

// Submitted is told of every wave whose task exists, one at a time.
func TestRun_submittedHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{}
		var (
			calls   []int
			running bool
		)
		f.run(t.Context(), phones(1000), Options{WaveSize: 100, ParallelWaves: 10, Submitted: func(_ context.Context, w *Wave) {
			if running {
				t.Error("Submitted was called while another call ran")
			}
			running = true
			calls = append(calls, w.Number)
			runtime.Gosched() // a chance for another call to overlap
			running = false
		}})
		slices.Sort(calls)
		if !slices.Equal(calls, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
			t.Errorf("Submitted was told of waves %v, want 1 to 10", calls)
		}
	})
}

// Without a canary, parallel_waves waves start together; with fewer
// workers than waves, no more than parallel_waves are ever in flight.
func TestRun_parallelWavesBound(t *testing.T) {
	for _, c := range []struct{ parallel, atStart, rounds int }{{10, 10, 1}, {3, 3, 4}} {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeAPI{}
			start := time.Now()
			res := f.run(t.Context(), phones(1000), Options{WaveSize: 100, ParallelWaves: c.parallel, Wait: true, PollInterval: time.Second})
			elapsed := time.Since(start)
			if res.Stop != nil || res.Failed != 0 || len(f.submits) != 10 {
				t.Fatalf("parallel %d: Stop %v, Failed %d, %d submits; want nil, 0, 10", c.parallel, res.Stop, res.Failed, len(f.submits))
			}
			atStart := 0
			for i, s := range f.submits {
				if s.at.Equal(start) {
					atStart++
				}
				inFlight := 0 // the waves whose jobs had not finished when s was sent, s included
				for _, o := range f.submits[:i+1] {
					if o.at.Add(jobDuration).After(s.at) {
						inFlight++
					}
				}
				if inFlight > c.parallel {
					t.Errorf("parallel %d: submit %d was sent with %d waves in flight", c.parallel, i+1, inFlight)
				}
			}
			lo, hi := time.Duration(c.rounds)*jobDuration, time.Duration(c.rounds)*(jobDuration+time.Second)
			if atStart != c.atStart || elapsed < lo || elapsed > hi {
				t.Errorf("parallel %d: %d waves at the start, took %s; want %d, %s to %s", c.parallel, atStart, elapsed, c.atStart, lo, hi)
			}
		})
	}
}

// A phone the submit's answer leaves out is Missing and counts as failed;
// a wave with no job at all is not read, and all its phones count.
func TestRun_missingPhones(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		omit := map[string]bool{"phone-0001": true}
		for i := 10; i < 20; i++ {
			omit[fmt.Sprintf("phone-%04d", i)] = true // all of wave 2
		}
		f := &fakeAPI{omit: omit}
		res := f.run(t.Context(), phones(30), Options{WaveSize: 10, MaxFailed: 100, Wait: true, PollInterval: time.Second})
		if res.Stop != nil || res.Failed != 11 || len(f.submits) != 3 {
			t.Fatalf("Stop %v, Failed %d, %d submits; want nil, 11, 3", res.Stop, res.Failed, len(f.submits))
		}
		w1, w2 := res.Waves[0], res.Waves[1]
		if p := w1.Phones()[:2]; p[0].State != koophone.Successful || p[0].Job == nil ||
			p[1] != (Phone{InstanceID: "phone-0001", State: koophone.Missing}) {
			t.Errorf("wave 1's first phones = %+v, want phone-0000 successful, phone-0001 missing with no job", p)
		}
		if got, want := w1.Tally(), (koophone.Tally{Total: 10, Successful: 9, Failed: 1}); got != want {
			t.Errorf("wave 1's tally = %+v, want %+v", got, want)
		}
		if got, want := w2.Tally(), (koophone.Tally{Total: 10, Failed: 10}); got != want || w2.Wait.Polls != 0 {
			t.Errorf("wave 2's tally = %+v after %d polls, want %+v after none", got, w2.Wait.Polls, want)
		}
	})
}

// With parallel waves, a failed submit stops the waves not yet handed out,
// while those already submitted are still waited on; Submitted is told
// only of the waves whose task exists.
func TestRun_submitErrorInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		refused := &koophone.APIError{HTTPStatus: 400, Code: "KOOPHONE.API.1001", Message: "No permission."}
		f := &fakeAPI{submitErr: map[int]error{2: refused}}
		var told []int
		res := f.run(t.Context(), phones(1000), Options{
			WaveSize: 100, ParallelWaves: 3, Wait: true, PollInterval: time.Second,
			Submitted: func(_ context.Context, w *Wave) { told = append(told, w.Number) },
		})
		// Which wave is refused, and whether the third worker submits
		// before the refusal, is up to the scheduler.
		if res.Stop != refused || len(f.submits) < 2 || len(f.submits) > 3 {
			t.Fatalf("Stop %v, %d submits; want the refusal, 2 or 3 submits (one per worker)", res.Stop, len(f.submits))
		}
		var submitted, refusals []int
		for _, w := range res.Waves {
			switch {
			case w.SubmitErr == refused:
				refusals = append(refusals, w.Number)
			case w.Submitted:
				submitted = append(submitted, w.Number)
				if w.Wait.Err != nil || w.Tally().Successful != 100 {
					t.Errorf("wave %d: wait %v, %+v; want it waited on until every phone succeeded", w.Number, w.Wait.Err, w.Tally())
				}
			}
		}
		slices.Sort(told)
		if len(refusals) != 1 || len(submitted)+1 != len(f.submits) || !slices.Equal(told, submitted) || len(res.Untried()) != 10-len(f.submits) {
			t.Errorf("refused %v, submitted %v, Submitted told of %v, %d untried, after %d submits", refusals, submitted, told, len(res.Untried()), len(f.submits))
		}
	})
}

// No phones, no waves: not even an empty canary is submitted.
func TestRun_noPhones(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if waves := Split(nil, 100, 1); len(waves) != 0 {
			t.Errorf("Split(no phones, 100, canary 1) = %q, want no wave", waves)
		}
		f := &fakeAPI{}
		res := f.run(t.Context(), nil, Options{WaveSize: 100, CanarySize: 1, Wait: true})
		if res.Stop != nil || len(res.Waves) != 0 || len(f.submits) != 0 {
			t.Errorf("Stop %v, %d waves, %d submits; want nil, none, none", res.Stop, len(res.Waves), len(f.submits))
		}
	})
}
