package provider

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/poll"
)

// These tests prove that a wait ends as soon as Terraform cancels it (Ctrl-C)
// or its deadline passes, whatever it is doing at that moment. Time is a
// fake clock that nobody advances: a wait that returns has not slept or
// waited for any timer, it was interrupted. The measured latencies are
// logged; BenchmarkWaitInterruptLatency reports them as numbers.

// hangGuard bounds how long a test waits for a result, so that a bug shows
// as a failure instead of a stuck test run. It is not a performance bound.
const hangGuard = 30 * time.Second

type waitRig struct {
	emu   *emulator.Emulator
	fake  *clock.Fake
	data  *providerData
	start time.Time
}

func newWaitRig(t testing.TB) *waitRig {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fake := clock.NewFake(start)
	emu := emulator.New(emulator.Options{Token: accToken, Clock: fake})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := koophone.New(koophone.Config{
		Endpoint:    srv.URL,
		Credentials: koophone.TokenCredentials{Token: accToken},
		MaxRetries:  4,
		Clock:       fake,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	return &waitRig{emu: emu, fake: fake, data: &providerData{client: client, clock: fake}, start: start}
}

// runningTask adds a task whose job never finishes.
func (r *waitRig) runningTask(t testing.TB) string {
	t.Helper()
	id, err := r.emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusRunning}}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// stuckRequest makes the next read of the task hang: the emulator delays
// it by an hour on a clock that never moves.
func (r *waitRig) stuckRequest(t testing.TB, id string) {
	t.Helper()
	if err := r.emu.AddFault(emulator.Fault{Match: id, Kind: emulator.FaultDelay, Delay: emulator.Duration(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// inFlight waits until the emulator holds the stuck request.
func (r *waitRig) inFlight(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for len(r.emu.PendingFaults()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the emulator")
		}
		time.Sleep(time.Millisecond)
	}
	// The emulator took the fault; give the handler a moment to block.
	time.Sleep(5 * time.Millisecond)
}

// pausing waits until the wait has made a request and is sleeping on the
// fake clock: besides the read's deadline timer, a pause timer is pending.
func (r *waitRig) pausing(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for len(r.emu.Requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no request reached the emulator")
		}
		time.Sleep(time.Millisecond)
	}
	r.fake.BlockUntilWaiters(2)
}

type waitResult struct {
	err      error
	returned time.Time
}

func (r *waitRig) startWait(ctx context.Context, id string) <-chan waitResult {
	done := make(chan waitResult, 1)
	go func() {
		res := readTasks(ctx, r.data, []string{id}, waitSettings{Wait: true, PollInterval: 10 * time.Second, Timeout: 20 * time.Minute})
		done <- waitResult{err: res[0].Err, returned: time.Now()}
	}()
	return done
}

func awaitResult(t testing.TB, done <-chan waitResult) waitResult {
	t.Helper()
	select {
	case res := <-done:
		return res
	case <-time.After(hangGuard):
		t.Fatal("the wait did not end")
		return waitResult{}
	}
}

func (r *waitRig) assertNoTimePassed(t testing.TB) {
	t.Helper()
	if got := r.fake.Now(); !got.Equal(r.start) {
		t.Errorf("the fake clock moved by %v: the wait slept instead of being interrupted", got.Sub(r.start))
	}
}

func TestWaitCancelledWhileRequestInFlight(t *testing.T) {
	r := newWaitRig(t)
	id := r.runningTask(t)
	r.stuckRequest(t, id)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := r.startWait(ctx, id)
	r.inFlight(t)
	cancelled := time.Now()
	cancel()
	res := awaitResult(t, done)
	var ce *poll.CanceledError
	if !errors.As(res.err, &ce) {
		t.Fatalf("err = %v, want *poll.CanceledError", res.err)
	}
	r.assertNoTimePassed(t)
	t.Logf("cancellation latency with a request in flight: %v", res.returned.Sub(cancelled))
}

func TestWaitCancelledWhileBackingOff(t *testing.T) {
	r := newWaitRig(t)
	id := r.runningTask(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := r.startWait(ctx, id)
	r.pausing(t) // the first poll is done; the 1 s pause is pending
	cancelled := time.Now()
	cancel()
	res := awaitResult(t, done)
	var ce *poll.CanceledError
	if !errors.As(res.err, &ce) || ce.Checks != 1 {
		t.Fatalf("err = %v, want *poll.CanceledError after 1 poll", res.err)
	}
	r.assertNoTimePassed(t)
	t.Logf("cancellation latency during a backoff pause: %v", res.returned.Sub(cancelled))
}

func TestWaitCancelledWhileRetryPausePending(t *testing.T) {
	r := newWaitRig(t)
	id := r.runningTask(t)
	if err := r.emu.AddFault(emulator.Fault{Match: id, Kind: emulator.FaultError, Status: 503}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := r.startWait(ctx, id)
	r.pausing(t) // the client's retry pause after the 503
	cancel()
	res := awaitResult(t, done)
	if !errors.Is(res.err, context.Canceled) {
		t.Fatalf("err = %v, want a cancellation", res.err)
	}
	r.assertNoTimePassed(t)
}

// The read's deadline (timeouts.read) interrupts a request in flight and
// reports a timeout, not a network failure.
func TestWaitDeadlineWhileRequestInFlight(t *testing.T) {
	r := newWaitRig(t)
	id := r.runningTask(t)
	r.stuckRequest(t, id)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	res := awaitResult(t, r.startWait(ctx, id))
	var te *poll.TimeoutError
	if !errors.As(res.err, &te) {
		t.Fatalf("err = %v, want *poll.TimeoutError", res.err)
	}
	if te.Observed {
		t.Error("a task that was never read is reported as observed")
	}
	r.assertNoTimePassed(t)
	t.Logf("deadline latency with a request in flight: %v", res.returned.Sub(deadline))
}

// BenchmarkWaitInterruptLatency measures how long a wait takes to return
// after Ctrl-C, with a request in flight and during a backoff pause.
func BenchmarkWaitInterruptLatency(b *testing.B) {
	b.Run("request in flight", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			r := newWaitRig(b)
			id := r.runningTask(b)
			r.stuckRequest(b, id)
			ctx, cancel := context.WithCancel(context.Background())
			done := r.startWait(ctx, id)
			r.inFlight(b)
			cancelled := time.Now()
			cancel()
			total += awaitResult(b, done).returned.Sub(cancelled)
		}
		b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/cancel")
	})
	b.Run("backoff pause", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			r := newWaitRig(b)
			id := r.runningTask(b)
			ctx, cancel := context.WithCancel(context.Background())
			done := r.startWait(ctx, id)
			r.pausing(b)
			cancelled := time.Now()
			cancel()
			total += awaitResult(b, done).returned.Sub(cancelled)
		}
		b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/cancel")
	})
}
