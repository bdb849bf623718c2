package taskwait

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/poll"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeTask scripts what reading one task returns over (virtual) time.
type fakeTask struct {
	doneAt    time.Duration // successful from then on; negative: never
	failed    bool          // finish with a failed job instead
	visibleAt time.Duration // "not found" before then
	err       error         // every read fails with it
	errUntil  time.Duration // ... only before then, when set
}

// fakeReader is a Reader over scripted tasks that records every poll and,
// like the real client, waits for a rate limiter when it has one.
type fakeReader struct {
	clock clock.Clock
	lim   *ratelimit.Limiter

	mu          sync.Mutex
	tasks       map[string]fakeTask
	rejectAfter map[string]time.Duration // reads fail for good from then on
	polls       map[string][]time.Duration
	done        map[string]bool
}

func newFakeReader(c clock.Clock, tasks map[string]fakeTask) *fakeReader {
	return &fakeReader{clock: c, tasks: tasks, polls: map[string][]time.Duration{}, done: map[string]bool{}}
}

var (
	errNotFound     = &koophone.APIError{HTTPStatus: http.StatusBadRequest, Code: koophone.CodeTaskNotFound}
	errUnauthorized = &koophone.APIError{HTTPStatus: http.StatusUnauthorized, Code: koophone.CodeGatewayAuth}
	errUnavailable  = &koophone.APIError{HTTPStatus: http.StatusServiceUnavailable}
)

func (f *fakeReader) GetTask(ctx context.Context, id string) (koophone.Task, error) {
	if f.lim != nil {
		if err := f.lim.Wait(ctx); err != nil {
			return koophone.Task{}, err
		}
	}
	now := f.clock.Now().Sub(t0)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls[id] = append(f.polls[id], now)
	spec, ok := f.tasks[id]
	reject, rejecting := f.rejectAfter[id]
	switch {
	case rejecting && now >= reject:
		return koophone.Task{}, errUnauthorized
	case !ok || now < spec.visibleAt:
		return koophone.Task{}, errNotFound
	case spec.err != nil && (spec.errUntil == 0 || now < spec.errUntil):
		return koophone.Task{}, spec.err
	}
	job := koophone.Job{JobID: id + "-job", Status: koophone.StatusRunning}
	if spec.doneAt >= 0 && now >= spec.doneAt {
		job.Status = koophone.StatusSucceeded
		if spec.failed {
			job.Status = koophone.StatusFailed
		}
		f.done[id] = true
	}
	return koophone.Task{ID: id, Jobs: []koophone.Job{job}}, nil
}

func (f *fakeReader) pollsOf(id string) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.polls[id]...)
}

func (f *fakeReader) finished() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.done)
}

// noLeak fails the test when goroutines it started are still running at
// its end (goleak waits a moment for them to finish first).
func noLeak(t *testing.T) {
	t.Helper()
	ignoreEarlier := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreEarlier) })
}

// simulate runs Read on a manual fake clock, jumping from timer to timer
// whenever every goroutine of the read is blocked, so a wait of minutes
// runs in milliseconds with exact timestamps. Quiescence is when the
// pending timers are exactly one per task still sleeping, one for the
// limiter's dispatcher when requests are queued, and one for the deadline.
func simulate(t *testing.T, c *clock.Fake, f *fakeReader, ids []string, opts Options) []Result {
	t.Helper()
	opts.Clock = c
	done := make(chan []Result, 1)
	go func() { done <- Read(context.Background(), f, ids, opts) }()
	expected := func() int {
		queued := 0
		if f.lim != nil {
			queued = f.lim.Stats().Queued
		}
		n := len(ids) - f.finished() - queued
		if queued > 0 {
			n++
		}
		if opts.Timeout > 0 {
			n++
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		for {
			select {
			case res := <-done:
				return res
			default:
			}
			if c.Waiters() == expected() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("simulation stuck at %v: %d timers, expected %d", c.Now().Sub(t0), c.Waiters(), expected())
			}
			time.Sleep(50 * time.Microsecond)
		}
		// Give a goroutine that has just been unblocked a moment to move.
		time.Sleep(50 * time.Microsecond)
		if c.Waiters() != expected() {
			continue
		}
		if !c.AdvanceToNext() {
			select {
			case res := <-done:
				return res
			case <-time.After(5 * time.Second):
				t.Fatal("nothing to wait for, yet the read did not end")
			}
		}
	}
}

func exact() Options { return Options{Wait: true, PollInterval: 10 * time.Second, Jitter: -1} }

func TestReadOnceReadsEachTaskOnce(t *testing.T) {
	noLeak(t)
	f := newFakeReader(clock.NewFake(t0), map[string]fakeTask{"a": {doneAt: 0}, "b": {doneAt: -1}})
	res := Read(context.Background(), f, []string{"b", "a", "x"}, Options{})
	if res[0].TaskID != "b" || res[1].TaskID != "a" || res[2].TaskID != "x" {
		t.Fatalf("results out of order: %+v", res)
	}
	if res[0].Err != nil || res[0].Task.Summary().State != koophone.TaskRunning || !res[0].Observed {
		t.Errorf("b = %+v", res[0])
	}
	if res[1].Err != nil || res[1].Task.Summary().State != koophone.TaskSuccessful {
		t.Errorf("a = %+v", res[1])
	}
	// Without waiting, "not found" is not tolerated.
	if !errors.Is(res[2].Err, koophone.ErrTaskNotFound) || res[2].Observed || res[2].Polls != 1 {
		t.Errorf("x = %+v", res[2])
	}
	for _, id := range []string{"a", "b", "x"} {
		if n := len(f.pollsOf(id)); n != 1 {
			t.Errorf("%s read %d times", id, n)
		}
	}
}

// All tasks are polled at once, each on the poller's schedule, and a
// finished task is never polled again.
func TestWaitPollsConcurrentlyAndStopsEachTaskWhenDone(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	f := newFakeReader(c, map[string]fakeTask{"a": {doneAt: 0}, "b": {doneAt: 3 * time.Second}, "c": {doneAt: 25 * time.Second, failed: true}})
	res := simulate(t, c, f, []string{"a", "b", "c"}, exact())
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.TaskID, r.Err)
		}
	}
	for id, want := range map[string]string{"a": "[0s]", "b": "[0s 1s 3s]", "c": "[0s 1s 3s 7s 15s 25s]"} {
		if got := fmt.Sprint(f.pollsOf(id)); got != want {
			t.Errorf("%s polled at %s, want %s", id, got, want)
		}
	}
	if res[2].Task.Summary().State != koophone.TaskFailed || res[2].Polls != 6 {
		t.Errorf("c = %+v", res[2])
	}
	if got := c.Now().Sub(t0); got != 25*time.Second {
		t.Errorf("read ended at %v, want when the last task finished", got)
	}
}

func TestTimeoutWithOnlyRunningTasks(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	f := newFakeReader(c, map[string]fakeTask{"a": {doneAt: 2 * time.Second}, "b": {doneAt: -1}, "c": {doneAt: -1}})
	opts := exact()
	opts.Timeout = 2 * time.Minute
	res := simulate(t, c, f, []string{"a", "b", "c"}, opts)
	if res[0].Err != nil {
		t.Errorf("a: %v", res[0].Err)
	}
	for _, r := range res[1:] {
		var te *poll.TimeoutError
		if !errors.As(r.Err, &te) || te.LastErr != nil {
			t.Errorf("%s: %v", r.TaskID, r.Err)
		}
		// Polled up to the deadline, the last poll at the deadline at most.
		if p := f.pollsOf(r.TaskID); p[len(p)-1] > 2*time.Minute {
			t.Errorf("%s polled after the deadline: %v", r.TaskID, p)
		}
	}
	if got := c.Now().Sub(t0); got != 2*time.Minute {
		t.Errorf("read ended at %v", got)
	}
}

// A read that fails for good (here: credentials rejected on a later poll)
// ends the wait of every other task at once.
func TestPermanentFailureAbandonsTheOtherTasks(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	f := newFakeReader(c, map[string]fakeTask{"a": {doneAt: 0}, "b": {doneAt: -1}, "c": {doneAt: -1}})
	f.rejectAfter = map[string]time.Duration{"b": 3 * time.Second}
	res := simulate(t, c, f, []string{"a", "b", "c"}, exact())
	if res[0].Err != nil {
		t.Errorf("a: %v", res[0].Err)
	}
	if !errors.Is(res[1].Err, koophone.ErrUnauthorized) || res[1].Abandoned() {
		t.Errorf("b = %+v", res[1])
	}
	if !res[2].Abandoned() || !res[2].Observed {
		t.Errorf("c = %+v, want abandoned with its last state", res[2])
	}
	if got := c.Now().Sub(t0); got != 3*time.Second {
		t.Errorf("read ended at %v, want at b's failure", got)
	}
}

// A task that stays invisible beyond the grace period fails the read.
func TestNotFoundAfterTheGracePeriod(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	f := newFakeReader(c, map[string]fakeTask{"b": {doneAt: -1}})
	res := simulate(t, c, f, []string{"b", "missing"}, exact())
	if !errors.Is(res[1].Err, koophone.ErrTaskNotFound) {
		t.Errorf("missing = %+v", res[1])
	}
	if got := fmt.Sprint(f.pollsOf("missing")); got != "[0s 1s 3s 7s 15s 25s 35s]" {
		t.Errorf("missing polled at %s, want until just after the 30 s grace", got)
	}
	if !res[0].Abandoned() {
		t.Errorf("b = %+v", res[0])
	}
}

func TestWaitSurvivesTransientErrorsAndLateVisibility(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	f := newFakeReader(c, map[string]fakeTask{
		"flaky": {doneAt: 5 * time.Second, err: errUnavailable, errUntil: 4 * time.Second},
		"late":  {doneAt: 0, visibleAt: 10 * time.Second},
	})
	var obs recordingObserver
	opts := exact()
	opts.Observer = &obs
	res := simulate(t, c, f, []string{"flaky", "late"}, opts)
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("%s: %v", r.TaskID, r.Err)
		}
	}
	if got := fmt.Sprint(f.pollsOf("flaky")); got != "[0s 1s 3s 7s]" {
		t.Errorf("flaky polled at %s", got)
	}
	if got := fmt.Sprint(f.pollsOf("late")); got != "[0s 1s 3s 7s 15s]" {
		t.Errorf("late polled at %s", got)
	}
	if obs.retries() != 7 {
		t.Errorf("%d retries observed, want 7 (3 unavailable, 4 not found)", obs.retries())
	}
}

// recordingObserver counts what it is told.
type recordingObserver struct {
	mu       sync.Mutex
	polled   []Poll
	retried  int
	finished []string
}

func (o *recordingObserver) TaskContext(ctx context.Context, _ string) context.Context { return ctx }

func (o *recordingObserver) Polled(_ context.Context, p Poll) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.polled = append(o.polled, p)
}

func (o *recordingObserver) Retrying(context.Context, string, error, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retried++
}

func (o *recordingObserver) Finished(_ context.Context, r Result, ended, total int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finished = append(o.finished, fmt.Sprintf("%s %d/%d", r.TaskID, ended, total))
}

func (o *recordingObserver) retries() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.retried
}

func TestObserverHearsProgress(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	f := newFakeReader(c, map[string]fakeTask{"a": {doneAt: 2 * time.Second}, "b": {doneAt: 8 * time.Second}})
	var obs recordingObserver
	opts := exact()
	opts.Observer = &obs
	simulate(t, c, f, []string{"a", "b"}, opts)
	var changed []string
	for _, p := range obs.polled {
		if p.Changed {
			changed = append(changed, fmt.Sprintf("%s#%d:%s", p.TaskID, p.N, p.Summary.State))
		}
	}
	sort.Strings(changed)
	if got := strings.Join(changed, " "); got != "a#1:running a#3:successful b#1:running b#5:successful" {
		t.Errorf("changes observed: %s", got)
	}
	if fmt.Sprint(obs.finished) != "[a 1/2 b 2/2]" {
		t.Errorf("finished: %v", obs.finished)
	}
}

func TestCancellationEndsEveryWait(t *testing.T) {
	noLeak(t)
	c := clock.NewFake(t0)
	f := newFakeReader(c, map[string]fakeTask{"a": {doneAt: -1}, "b": {doneAt: -1}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []Result, 1)
	go func() { done <- Read(ctx, f, []string{"a", "b"}, Options{Clock: c, Wait: true, Timeout: time.Hour}) }()
	c.BlockUntilWaiters(3) // both tasks pause, plus the deadline
	cancel()
	select {
	case res := <-done:
		for _, r := range res {
			var ce *poll.CanceledError
			if !errors.As(r.Err, &ce) || r.Abandoned() {
				t.Errorf("%s: %v", r.TaskID, r.Err)
			}
		}
	case <-time.After(time.Second):
		t.Fatal("a cancelled read did not end within a second")
	}
}

// When the rate limit is the bottleneck, tasks are polled in turns: every
// task is polled once before any is polled twice, no task waits much more
// than one round, the limit holds in every second, and each task is seen
// finished within a round of finishing.
func TestFairPollingWhenTheRateLimitIsTheBottleneck(t *testing.T) {
	noLeak(t)
	const (
		tasks = 40
		rate  = 2.0 // one round of polls takes 20 s, longer than the poll interval
	)
	c := clock.NewFake(t0)
	specs := map[string]fakeTask{}
	var ids []string
	for i := range tasks {
		id := fmt.Sprintf("t%02d", i)
		ids = append(ids, id)
		specs[id] = fakeTask{doneAt: time.Duration(30+i) * time.Second}
	}
	f := newFakeReader(c, specs)
	lim, err := ratelimit.New(rate, ratelimit.Options{Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	f.lim = lim
	opts := exact()
	opts.Timeout = 10 * time.Minute
	res := simulate(t, c, f, ids, opts)
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.TaskID, r.Err)
		}
	}

	type poll struct {
		id string
		at time.Duration
	}
	var all []poll
	round := time.Duration(float64(tasks)/rate) * time.Second
	for _, id := range ids {
		p := f.pollsOf(id)
		for i, at := range p {
			all = append(all, poll{id, at})
			if i > 0 && at-p[i-1] > round+time.Second {
				t.Errorf("%s waited %v between polls %d and %d; a round is %v", id, at-p[i-1], i, i+1, round)
			}
		}
		finish := specs[id].doneAt
		if lag := p[len(p)-1] - finish; lag > round {
			t.Errorf("%s seen finished %v after it finished", id, lag)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at < all[j].at })
	first := map[string]bool{}
	for _, p := range all[:tasks] {
		if first[p.id] {
			t.Fatalf("%s polled twice before every task was polled once", p.id)
		}
		first[p.id] = true
	}
	for i := range all {
		n := 0
		for _, p := range all[i:] {
			if p.at-all[i].at < time.Second {
				n++
			}
		}
		if n > int(rate) {
			t.Fatalf("%d polls in the second after %v; the limit is %v/s", n, all[i].at, rate)
		}
	}
}
