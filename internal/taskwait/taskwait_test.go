package taskwait

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/koophone/terraform-provider-koophone/internal/clockctx"
	"github.com/koophone/terraform-provider-koophone/internal/clocktest"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// script says what reading one task returns over (virtual) time.
type script struct {
	doneAt    time.Duration // finished from then on; negative: never
	status    int64         // the final status; 0 means StatusSucceeded...
	pending   bool          // ... unless this is set: the final status is 0
	visibleAt time.Duration // "not found" before then
	err       error         // every read fails with it...
	errUntil  time.Duration // ... only before then, when set
}

// fakeReader is a Reader over scripted tasks. It records when each task
// was read, and which method read it.
type fakeReader struct {
	clock   clockwork.Clock
	scripts map[string]script
	// block makes every read wait for its context to end.
	block bool

	mu     sync.Mutex
	polls  map[string][]time.Duration
	once   int // reads through GetTaskOnce (polls)
	retrys int // reads through GetTask (reads with the client's retries)
}

func newFakeReader(c clockwork.Clock, scripts map[string]script) *fakeReader {
	return &fakeReader{clock: c, scripts: scripts, polls: map[string][]time.Duration{}}
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

func (f *fakeReader) read(ctx context.Context, id string) (koophone.Task, error) {
	if f.block {
		<-ctx.Done()
		return koophone.Task{}, ctx.Err()
	}
	now := f.clock.Since(t0)
	f.mu.Lock()
	f.polls[id] = append(f.polls[id], now)
	f.mu.Unlock()
	s, ok := f.scripts[id]
	switch {
	case !ok || now < s.visibleAt:
		return koophone.Task{}, errNotFound
	case s.err != nil && (s.errUntil == 0 || now < s.errUntil):
		return koophone.Task{}, s.err
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

// readWithin reads ids on clock c, under a deadline of timeout (none when
// zero).
func readWithin(c clockwork.Clock, r Reader, ids []string, timeout time.Duration, opts Options) []Result {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = clockctx.WithTimeout(ctx, c, timeout)
		defer cancel()
	}
	opts.Clock = c
	return Read(ctx, r, ids, opts)
}

func stopOf(t *testing.T, err error) *StopError {
	t.Helper()
	var stop *StopError
	if !errors.As(err, &stop) {
		t.Fatalf("err = %v, want a *StopError", err)
	}
	return stop
}

func TestTheScheduleStartsAtOnceThenBacksOffToTheInterval(t *testing.T) {
	c := clockctx.NewAutoClock(t0)
	f := newFakeReader(c, map[string]script{"t": {doneAt: -1}})
	res := readWithin(c, f, []string{"t"}, time.Minute, Options{Wait: true, Random: exact})[0]
	want := "[0s 1s 3s 7s 15s 25s 35s 45s 55s]"
	if got := fmt.Sprint(f.pollsOf("t")); got != want {
		t.Errorf("polls at %s, want %s", got, want)
	}
	stop := stopOf(t, res.Err)
	if stop.Reason != StopTimeout || stop.Elapsed != time.Minute || stop.Polls != 9 || stop.LastErr != nil {
		t.Errorf("stop = %+v", stop)
	}
	if !errors.Is(res.Err, context.DeadlineExceeded) || !res.Observed || res.Task.Summary().Running != 1 {
		t.Errorf("result %+v: want the running task as last seen, and a timeout", res)
	}
}

func TestAShortPollIntervalCapsTheFirstPauseToo(t *testing.T) {
	c := clockctx.NewAutoClock(t0)
	f := newFakeReader(c, map[string]script{"t": {doneAt: 4 * time.Second}})
	readWithin(c, f, []string{"t"}, 0, Options{Wait: true, PollInterval: 2 * time.Second, Random: exact})
	if got := fmt.Sprint(f.pollsOf("t")); got != "[0s 1s 3s 5s]" {
		t.Errorf("polls at %s, want [0s 1s 3s 5s]", got)
	}
}

func TestJitterOnlyShortensPauses(t *testing.T) {
	c := clockctx.NewAutoClock(t0)
	f := newFakeReader(c, map[string]script{"t": {doneAt: -1}})
	rng := rand.New(rand.NewPCG(1, 2))
	readWithin(c, f, []string{"t"}, 5*time.Minute, Options{Wait: true, Random: rng.Float64})
	polls := f.pollsOf("t")
	pause := FirstPause
	for i := 1; i < len(polls); i++ {
		if gap := polls[i] - polls[i-1]; gap > pause || gap < pause-pause/10 {
			t.Fatalf("pause %d is %v, want within [%v, %v]", i, gap, pause-pause/10, pause)
		}
		pause = min(2*pause, DefaultPollInterval)
	}
}

// However the finish falls between polls, a finished task is seen within
// the poll interval, jitter included.
func TestDetectionLagNeverExceedsThePollInterval(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for finish := time.Duration(0); finish <= 3*time.Minute; finish += 1300 * time.Millisecond {
		c := clockctx.NewAutoClock(t0)
		f := newFakeReader(c, map[string]script{"t": {doneAt: finish}})
		res := readWithin(c, f, []string{"t"}, 0, Options{Wait: true, Random: rng.Float64})[0]
		polls := f.pollsOf("t")
		if res.Err != nil || !res.Task.Summary().Done() {
			t.Fatalf("finish %v: %+v", finish, res)
		}
		if lag := polls[len(polls)-1] - finish; lag < 0 || lag > DefaultPollInterval {
			t.Errorf("finish %v: seen after %v, more than the poll interval", finish, lag)
		}
	}
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
	if p.Changed {
		o.changes = append(o.changes, fmt.Sprintf("%d:%s", p.N, p.Summary.State))
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
	c := clockctx.NewAutoClock(t0)
	f := newFakeReader(c, map[string]script{"t": {doneAt: 20 * time.Second, err: errUnavailable, errUntil: 5 * time.Second}})
	obs := &recordingObserver{}
	res := readWithin(c, f, []string{"t"}, 0, Options{Wait: true, Random: exact, Observer: obs})[0]
	if res.Err != nil || res.Task.Summary().State != koophone.TaskSuccessful {
		t.Fatalf("result %+v", res)
	}
	// Failures at 0, 1 and 3 s, running at 7 and 15 s, done at 25 s.
	if got := fmt.Sprint(f.pollsOf("t")); got != "[0s 1s 3s 7s 15s 25s]" {
		t.Errorf("polls at %s", got)
	}
	if f.once != 6 || f.retrys != 0 || res.Polls != 6 {
		t.Errorf("%d polls, %d reads with retries, %d counted; want 6 polls of one request each", f.once, f.retrys, res.Polls)
	}
	if fmt.Sprint(obs.retries) != "[1s 2s 4s]" || fmt.Sprint(obs.changes) != "[4:running 6:successful]" || fmt.Sprint(obs.finished) != "[1]" {
		t.Errorf("observer saw retries %v, changes %v, finished %v", obs.retries, obs.changes, obs.finished)
	}
}

func TestFailedAndUnknownStatusesEndOrKeepTheWait(t *testing.T) {
	for _, c := range []struct {
		status int64
		done   bool
		state  koophone.TaskState
	}{
		{koophone.StatusFailed, true, koophone.TaskFailed},
		{koophone.StatusInstallFailed, true, koophone.TaskFailed},
		{koophone.StatusSucceeded, true, koophone.TaskSuccessful},
		{koophone.StatusPending, false, koophone.TaskRunning},
		{42, false, koophone.TaskRunning},
	} {
		clk := clockctx.NewAutoClock(t0)
		f := newFakeReader(clk, map[string]script{"t": {doneAt: 3 * time.Second, status: c.status}})
		if c.status == koophone.StatusPending {
			f.scripts["t"] = script{doneAt: 3 * time.Second, pending: true}
		}
		res := readWithin(clk, f, []string{"t"}, time.Minute, Options{Wait: true, Random: exact})[0]
		if got := res.Task.Summary().State; got != c.state {
			t.Errorf("status %d: state %s, want %s", c.status, got, c.state)
		}
		if (res.Err == nil) != c.done {
			t.Errorf("status %d: err = %v; want the wait to end only on a final status", c.status, res.Err)
		}
	}
}

func TestNotFoundIsToleratedForTheGraceOnly(t *testing.T) {
	c := clockctx.NewAutoClock(t0)
	f := newFakeReader(c, nil)
	res := readWithin(c, f, []string{"never"}, 0, Options{Wait: true, Random: exact})[0]
	// A task never visible fails at the first poll after the grace: at
	// 35 s (polls at 0, 1, 3, 7, 15, 25, 35 s).
	if !errors.Is(res.Err, koophone.ErrTaskNotFound) {
		t.Fatalf("err = %v, want not found", res.Err)
	}
	if got := fmt.Sprint(f.pollsOf("never")); got != "[0s 1s 3s 7s 15s 25s 35s]" {
		t.Errorf("polls at %s", got)
	}
}

func TestALateTaskIsWaitedFor(t *testing.T) {
	c := clockctx.NewAutoClock(t0)
	f := newFakeReader(c, map[string]script{"late": {visibleAt: 20 * time.Second, doneAt: 22 * time.Second}})
	res := readWithin(c, f, []string{"late"}, 0, Options{Wait: true, Random: exact})[0]
	if res.Err != nil || res.Task.Summary().State != koophone.TaskSuccessful {
		t.Errorf("result %+v", res)
	}
}

// A task whose read fails for good ends the read of the others at once.
func TestAPermanentFailureAbandonsTheOtherTasks(t *testing.T) {
	c := clockwork.NewFakeClockAt(t0) // never advanced: only the failure can end the waits
	f := newFakeReader(c, map[string]script{
		"bad":  {err: errUnauthorized},
		"slow": {doneAt: -1},
	})
	res := readWithin(c, f, []string{"slow", "bad"}, 0, Options{Wait: true})
	if !errors.Is(res[1].Err, koophone.ErrUnauthorized) {
		t.Errorf("bad: err = %v", res[1].Err)
	}
	if stop := stopOf(t, res[0].Err); stop.Reason != StopAbandoned {
		t.Errorf("slow: stop reason %s, want abandoned", stop.Reason)
	}
	if len(f.pollsOf("bad")) != 1 {
		t.Errorf("a permanent failure was polled %d times", len(f.pollsOf("bad")))
	}
}

func TestATimeoutWithOnlyFailuresSaysWhatFailed(t *testing.T) {
	c := clockctx.NewAutoClock(t0)
	f := newFakeReader(c, map[string]script{"t": {err: errUnavailable}})
	res := readWithin(c, f, []string{"t"}, 20*time.Second, Options{Wait: true, Random: exact})[0]
	stop := stopOf(t, res.Err)
	if res.Observed || stop.Reason != StopTimeout || !errors.Is(stop.LastErr, errUnavailable) || stop.Polls != 5 {
		t.Errorf("result %+v, stop %+v", res, stop)
	}
}

// Cancellation (Ctrl-C) ends a pause or a request in flight at once: the
// clock never moves.
func TestCancellationEndsAPauseOrARequestAtOnce(t *testing.T) {
	for _, during := range []string{"pause", "request"} {
		t.Run(during, func(t *testing.T) {
			c := clockwork.NewFakeClockAt(t0)
			f := newFakeReader(c, map[string]script{"t": {doneAt: -1}})
			f.block = during == "request"
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan Result, 1)
			go func() { done <- Read(ctx, f, []string{"t"}, Options{Clock: c, Wait: true})[0] }()
			if during == "pause" {
				if err := c.BlockUntilContext(ctx, 1); err != nil {
					t.Fatal(err)
				}
			}
			cancel()
			res := <-done
			if stop := stopOf(t, res.Err); stop.Reason != StopCanceled || !errors.Is(res.Err, context.Canceled) {
				t.Errorf("stop %+v", stop)
			}
			if !c.Now().Equal(t0) {
				t.Error("the clock moved: the wait slept instead of ending")
			}
		})
	}
}

func TestReadingWithoutWaitingReadsEachTaskOnceWithTheClientsRetries(t *testing.T) {
	c := clockwork.NewFakeClockAt(t0)
	f := newFakeReader(c, map[string]script{"a": {doneAt: -1}, "b": {doneAt: 0}})
	res := readWithin(c, f, []string{"a", "b"}, 0, Options{})
	if f.retrys != 2 || f.once != 0 {
		t.Errorf("%d reads with retries, %d polls; want 2 reads", f.retrys, f.once)
	}
	if res[0].Err != nil || res[0].Task.Summary().State != koophone.TaskRunning || res[1].Task.Summary().State != koophone.TaskSuccessful {
		t.Errorf("results %+v", res)
	}
}

func TestAReadWithoutWaitingStoppedByItsDeadlineIsATimeout(t *testing.T) {
	c := clockwork.NewFakeClockAt(t0)
	f := newFakeReader(c, map[string]script{"t": {}})
	f.block = true
	done := make(chan Result, 1)
	go func() { done <- readWithin(c, f, []string{"t"}, time.Minute, Options{})[0] }()
	if err := c.BlockUntilContext(context.Background(), 1); err != nil { // the deadline's timer
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if stop := stopOf(t, (<-done).Err); stop.Reason != StopTimeout || stop.LastErr != nil {
		t.Errorf("stop %+v", stop)
	}
}

// Many tasks are polled concurrently, each on its own schedule, and a task
// that has finished is never polled again. The fake clock moves only when
// every task still waiting is asleep, so the poll times are exact.
func TestManyTasksArePolledConcurrentlyAndEachStopsWhenDone(t *testing.T) {
	const tasks = 50
	c := clockwork.NewFakeClockAt(t0)
	scripts := map[string]script{}
	var ids []string
	for i := range tasks {
		id := fmt.Sprintf("t%02d", i)
		ids = append(ids, id)
		scripts[id] = script{doneAt: time.Duration(i) * 1500 * time.Millisecond}
	}
	f := newFakeReader(c, scripts)
	obs := &endSignal{recordingObserver: &recordingObserver{}, ended: make(chan struct{}, tasks)}
	done := make(chan []Result, 1)
	go func() {
		done <- Read(context.Background(), f, ids, Options{Clock: c, Wait: true, Random: exact, Observer: obs})
	}()
	res := driveUntilQuiet(c, tasks, obs.ended, done)
	for i, id := range ids {
		if res[i].Err != nil || !res[i].Task.Summary().Done() {
			t.Fatalf("%s: %+v", id, res[i])
		}
		polls := f.pollsOf(id)
		finish := scripts[id].doneAt
		// Every task is polled at once; its last poll is the first at or
		// after its finish, within the poll interval of it.
		if polls[0] != 0 || polls[len(polls)-1] < finish || polls[len(polls)-1]-finish > DefaultPollInterval {
			t.Errorf("%s (finishing at %v) polled at %v", id, finish, polls)
		}
		if len(polls) > 1 && polls[len(polls)-2] >= finish {
			t.Errorf("%s (finishing at %v) was polled after it was seen finished: %v", id, finish, polls)
		}
	}
}

// endSignal tells the test driver when a task's read ends.
type endSignal struct {
	*recordingObserver
	ended chan struct{}
}

func (e *endSignal) Finished(ctx context.Context, r Result, ended, total int) {
	e.recordingObserver.Finished(ctx, r, ended, total)
	e.ended <- struct{}{}
}

// driveUntilQuiet advances c by 100 ms whenever every one of the running
// tasks sleeps on it, until done delivers.
func driveUntilQuiet[T any](c *clockwork.FakeClock, running int, ended <-chan struct{}, done <-chan T) T {
	for {
		asleep, stop := clocktest.WhenBlocked(c, running)
		select {
		case v := <-done:
			stop()
			return v
		case <-ended:
			stop()
			running--
		case <-asleep:
			stop()
			c.Advance(100 * time.Millisecond)
		}
	}
}
