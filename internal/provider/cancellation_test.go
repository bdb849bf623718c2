package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// These tests prove that a wait ends as soon as Terraform cancels it (Ctrl-C)
// or its deadline passes, whatever it is doing at that moment, and says
// which. They run in a synctest bubble: the provider's client and the
// emulator (served over in-memory connections) share its fake clock, which
// moves only when everything in the bubble is blocked, so nothing depends
// on how fast the machine is. A wait that returns while the clock has not
// moved was interrupted: it did not sleep.

// memRig is an emulator served in memory and a client of it, for tests in a
// synctest bubble; its cleanup (the client's connections closed, then the
// server) runs inside the bubble.
type memRig struct {
	emu  *emulator.Emulator
	data *providerData
}

func newMemRig(t *testing.T) *memRig {
	t.Helper()
	emu, srv := serveInMemory(t)
	client, err := koophone.New(koophone.Config{
		Endpoint:    emulator.InMemoryURL,
		Credentials: koophone.TokenCredentials{Token: accToken},
		MaxRetries:  4,
		// Longer than any wait here, so that a held request stays in
		// flight until the test ends it.
		RequestTimeout: time.Hour,
		Transport:      koophone.TransportOptions{DialContext: srv.DialContext},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	return &memRig{emu: emu, data: &providerData{client: client, endpoint: client.Endpoint()}}
}

// runningTask adds a task whose job never finishes; with stuck, its first
// read hangs: the emulator holds it for an hour.
func (r *memRig) runningTask(t *testing.T, stuck bool) string {
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

var readWait = waitSettings{Wait: true, PollInterval: 10 * time.Second, Timeout: 20 * time.Minute, TimeoutName: "timeouts.read"}

func stopOf(t *testing.T, err error) *taskwait.StopError {
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
			synctest.Test(t, func(t *testing.T) {
				r := newMemRig(t)
				id := r.runningTask(t, c.stuck)
				if c.fault != nil {
					f := *c.fault
					f.Match = id
					if err := r.emu.AddFault(f); err != nil {
						t.Fatal(err)
					}
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan taskwait.Result, 1)
				start := time.Now()
				go func() { done <- readTasks(ctx, r.data.client, []taskwait.Target{{TaskID: id}}, readWait)[0] }()
				synctest.Wait() // the wait is blocked: on its request, or in a pause
				cancel()
				res := <-done
				stop := stopOf(t, res.Err)
				if stop.TimedOut() || !errors.Is(stop, context.Canceled) || stop.Polls != 1 {
					t.Errorf("stop = %+v, want cancelled after one poll", stop)
				}
				if (c.fault != nil) != (stop.LastErr != nil) {
					t.Errorf("last error %v; want the failed poll's, and only then", stop.LastErr)
				}
				if moved := time.Since(start); moved != 0 {
					t.Errorf("the clock moved by %v: the wait slept instead of being interrupted", moved)
				}
				_, detail := describeReadFailure(res, readWait, r.data)
				if !strings.Contains(detail, "the run was interrupted") {
					t.Errorf("the diagnostic does not say the run was interrupted:\n%s", detail)
				}
			})
		})
	}
}

// The read's deadline (timeouts.read) interrupts a request in flight and
// reports a timeout, not a network failure, at the deadline itself, naming
// the timeout and its value.
func TestWaitDeadlineWhileRequestInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newMemRig(t)
		id := r.runningTask(t, true)
		start := time.Now()
		res := readTasks(t.Context(), r.data.client, []taskwait.Target{{TaskID: id}}, readWait)[0]
		if stop := stopOf(t, res.Err); !stop.TimedOut() || time.Since(start) != 20*time.Minute {
			t.Errorf("stop = %+v after %v, want a timeout at 20m", stop, time.Since(start))
		}
		if res.Observed {
			t.Error("a task that was never read is reported as observed")
		}
		summary, detail := describeReadFailure(res, readWait, r.data)
		if summary != "Timed out waiting for KooPhone task" || !strings.Contains(detail, "within timeouts.read (20m0s)") {
			t.Errorf("diagnostic = %q:\n%s", summary, detail)
		}
	})
}

// BenchmarkWaitInterruptLatency measures how long a wait takes to return
// after Ctrl-C, with a request in flight and during a pause between polls,
// in real time (a benchmark cannot run in a synctest bubble).
func BenchmarkWaitInterruptLatency(b *testing.B) {
	for _, c := range []struct {
		name  string
		stuck bool
	}{{"request in flight", true}, {"pause between polls", false}} {
		b.Run(c.name, func(b *testing.B) {
			emu := emulator.New(emulator.Options{Token: accToken})
			srv := emulator.ServeInMemory(emu)
			defer srv.Close()
			client, err := koophone.New(koophone.Config{
				Endpoint: emulator.InMemoryURL, Credentials: koophone.TokenCredentials{Token: accToken},
				Transport: koophone.TransportOptions{DialContext: srv.DialContext},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer client.CloseIdleConnections()
			var total time.Duration
			for range b.N {
				id, err := emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusRunning}}})
				if err != nil {
					b.Fatal(err)
				}
				if c.stuck {
					if err := emu.AddFault(emulator.Fault{Match: id, Kind: emulator.FaultDelay, Delay: emulator.Duration(time.Hour)}); err != nil {
						b.Fatal(err)
					}
				}
				before := len(emu.Requests())
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan time.Time, 1)
				go func() {
					readTasks(ctx, client, []taskwait.Target{{TaskID: id}}, readWait)
					done <- time.Now()
				}()
				for len(emu.Requests()) == before && emu.Reads(id) == 0 {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(5 * time.Millisecond) // into the request or the pause
				cancelled := time.Now()
				cancel()
				total += (<-done).Sub(cancelled)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/cancel")
		})
	}
}
