package taskwait

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// Every test that involves time runs in a synctest bubble: time.Now, the
// pauses' timers and the contexts' deadlines follow a fake clock that moves
// only when every goroutine of the bubble is durably blocked, so the times
// asserted here are exact and cost no wall-clock time. The fake Reader
// blocks only on its context's Done channel.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// script says what reading one task returns over (virtual) time.
type script struct {
	doneAt    time.Duration // finished from then on; negative: never
	status    int64         // the final status; 0 means StatusSucceeded...
	pending   bool          // ... unless this is set: the final status is 0
	visibleAt time.Duration // "not found" before then
	err       error         // every read fails with it...
	errUntil  time.Duration // ... only before then, when set
	// hangFrom, when positive, makes every read from then on wait for its
	// context to end.
	hangFrom time.Duration
	// jobs, when set, gives the jobs the task lists at its n-th read (from
	// 1), at time at; it replaces the one job of doneAt, status and pending.
	jobs func(n int, at time.Duration) []koophone.Job
}

// fakeReader is a Reader over scripted tasks. It records when each task
// was read, relative to its creation, and which method read it. It must be
// created inside the bubble, when the read starts.
type fakeReader struct {
	start   time.Time
	scripts map[string]script
	// block makes every read wait for its context to end, and then fail as
	// the client does: with a *koophone.StoppedError whose Last is
	// stoppedLast.
	block       bool
	stoppedLast error

	mu     sync.Mutex
	polls  map[string][]time.Duration
	once   int // reads through GetTaskOnce (polls)
	retrys int // reads through GetTask (reads with the client's retries)
}

func newFakeReader(scripts map[string]script) *fakeReader {
	return &fakeReader{start: time.Now(), scripts: scripts, polls: map[string][]time.Duration{}}
}

var (
	errNotFound     = &koophone.APIError{HTTPStatus: http.StatusBadRequest, Code: koophone.CodeTaskNotFound}
	errUnauthorized = &koophone.APIError{HTTPStatus: http.StatusUnauthorized, Code: koophone.CodeGatewayAuth}
	errUnavailable  = &koophone.APIError{HTTPStatus: http.StatusServiceUnavailable}
)

func (f *fakeReader) GetTask(ctx context.Context, id string) (koophone.Task, error) {
	f.mu.Lock()
	f.retrys++
	f.mu.Unlock()
	return f.read(ctx, id)
}

func (f *fakeReader) GetTaskOnce(ctx context.Context, id string) (koophone.Task, error) {
	f.mu.Lock()
	f.once++
	f.mu.Unlock()
	return f.read(ctx, id)
}

// hang waits for ctx to end and fails as the client does.
func (f *fakeReader) hang(ctx context.Context) (koophone.Task, error) {
	<-ctx.Done()
	return koophone.Task{}, &koophone.StoppedError{Cause: context.Cause(ctx), InFlight: true, Last: f.stoppedLast}
}

func (f *fakeReader) read(ctx context.Context, id string) (koophone.Task, error) {
	if ctx.Err() != nil {
		// As the client: a request is not sent once its context has ended.
		return koophone.Task{}, &koophone.StoppedError{Cause: context.Cause(ctx)}
	}
	if f.block {
		return f.hang(ctx)
	}
	now := time.Since(f.start)
	f.mu.Lock()
	f.polls[id] = append(f.polls[id], now)
	n := len(f.polls[id])
	f.mu.Unlock()
	s, ok := f.scripts[id]
	switch {
	case ok && s.hangFrom > 0 && now >= s.hangFrom:
		return f.hang(ctx)
	case !ok || now < s.visibleAt:
		return koophone.Task{}, errNotFound
	case s.err != nil && (s.errUntil == 0 || now < s.errUntil):
		return koophone.Task{}, s.err
	case s.jobs != nil:
		return koophone.Task{ID: id, Jobs: s.jobs(n, now)}, nil
	}
	job := koophone.Job{JobID: id + "-job", Status: koophone.StatusRunning}
	if s.doneAt >= 0 && now >= s.doneAt {
		job.Status = s.status
		if job.Status == 0 && !s.pending {
			job.Status = koophone.StatusSucceeded
		}
	}
	return koophone.Task{ID: id, Jobs: []koophone.Job{job}}, nil
}

func (f *fakeReader) pollsOf(id string) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.polls[id]...)
}

func exact() float64 { return 0 }

// tasks gives one target per id, waiting for every job its task lists.
func tasks(ids ...string) []Target {
	targets := make([]Target, len(ids))
	for i, id := range ids {
		targets[i] = Target{TaskID: id}
	}
	return targets
}

// errSafetyDeadline ends a read that was meant to finish on its own: a
// broken wait fails the test instead of polling forever.
var errSafetyDeadline = errors.New("the test's safety deadline passed")

// readWithin reads targets, in the bubble it is called in, under a
// deadline of timeout (context.WithTimeout; when zero, a safety deadline of
// an hour), and returns the results and the virtual time the read took.
func readWithin(r Reader, targets []Target, timeout time.Duration, opts Options) ([]Result, time.Duration) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), time.Hour, errSafetyDeadline)
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	}
	defer cancel()
	start := time.Now()
	res := Read(ctx, r, targets, opts)
	return res, time.Since(start)
}

func stopOf(t *testing.T, err error) *StopError {
	t.Helper()
	var stop *StopError
	if !errors.As(err, &stop) {
		t.Fatalf("err = %v, want a *StopError", err)
	}
	return stop
}

// scheduleUntil is the exact schedule (Random: exact, the default
// interval) of a task polled until it is seen finished at finish.
func scheduleUntil(finish time.Duration) []time.Duration {
	var polls []time.Duration
	at, pause := time.Duration(0), FirstPause
	for {
		polls = append(polls, at)
		if at >= finish {
			return polls
		}
		at += pause
		pause = min(2*pause, DefaultPollInterval)
	}
}

func TestTheScheduleStartsAtOnceThenBacksOffToTheInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {doneAt: -1}})
		results, took := readWithin(f, tasks("t"), time.Minute, Options{Wait: true, Random: exact})
		res := results[0]
		want := "[0s 1s 3s 7s 15s 25s 35s 45s 55s]"
		if got := fmt.Sprint(f.pollsOf("t")); got != want {
			t.Errorf("polls at %s, want %s", got, want)
		}
		if fmt.Sprint(scheduleUntil(55*time.Second)) != want {
			t.Errorf("scheduleUntil disagrees with %s", want)
		}
		stop := stopOf(t, res.Err)
		if stop.Cause != context.DeadlineExceeded || !stop.TimedOut() || stop.Elapsed != time.Minute || stop.Polls != 9 || stop.LastErr != nil {
			t.Errorf("stop = %+v, want a timeout after exactly 1m and 9 polls", stop)
		}
		if took != time.Minute || res.Polls != 9 {
			t.Errorf("the read took %v and counted %d polls, want 1m0s and 9", took, res.Polls)
		}
		if !errors.Is(res.Err, context.DeadlineExceeded) || !res.Observed || res.Task.Tally().Running != 1 || res.Task.Tally().Outcome() != koophone.Running {
			t.Errorf("result %+v: want the running task as last seen, and a timeout", res)
		}
	})
}

func TestAShortPollIntervalCapsTheFirstPauseToo(t *testing.T) {
	for _, c := range []struct {
		interval, doneAt time.Duration
		want             string
	}{
		// The pauses double from 1 s up to 2 s.
		{2 * time.Second, 4 * time.Second, "[0s 1s 3s 5s]"},
		// An interval shorter than FirstPause is the first pause too.
		{500 * time.Millisecond, 1200 * time.Millisecond, "[0s 500ms 1s 1.5s]"},
	} {
		t.Run(c.interval.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeReader(map[string]script{"t": {doneAt: c.doneAt}})
				res, _ := readWithin(f, tasks("t"), 0, Options{Wait: true, PollInterval: c.interval, Random: exact})
				if res[0].Err != nil {
					t.Fatalf("err = %v", res[0].Err)
				}
				if got := fmt.Sprint(f.pollsOf("t")); got != c.want {
					t.Errorf("polls at %s, want %s", got, c.want)
				}
			})
		})
	}
}

func TestJitterOnlyShortensPauses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {doneAt: -1}})
		rng := rand.New(rand.NewPCG(1, 2))
		var mu sync.Mutex
		random := func() float64 { mu.Lock(); defer mu.Unlock(); return rng.Float64() }
		readWithin(f, tasks("t"), 5*time.Minute, Options{Wait: true, Random: random})
		polls := f.pollsOf("t")
		if len(polls) < 25 {
			t.Fatalf("only %d polls in 5 minutes: %v", len(polls), polls)
		}
		pause, shortened := FirstPause, 0
		for i := 1; i < len(polls); i++ {
			gap := polls[i] - polls[i-1]
			if gap > pause || gap < pause-pause/10 {
				t.Fatalf("pause %d is %v, want within [%v, %v]", i, gap, pause-pause/10, pause)
			}
			if gap < pause {
				shortened++
			}
			pause = min(2*pause, DefaultPollInterval)
		}
		if shortened == 0 {
			t.Error("no pause was shortened: the jitter is not applied")
		}
	})
}

// However the finish falls between polls, a finished task is seen within
// the poll interval, jitter included.
func TestDetectionLagNeverExceedsThePollInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4)) // used by one goroutine at a time
		for finish := time.Duration(0); finish <= 3*time.Minute; finish += 1300 * time.Millisecond {
			f := newFakeReader(map[string]script{"t": {doneAt: finish}})
			results, took := readWithin(f, tasks("t"), 0, Options{Wait: true, Random: rng.Float64})
			res := results[0]
			polls := f.pollsOf("t")
			if res.Err != nil || res.Task.Tally().Outcome() != koophone.Successful {
				t.Fatalf("finish %v: %+v", finish, res)
			}
			last := polls[len(polls)-1]
			if lag := last - finish; lag < 0 || lag > DefaultPollInterval {
				t.Errorf("finish %v: seen after %v, more than the poll interval", finish, lag)
			}
			if len(polls) > 1 && polls[len(polls)-2] >= finish {
				t.Errorf("finish %v: polled again after it was seen finished: %v", finish, polls)
			}
			if took != last {
				t.Errorf("finish %v: the read took %v, want it to end at its last poll, %v", finish, took, last)
			}
		}
	})
}

// recordingObserver records what the Observer is told.
type recordingObserver struct {
	mu       sync.Mutex
	changes  []string
	retries  []time.Duration
	finished []int
}

func (o *recordingObserver) TaskContext(ctx context.Context, _ string) context.Context { return ctx }
func (o *recordingObserver) Polled(_ context.Context, p Poll) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p.Tally != p.Task.Tally() {
		o.changes = append(o.changes, fmt.Sprintf("%d:tally %+v is not the task's", p.N, p.Tally))
	}
	if p.Changed {
		o.changes = append(o.changes, fmt.Sprintf("%d:%s", p.N, p.Tally.Outcome()))
	}
}
func (o *recordingObserver) Retrying(_ context.Context, _ string, _ error, next time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries = append(o.retries, next)
}
func (o *recordingObserver) Finished(_ context.Context, _ Result, ended, _ int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finished = append(o.finished, ended)
}

// A failed poll costs one request; the wait retries on its own schedule.
func TestEachPollIsOneRequestAndTransientFailuresKeepPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {doneAt: 20 * time.Second, err: errUnavailable, errUntil: 5 * time.Second}})
		obs := &recordingObserver{}
		results, took := readWithin(f, tasks("t"), 0, Options{Wait: true, Random: exact, Observer: obs})
		res := results[0]
		if res.Err != nil || res.Task.Tally().Outcome() != koophone.Successful {
			t.Fatalf("result %+v", res)
		}
		// Failures at 0, 1 and 3 s, running at 7 and 15 s, done at 25 s.
		if got := fmt.Sprint(f.pollsOf("t")); got != "[0s 1s 3s 7s 15s 25s]" {
			t.Errorf("polls at %s", got)
		}
		if took != 25*time.Second {
			t.Errorf("the read took %v, want 25s", took)
		}
		if f.once != 6 || f.retrys != 0 || res.Polls != 6 {
			t.Errorf("%d polls, %d reads with retries, %d counted; want 6 polls of one request each", f.once, f.retrys, res.Polls)
		}
		if fmt.Sprint(obs.retries) != "[1s 2s 4s]" || fmt.Sprint(obs.changes) != "[4:running 6:successful]" || fmt.Sprint(obs.finished) != "[1]" {
			t.Errorf("observer saw retries %v, changes %v, finished %v", obs.retries, obs.changes, obs.finished)
		}
	})
}

func TestFailedAndUnknownStatusesEndOrKeepTheWait(t *testing.T) {
	for _, c := range []struct {
		status  int64
		pending bool
		done    bool
		job     koophone.State
		outcome koophone.State
	}{
		{koophone.StatusFailed, false, true, koophone.Failed, koophone.Failed},
		{koophone.StatusInstallFailed, false, true, koophone.Failed, koophone.Failed},
		{koophone.StatusSucceeded, false, true, koophone.Successful, koophone.Successful},
		{koophone.StatusPending, true, false, koophone.Pending, koophone.Running},
		{42, false, false, koophone.Unknown, koophone.Running},
	} {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeReader(map[string]script{"t": {doneAt: 3 * time.Second, status: c.status, pending: c.pending}})
				results, took := readWithin(f, tasks("t"), time.Minute, Options{Wait: true, Random: exact})
				res := results[0]
				if len(res.Task.Jobs) != 1 || res.Task.Jobs[0].State() != c.job {
					t.Fatalf("jobs %+v, want one %s job", res.Task.Jobs, c.job)
				}
				if got := res.Task.Tally().Outcome(); got != c.outcome {
					t.Errorf("outcome %s, want %s", got, c.outcome)
				}
				if (res.Err == nil) != c.done {
					t.Errorf("err = %v; want the wait to end only on a final status", res.Err)
				}
				// Seen at 3 s; or waited for until the deadline.
				want := 3 * time.Second
				if !c.done {
					want = time.Minute
					if stop := stopOf(t, res.Err); !stop.TimedOut() || stop.Elapsed != time.Minute {
						t.Errorf("stop %+v, want a timeout at 1m", stop)
					}
				}
				if took != want {
					t.Errorf("the read took %v, want %v", took, want)
				}
			})
		})
	}
}

func TestNotFoundIsToleratedForTheGraceOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(nil)
		results, took := readWithin(f, tasks("never"), 0, Options{Wait: true, Random: exact})
		res := results[0]
		// A task never visible fails at the first poll after the grace: at
		// 35 s (polls at 0, 1, 3, 7, 15, 25, 35 s).
		if !errors.Is(res.Err, koophone.ErrTaskNotFound) {
			t.Fatalf("err = %v, want not found", res.Err)
		}
		if got := fmt.Sprint(f.pollsOf("never")); got != "[0s 1s 3s 7s 15s 25s 35s]" {
			t.Errorf("polls at %s", got)
		}
		if took != 35*time.Second || res.Observed || res.Polls != 7 {
			t.Errorf("the read took %v, result %+v; want it to fail at 35s, on the 7th poll", took, res)
		}
	})
}

func TestALateTaskIsWaitedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"late": {visibleAt: 20 * time.Second, doneAt: 22 * time.Second}})
		results, took := readWithin(f, tasks("late"), 0, Options{Wait: true, Random: exact})
		res := results[0]
		if res.Err != nil || res.Task.Tally().Outcome() != koophone.Successful {
			t.Errorf("result %+v", res)
		}
		// Not found at 0 to 15 s, seen finished at 25 s.
		if took != 25*time.Second || res.Polls != 6 {
			t.Errorf("the read took %v and %d polls, want 25s and 6", took, res.Polls)
		}
	})
}

// A task whose read fails for good ends the read of the others at once:
// the clock does not move.
func TestAPermanentFailureAbandonsTheOtherTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{
			"bad":  {err: errUnauthorized},
			"slow": {doneAt: -1},
		})
		res, took := readWithin(f, tasks("slow", "bad"), 0, Options{Wait: true})
		if !errors.Is(res[1].Err, koophone.ErrUnauthorized) {
			t.Errorf("bad: err = %v", res[1].Err)
		}
		stop := stopOf(t, res[0].Err)
		if stop.Cause != ErrAbandoned || !errors.Is(res[0].Err, ErrAbandoned) || stop.TimedOut() {
			t.Errorf("slow: stop %+v, want abandoned", stop)
		}
		if len(f.pollsOf("bad")) != 1 {
			t.Errorf("a permanent failure was polled %d times", len(f.pollsOf("bad")))
		}
		if took != 0 || stop.Elapsed != 0 || stop.Polls != 1 {
			t.Errorf("the read took %v, stop %+v; want slow abandoned at once, after its first poll", took, stop)
		}
	})
}

func TestATimeoutWithOnlyFailuresSaysWhatFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {err: errUnavailable}})
		results, _ := readWithin(f, tasks("t"), 20*time.Second, Options{Wait: true, Random: exact})
		res := results[0]
		stop := stopOf(t, res.Err)
		if res.Observed || !stop.TimedOut() || !errors.Is(stop.LastErr, errUnavailable) || stop.Polls != 5 || stop.Elapsed != 20*time.Second {
			t.Errorf("result %+v, stop %+v", res, stop)
		}
	})
}

// A deadline that cuts a request short keeps the failure of the poll
// before: the stop itself is no news about the task.
func TestAStopMidRequestKeepsThePreviousPollsFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {err: errUnavailable, hangFrom: 7 * time.Second}})
		results, _ := readWithin(f, tasks("t"), 20*time.Second, Options{Wait: true, Random: exact})
		stop := stopOf(t, results[0].Err)
		var stopped *koophone.StoppedError
		if !stop.TimedOut() || stop.LastErr != errUnavailable || errors.As(stop.LastErr, &stopped) || stop.Polls != 4 || stop.Elapsed != 20*time.Second {
			t.Errorf("stop %+v; want the 503 of the poll at 3s, after 4 polls and 20s", stop)
		}
	})
}

// Cancellation (Ctrl-C) ends a pause or a request in flight at once: the
// clock never moves.
func TestCancellationEndsAPauseOrARequestAtOnce(t *testing.T) {
	for _, during := range []string{"pause", "request"} {
		t.Run(during, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeReader(map[string]script{"t": {doneAt: -1}})
				f.block = during == "request"
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				start := time.Now()
				done := make(chan Result, 1)
				go func() { done <- Read(ctx, f, tasks("t"), Options{Wait: true})[0] }()
				synctest.Wait() // the wait is in its first pause, or its first request
				cancel()
				res := <-done
				stop := stopOf(t, res.Err)
				if stop.Cause != context.Canceled || !errors.Is(res.Err, context.Canceled) || stop.TimedOut() || stop.Polls != 1 || stop.LastErr != nil {
					t.Errorf("stop %+v", stop)
				}
				if time.Since(start) != 0 || stop.Elapsed != 0 {
					t.Errorf("the clock moved (%v, elapsed %v): the wait slept instead of ending", time.Since(start), stop.Elapsed)
				}
			})
		})
	}
}

func TestReadingWithoutWaitingReadsEachTaskOnceWithTheClientsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"a": {doneAt: -1}, "b": {doneAt: 0}})
		res, took := readWithin(f, tasks("a", "b"), 0, Options{})
		if f.retrys != 2 || f.once != 0 || res[0].Polls != 1 || res[1].Polls != 1 {
			t.Errorf("%d reads with retries, %d polls; want 2 reads", f.retrys, f.once)
		}
		if res[0].Err != nil || res[0].Task.Tally().Outcome() != koophone.Running || res[1].Task.Tally().Outcome() != koophone.Successful {
			t.Errorf("results %+v", res)
		}
		if took != 0 {
			t.Errorf("the read took %v, want no time", took)
		}
	})
}

func TestAReadWithoutWaitingStoppedByItsDeadlineIsATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {}})
		f.block = true
		res, took := readWithin(f, tasks("t"), time.Minute, Options{})
		stop := stopOf(t, res[0].Err)
		if stop.Cause != context.DeadlineExceeded || !stop.TimedOut() || stop.LastErr != nil || stop.Elapsed != time.Minute || stop.Polls != 1 {
			t.Errorf("stop %+v", stop)
		}
		if took != time.Minute {
			t.Errorf("the read took %v, want the deadline's 1m", took)
		}
	})
}

// When the client's retries of a read without waiting are cut short, the
// stop keeps the client's last failure (StoppedError.Last), not the
// StoppedError itself.
func TestAReadWithoutWaitingStoppedKeepsTheClientsLastFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {}})
		f.block, f.stoppedLast = true, errUnavailable
		res, _ := readWithin(f, tasks("t"), time.Minute, Options{})
		stop := stopOf(t, res[0].Err)
		if !stop.TimedOut() || stop.LastErr != errUnavailable || stop.Elapsed != time.Minute {
			t.Errorf("stop %+v, want the 503 as the last failure", stop)
		}
	})
}

// Many tasks are polled concurrently, each on its own schedule, and a task
// that has finished is never polled again. The fake clock moves only when
// every task still waiting is asleep, so the poll times are exact.
func TestManyTasksArePolledConcurrentlyAndEachStopsWhenDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 50
		scripts := map[string]script{}
		var ids []string
		for i := range n {
			id := fmt.Sprintf("t%02d", i)
			ids = append(ids, id)
			scripts[id] = script{doneAt: time.Duration(i) * 1500 * time.Millisecond}
		}
		f := newFakeReader(scripts)
		obs := &recordingObserver{}
		res, took := readWithin(f, tasks(ids...), 0, Options{Wait: true, Random: exact, Observer: obs})
		var longest time.Duration
		for i, id := range ids {
			if res[i].TaskID != id || res[i].Err != nil || res[i].Task.Tally().Outcome() != koophone.Successful {
				t.Fatalf("%s: %+v", id, res[i])
			}
			polls := f.pollsOf(id)
			finish := scripts[id].doneAt
			// Every task is polled at once, then on the schedule; its last
			// poll is the first at or after its finish.
			if want := scheduleUntil(finish); !slices.Equal(polls, want) {
				t.Errorf("%s (finishing at %v) polled at %v, want %v", id, finish, polls, want)
			}
			if res[i].Polls != len(polls) {
				t.Errorf("%s: %d polls counted, %d made", id, res[i].Polls, len(polls))
			}
			longest = max(longest, polls[len(polls)-1])
		}
		if took != longest {
			t.Errorf("the read took %v, want it to end with the last task, at %v", took, longest)
		}
		slices.Sort(obs.finished)
		if len(obs.finished) != n || obs.finished[0] != 1 || obs.finished[n-1] != n {
			t.Errorf("Finished told %v", obs.finished)
		}
	})
}

// --- Waiting for given jobs (Target.JobIDs) ---

func job(id string, status int64) koophone.Job { return koophone.Job{JobID: id, Status: status} }

// finishedAt is the status at time at of a job that finishes at done.
func finishedAt(at, done time.Duration) int64 {
	if at >= done {
		return koophone.StatusSucceeded
	}
	return koophone.StatusRunning
}

// A task may list its jobs late: the wait for a job goes on until it is
// listed and has finished, though every job listed so far has finished.
func TestAWaitForJobsWaitsForAJobListedLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {jobs: func(n int, at time.Duration) []koophone.Job {
			if n <= 3 {
				return []koophone.Job{job("A", koophone.StatusSucceeded)}
			}
			return []koophone.Job{job("A", koophone.StatusSucceeded), job("B", finishedAt(at, 20*time.Second))}
		}}})
		obs := &recordingObserver{}
		results, took := readWithin(f, []Target{{TaskID: "t", JobIDs: []string{"A", "B"}}}, 0, Options{Wait: true, Random: exact, Observer: obs})
		res := results[0]
		if res.Err != nil || !res.Observed || len(res.Task.Jobs) != 2 || res.Task.Tally().Outcome() != koophone.Successful {
			t.Fatalf("result %+v, want both jobs finished", res)
		}
		// A only at 0, 1 and 3 s; B running at 7 and 15 s, finished at 25 s.
		if got := fmt.Sprint(f.pollsOf("t")); got != "[0s 1s 3s 7s 15s 25s]" {
			t.Errorf("polls at %s, want [0s 1s 3s 7s 15s 25s]", got)
		}
		if res.Polls != 6 || took != 25*time.Second {
			t.Errorf("%d polls in %v, want 6 in 25s", res.Polls, took)
		}
		if len(res.Unlisted) != 0 {
			t.Errorf("unlisted %v, want none", res.Unlisted)
		}
		if fmt.Sprint(obs.changes) != "[1:successful 4:running 6:successful]" {
			t.Errorf("observer saw changes %v", obs.changes)
		}
	})
}

// expiredTimeout is a deadline's cause that is a deadline to errors.Is,
// as the provider names its timeouts.
type expiredTimeout struct{ msg string }

func (e expiredTimeout) Error() string { return e.msg }
func (e expiredTimeout) Unwrap() error { return context.DeadlineExceeded }

// A job that is never listed keeps the wait going until the deadline, and
// the result names it.
func TestAJobNeverListedIsWaitedForUntilTheDeadline(t *testing.T) {
	const msg = "timeouts.create (2m0s) ran out"
	for _, c := range []struct {
		name  string
		cause error
	}{
		{"plain cause", errors.New(msg)},
		{"cause wrapping DeadlineExceeded", expiredTimeout{msg}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeReader(map[string]script{"t": {jobs: func(int, time.Duration) []koophone.Job {
					return []koophone.Job{job("A", koophone.StatusSucceeded), job("C", koophone.StatusSucceeded)}
				}}})
				ctx, cancel := context.WithTimeoutCause(context.Background(), 2*time.Minute, c.cause)
				defer cancel()
				res := Read(ctx, f, []Target{{TaskID: "t", JobIDs: []string{"A", "B", "C", "D"}}}, Options{Wait: true, Random: exact})[0]
				stop := stopOf(t, res.Err)
				if stop.Cause == nil || stop.Cause.Error() != msg {
					t.Errorf("cause %v, want %q", stop.Cause, msg)
				}
				if !errors.Is(res.Err, c.cause) {
					t.Errorf("errors.Is(err, the cause) is false for %v", res.Err)
				}
				if !stop.TimedOut() {
					t.Errorf("TimedOut() is false for a read stopped by its deadline (cause %#v)", stop.Cause)
				}
				// 0, 1, 3, 7, 15 s, then every 10 s up to 115 s.
				if stop.Elapsed != 2*time.Minute || stop.Polls != 15 || res.Polls != 15 || stop.LastErr != nil {
					t.Errorf("stop %+v, want 15 polls and exactly 2m", stop)
				}
				if !slices.Equal(res.Unlisted, []string{"B", "D"}) {
					t.Errorf("unlisted %q, want [B D]", res.Unlisted)
				}
				if !res.Observed || len(res.Task.Jobs) != 2 || res.Task.ID != "t" {
					t.Errorf("result %+v, want the task as last read", res)
				}
			})
		})
	}
}

// A job the target does not wait for does not hold the wait up.
func TestAWaitForJobsIgnoresTheOtherJobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeReader(map[string]script{"t": {jobs: func(_ int, at time.Duration) []koophone.Job {
			return []koophone.Job{
				job("A", finishedAt(at, 5*time.Second)),
				job("other", koophone.StatusRunning),
				// B fails: a failed job has finished too.
				job("B", map[bool]int64{true: koophone.StatusFailed, false: koophone.StatusRunning}[at >= 10*time.Second]),
			}
		}}})
		results, took := readWithin(f, []Target{{TaskID: "t", JobIDs: []string{"B", "A"}}}, time.Hour, Options{Wait: true, Random: exact})
		res := results[0]
		if res.Err != nil || len(res.Unlisted) != 0 {
			t.Fatalf("result %+v, want the wait to end", res)
		}
		// A finished at 7 s, B at 15 s.
		if got := fmt.Sprint(f.pollsOf("t")); got != "[0s 1s 3s 7s 15s]" || took != 15*time.Second {
			t.Errorf("polls at %s, the read took %v; want [0s 1s 3s 7s 15s] and 15s", got, took)
		}
		if tally := res.Task.Tally(); tally.Running != 1 || tally.Successful != 1 || tally.Failed != 1 {
			t.Errorf("tally %+v, want the other job still running", tally)
		}
	})
}

// Without JobIDs, a task that lists no job has not finished.
func TestWithoutJobIDsATaskWithNoJobIsNotFinished(t *testing.T) {
	t.Run("never", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFakeReader(map[string]script{"t": {jobs: func(int, time.Duration) []koophone.Job { return nil }}})
			results, _ := readWithin(f, tasks("t"), time.Minute, Options{Wait: true, Random: exact})
			res := results[0]
			stop := stopOf(t, res.Err)
			if !stop.TimedOut() || stop.Elapsed != time.Minute || stop.Polls != 9 {
				t.Errorf("stop %+v, want a timeout at 1m after 9 polls", stop)
			}
			if !res.Observed || len(res.Task.Jobs) != 0 || res.Unlisted != nil {
				t.Errorf("result %+v", res)
			}
		})
	})
	t.Run("late", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFakeReader(map[string]script{"t": {jobs: func(_ int, at time.Duration) []koophone.Job {
				if at < 10*time.Second {
					return []koophone.Job{}
				}
				return []koophone.Job{job("A", koophone.StatusSucceeded)}
			}}})
			results, took := readWithin(f, tasks("t"), time.Minute, Options{Wait: true, Random: exact})
			if res := results[0]; res.Err != nil || res.Polls != 5 || took != 15*time.Second {
				t.Errorf("result %+v after %v, want the wait to end at 15s, when the job is listed", res, took)
			}
		})
	})
}

// What stopped a read is the cause of its context: a cancellation, a
// plain deadline, a deadline with a cause of its own, or the failure of
// another task's read.
func TestStopCausesTellCancellationTimeoutAndAbandonApart(t *testing.T) {
	errOwn := errors.New("the operation was called off")
	for _, c := range []struct {
		name     string
		ctx      func() (context.Context, func())
		cause    error
		canceled bool
		timedOut bool
	}{
		{"cancel", func() (context.Context, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(30*time.Second, cancel)
			return ctx, cancel
		}, context.Canceled, true, false},
		{"cancel with a cause", func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(30*time.Second, func() { cancel(errOwn) })
			return ctx, func() { cancel(nil) }
		}, errOwn, false, false},
		{"timeout", func() (context.Context, func()) {
			return context.WithTimeout(context.Background(), 30*time.Second)
		}, context.DeadlineExceeded, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeReader(map[string]script{"t": {doneAt: -1}})
				ctx, cancel := c.ctx()
				defer cancel()
				res := Read(ctx, f, tasks("t"), Options{Wait: true, Random: exact})[0]
				stop := stopOf(t, res.Err)
				if stop.Cause != c.cause || !errors.Is(res.Err, c.cause) {
					t.Errorf("cause %v, want %v", stop.Cause, c.cause)
				}
				if errors.Is(res.Err, context.Canceled) != c.canceled || stop.TimedOut() != c.timedOut || errors.Is(res.Err, context.DeadlineExceeded) != c.timedOut {
					t.Errorf("errors.Is(err, Canceled) = %v, TimedOut() = %v; want %v, %v", errors.Is(res.Err, context.Canceled), stop.TimedOut(), c.canceled, c.timedOut)
				}
				if errors.Is(res.Err, ErrAbandoned) {
					t.Error("errors.Is(err, ErrAbandoned) for a task that was not abandoned")
				}
				// Stopped mid-pause, at 30 s exactly: polls at 0, 1, 3, 7, 15, 25 s.
				if stop.Elapsed != 30*time.Second || stop.Polls != 6 {
					t.Errorf("stop %+v, want 6 polls and 30s", stop)
				}
			})
		})
	}
	t.Run("abandoned", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// bad is not found (within the grace) until 15 s, then its
			// credentials are rejected: the others are abandoned then, slow
			// in a pause, hanging in a request (from 7 s).
			f := newFakeReader(map[string]script{
				"bad":     {visibleAt: 15 * time.Second, err: errUnauthorized},
				"slow":    {doneAt: -1},
				"hanging": {doneAt: -1, hangFrom: 7 * time.Second},
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			res := Read(ctx, f, tasks("slow", "bad", "hanging"), Options{Wait: true, Random: exact})
			if !errors.Is(res[1].Err, koophone.ErrUnauthorized) || res[1].Polls != 5 {
				t.Fatalf("bad: %+v, want it to fail for good at its 5th poll", res[1])
			}
			for _, i := range []int{0, 2} {
				stop := stopOf(t, res[i].Err)
				if stop.Cause != ErrAbandoned || !errors.Is(res[i].Err, ErrAbandoned) {
					t.Errorf("%s: cause %v, want ErrAbandoned", res[i].TaskID, stop.Cause)
				}
				if errors.Is(res[i].Err, context.Canceled) || stop.TimedOut() {
					t.Errorf("%s: %v looks like a cancellation or a timeout", res[i].TaskID, res[i].Err)
				}
				if stop.Elapsed != 15*time.Second {
					t.Errorf("%s: abandoned after %v, want 15s", res[i].TaskID, stop.Elapsed)
				}
			}
		})
	})
}
