package koophone

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// errCreateTimeout is a deadline named by the caller, as the provider
// names a resource's timeouts.create.
var errCreateTimeout = errors.New("timeouts.create (3s) ran out")

// holdSubmit reads a submit and holds it for a minute before accepting it:
// longer than the caller waits.
func holdSubmit(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leaving
	select {
	case <-time.After(time.Minute):
		jsonAnswer(200, okSubmission)(w, r)
	case <-r.Context().Done():
	}
}

// withCreateTimeout returns a context that ends after 3 s with
// errCreateTimeout as its cause.
func withCreateTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeoutCause(context.Background(), 3*time.Second, errCreateTimeout)
	t.Cleanup(cancel)
	return ctx
}

// A deadline the caller named (context.WithTimeoutCause) is what the error
// reports, whether it ends the request in flight or while the client
// waits to send it again; only a submit stopped in flight has an unknown
// outcome. A cancellation (Ctrl-C) reports context.Canceled.
func TestStoppedByTheCallersContext(t *testing.T) {
	t.Run("submit held past the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, holdSubmit)
			c, _ := ts.client(t)
			start := time.Now()
			_, err := c.SubmitCommand(withCreateTimeout(t), "reboot", []string{"p1"})
			if took := time.Since(start); took != 3*time.Second {
				t.Errorf("the submit returned after %v, want at the 3s deadline", took)
			}
			var unknown *OutcomeUnknownError
			if !errors.As(err, &unknown) {
				t.Fatalf("err = %v (%T), want an *OutcomeUnknownError", err, err)
			}
			var stopped *StoppedError
			if !errors.As(unknown.Err, &stopped) {
				t.Fatalf("the unknown outcome wraps %#v, want a *StoppedError", unknown.Err)
			}
			if !stopped.InFlight || stopped.Cause != errCreateTimeout || stopped.RequestID == "" || unknown.RequestID != stopped.RequestID {
				t.Errorf("stopped %+v (outcome's request id %q), want in flight, caused by the named deadline, with the request id",
					stopped, unknown.RequestID)
			}
			msg := err.Error()
			if !strings.Contains(msg, "timeouts.create (3s) ran out") || !strings.Contains(msg, "in flight") {
				t.Errorf("error %q does not say the named deadline stopped the request in flight", msg)
			}
			if errors.Is(err, context.Canceled) {
				t.Errorf("a deadline reads as a cancellation: %v", err)
			}
			if !errors.Is(err, errCreateTimeout) {
				t.Errorf("errors.Is(err, the named deadline) is false: %v", err)
			}
			if ts.count() != 1 {
				t.Errorf("%d requests, want 1", ts.count())
			}
		})
	})
	t.Run("read held past the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, hang)
			c, _ := ts.client(t)
			_, err := c.GetTask(withCreateTimeout(t), "t")
			var stopped *StoppedError
			if !errors.As(err, &stopped) || !stopped.InFlight || stopped.Cause != errCreateTimeout {
				t.Fatalf("err = %#v, want an in-flight *StoppedError caused by the named deadline", err)
			}
			var unknown *OutcomeUnknownError
			if errors.As(err, &unknown) || errors.Is(err, context.Canceled) {
				t.Errorf("err = %v: a read has no unknown outcome, and a deadline is no cancellation", err)
			}
		})
	})
	t.Run("submit waiting to retry past the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// A throttling answer proves the API did nothing, so the submit
			// would be sent again after 10 s; the deadline comes first.
			ts := newTestServer(t, retryAfterAnswer(429, "10"), jsonAnswer(200, okSubmission))
			c, _ := ts.client(t)
			start := time.Now()
			_, err := c.SubmitCommand(withCreateTimeout(t), "reboot", []string{"p1"})
			if took := time.Since(start); took != 3*time.Second {
				t.Errorf("the submit returned after %v, want at the 3s deadline", took)
			}
			var unknown *OutcomeUnknownError
			if errors.As(err, &unknown) {
				t.Errorf("a submit stopped before it was sent again is an unknown outcome: %v", err)
			}
			var stopped *StoppedError
			if !errors.As(err, &stopped) {
				t.Fatalf("err = %v (%T), want a *StoppedError", err, err)
			}
			if stopped.InFlight || stopped.Cause != errCreateTimeout || !IsThrottled(stopped.Last) {
				t.Errorf("stopped %+v, want not in flight, caused by the named deadline, with the 429 as the last news", stopped)
			}
			msg := err.Error()
			if !strings.Contains(msg, "timeouts.create (3s) ran out") || strings.Contains(msg, "in flight") {
				t.Errorf("error %q, want the named deadline, before the request was sent", msg)
			}
			if errors.Is(err, context.Canceled) {
				t.Errorf("a deadline reads as a cancellation: %v", err)
			}
			if ts.count() != 1 {
				t.Errorf("%d requests, want 1", ts.count())
			}
		})
	})
	t.Run("read waiting to retry past the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "10")
				jsonAnswer(503, `{"error_code":"KOOPHONE.API.9999"}`)(w, r)
			})
			c, _ := ts.client(t)
			_, err := c.GetTask(withCreateTimeout(t), "t")
			var stopped *StoppedError
			if !errors.As(err, &stopped) || stopped.InFlight || stopped.Cause != errCreateTimeout || stopped.Last == nil {
				t.Fatalf("err = %#v, want a *StoppedError before sending, caused by the named deadline", err)
			}
			if ts.count() != 1 {
				t.Errorf("%d requests, want 1", ts.count())
			}
		})
	})
	t.Run("submit cancelled in flight", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, holdSubmit)
			c, _ := ts.client(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				synctest.Wait() // the submit is out, held by the server
				cancel()
			}()
			_, err := c.SubmitCommand(ctx, "reboot", []string{"p1"})
			var unknown *OutcomeUnknownError
			var stopped *StoppedError
			if !errors.As(err, &unknown) || !errors.As(err, &stopped) || !stopped.InFlight || stopped.Cause != context.Canceled {
				t.Fatalf("err = %#v, want an unknown outcome, stopped in flight by the cancellation", err)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("errors.Is(err, context.Canceled) is false: %v", err)
			}
		})
	})
	t.Run("submit cancelled while waiting to retry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, retryAfterAnswer(429, "10"), jsonAnswer(200, okSubmission))
			c, _ := ts.client(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				synctest.Wait() // the 429 came; the client waits to send again
				cancel()
			}()
			_, err := c.SubmitCommand(ctx, "reboot", []string{"p1"})
			var unknown *OutcomeUnknownError
			var stopped *StoppedError
			if errors.As(err, &unknown) || !errors.As(err, &stopped) || stopped.InFlight || stopped.Cause != context.Canceled {
				t.Fatalf("err = %#v, want a known outcome, stopped before sending by the cancellation", err)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("errors.Is(err, context.Canceled) is false: %v", err)
			}
			if ts.count() != 1 {
				t.Errorf("%d requests, want 1", ts.count())
			}
		})
	})
}
