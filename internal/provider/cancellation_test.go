package provider

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// These tests prove that a wait ends as soon as Terraform cancels it (Ctrl-C)
// or its deadline passes, whatever it is doing at that moment. The provider
// and the emulator share a fake clock that only the test moves; the test
// acts once the wait is blocked on that clock (every blocked wait holds a
// timer on it), so nothing depends on how fast the machine is. A wait that
// returns while the clock has not moved was interrupted: it did not sleep.
// BenchmarkWaitInterruptLatency reports how long the interruption takes.

// hangGuard bounds how long a test waits for a result, so that a bug shows
// as a failure instead of a stuck test run. It is not a performance bound.
const hangGuard = 30 * time.Second

type waitRig struct {
	emu   *emulator.Emulator
	clock *clockwork.FakeClock
	data  *providerData
	start time.Time
}

func newWaitRig(t testing.TB) *waitRig {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := clockwork.NewFakeClockAt(start)
	emu := emulator.New(emulator.Options{Token: accToken, Clock: c})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := koophone.New(koophone.Config{
		Endpoint:    srv.URL,
		Credentials: koophone.TokenCredentials{Token: accToken},
		MaxRetries:  4,
		Clock:       c,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	return &waitRig{emu: emu, clock: c, data: &providerData{client: client, clock: c}, start: start}
}

// runningTask adds a task whose job never finishes; with stuck, its first
// read hangs: the emulator holds it for an hour of the clock.
func (r *waitRig) runningTask(t testing.TB, stuck bool) string {
	t.Helper()
	id, err := r.emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusRunning}}})
	if err != nil {
		t.Fatal(err)
	}
	if stuck {
		if err := r.emu.AddFault(emulator.Fault{Match: id, Kind: emulator.FaultDelay, Delay: emulator.Duration(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// blocked returns once the wait is blocked on the clock: besides the
// read's deadline, one more timer is pending, the emulator's hold on a
// stuck request or the wait's pause between polls.
func (r *waitRig) blocked(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := r.clock.BlockUntilContext(ctx, 2); err != nil {
		t.Fatal("the wait never blocked on the clock")
	}
}

type waitResult struct {
	res      taskwait.Result
	returned time.Time
}

func (r *waitRig) startWait(ctx context.Context, id string) <-chan waitResult {
	done := make(chan waitResult, 1)
	go func() {
		res := readTasks(ctx, r.data, []string{id}, waitSettings{Wait: true, PollInterval: 10 * time.Second, Timeout: 20 * time.Minute})
		done <- waitResult{res: res[0], returned: time.Now()}
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

func stopOf(t testing.TB, err error) *taskwait.StopError {
	t.Helper()
	var stop *taskwait.StopError
	if !errors.As(err, &stop) {
		t.Fatalf("err = %v, want a *taskwait.StopError", err)
	}
	return stop
}

func TestWaitInterrupted(t *testing.T) {
	for _, c := range []struct {
		name  string
		stuck bool // a request is in flight when the wait is interrupted
		fault *emulator.Fault
	}{
		{name: "cancelled with a request in flight", stuck: true},
		{name: "cancelled during a pause between polls"},
		{name: "cancelled during the pause after a failed poll", fault: &emulator.Fault{Kind: emulator.FaultError, Status: 503}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newWaitRig(t)
			id := r.runningTask(t, c.stuck)
			if c.fault != nil {
				f := *c.fault
				f.Match = id
				if err := r.emu.AddFault(f); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := r.startWait(ctx, id)
			r.blocked(t)
			cancel()
			res := awaitResult(t, done).res
			stop := stopOf(t, res.Err)
			if stop.Reason != taskwait.StopCanceled || stop.Polls != 1 {
				t.Errorf("stop = %+v, want cancelled after one poll", stop)
			}
			if (c.fault != nil) != (stop.LastErr != nil) {
				t.Errorf("last error %v; want the failed poll's, and only then", stop.LastErr)
			}
			if !r.clock.Now().Equal(r.start) {
				t.Errorf("the clock moved by %v: the wait slept instead of being interrupted", r.clock.Since(r.start))
			}
		})
	}
}

// The read's deadline (timeouts.read) interrupts a request in flight and
// reports a timeout, not a network failure, at the deadline itself.
func TestWaitDeadlineWhileRequestInFlight(t *testing.T) {
	r := newWaitRig(t)
	id := r.runningTask(t, true)
	done := r.startWait(context.Background(), id)
	r.blocked(t)
	r.clock.Advance(20 * time.Minute)
	res := awaitResult(t, done).res
	if stop := stopOf(t, res.Err); stop.Reason != taskwait.StopTimeout || stop.Elapsed != 20*time.Minute {
		t.Errorf("stop = %+v, want a timeout at 20m", stop)
	}
	if res.Observed {
		t.Error("a task that was never read is reported as observed")
	}
}

// BenchmarkWaitInterruptLatency measures how long a wait takes to return
// after Ctrl-C, with a request in flight and during a pause between polls.
func BenchmarkWaitInterruptLatency(b *testing.B) {
	for _, c := range []struct {
		name  string
		stuck bool
	}{{"request in flight", true}, {"pause between polls", false}} {
		b.Run(c.name, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				r := newWaitRig(b)
				id := r.runningTask(b, c.stuck)
				ctx, cancel := context.WithCancel(context.Background())
				done := r.startWait(ctx, id)
				r.blocked(b)
				cancelled := time.Now()
				cancel()
				total += awaitResult(b, done).returned.Sub(cancelled)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/cancel")
		})
	}
}
