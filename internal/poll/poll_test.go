package poll

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	errTransient = errors.New("503")
	errNotFound  = errors.New("not found")
	errFatal     = errors.New("401")
)

func baseOptions(c clock.Clock) Options {
	return Options{
		Clock:       c,
		MaxInterval: 10 * time.Second,
		Jitter:      -1, // exact pauses, so schedules can be asserted
		IsNotFound:  func(err error) bool { return errors.Is(err, errNotFound) },
		IsTransient: func(err error) bool { return errors.Is(err, errTransient) },
	}
}

// finishesAt is a check that reports done once the clock reaches end, and
// records when it was called.
func finishesAt(c clock.Clock, end time.Time, calls *[]time.Duration) Check[int] {
	return func(context.Context) (int, bool, error) {
		now := c.Now()
		*calls = append(*calls, now.Sub(t0))
		return len(*calls), !now.Before(end), nil
	}
}

func TestScheduleStartsAtOnceThenBacksOffToMax(t *testing.T) {
	c := clock.NewAutoFake(t0)
	var calls []time.Duration
	n, err := Until(context.Background(), baseOptions(c), finishesAt(c, t0.Add(40*time.Second), &calls))
	if err != nil {
		t.Fatal(err)
	}
	want := "[0s 1s 3s 7s 15s 25s 35s 45s]"
	if fmt.Sprint(calls) != want {
		t.Errorf("polls at %v, want %s", calls, want)
	}
	if n != len(calls) {
		t.Errorf("returned value %d, want the last observed %d", n, len(calls))
	}
}

func TestFirstIntervalIsCappedByMaxInterval(t *testing.T) {
	c := clock.NewAutoFake(t0)
	opts := baseOptions(c)
	opts.MaxInterval = 300 * time.Millisecond
	var calls []time.Duration
	if _, err := Until(context.Background(), opts, finishesAt(c, t0.Add(time.Second), &calls)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(calls) != "[0s 300ms 600ms 900ms 1.2s]" {
		t.Errorf("polls at %v", calls)
	}
}

func TestDetectionLagNeverExceedsMaxInterval(t *testing.T) {
	for _, maxInterval := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, time.Minute} {
		for _, finish := range []time.Duration{0, 500 * time.Millisecond, 2 * time.Second, 61 * time.Second, 20 * time.Minute} {
			c := clock.NewAutoFake(t0)
			opts := baseOptions(c)
			opts.MaxInterval = maxInterval
			opts.Jitter = 0.3
			var calls []time.Duration
			if _, err := Until(context.Background(), opts, finishesAt(c, t0.Add(finish), &calls)); err != nil {
				t.Fatal(err)
			}
			lag := calls[len(calls)-1] - finish
			if lag > maxInterval || lag < 0 {
				t.Errorf("max %v, finish %v: detected after a lag of %v", maxInterval, finish, lag)
			}
		}
	}
}

func TestJitterOnlyShortensPauses(t *testing.T) {
	c := clock.NewAutoFake(t0)
	opts := baseOptions(c)
	opts.Jitter = 0.1
	opts.Random = func() float64 { return 0.999 }
	var calls []time.Duration
	if _, err := Until(context.Background(), opts, finishesAt(c, t0.Add(30*time.Second), &calls)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(calls); i++ {
		gap := calls[i] - calls[i-1]
		if gap > opts.MaxInterval || gap < time.Duration(0.9*float64(time.Second))-time.Millisecond {
			t.Errorf("gap %d = %v", i, gap)
		}
	}
}

func TestTimeoutReturnsLastValue(t *testing.T) {
	c := clock.NewAutoFake(t0)
	opts := baseOptions(c)
	opts.Timeout = time.Minute
	var calls []time.Duration
	n, err := Until(context.Background(), opts, finishesAt(c, t0.Add(time.Hour), &calls))
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TimeoutError", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("a TimeoutError should match context.DeadlineExceeded")
	}
	if te.Elapsed != time.Minute || !te.Observed || te.Checks != len(calls) || n != len(calls) {
		t.Errorf("timeout = %+v, value %d, calls %v", te, n, calls)
	}
	if last := calls[len(calls)-1]; last > time.Minute {
		t.Errorf("polled after the deadline, at %v", last)
	}
}

func TestContextDeadlineIsATimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	opts := baseOptions(clock.Real())
	opts.MaxInterval = time.Hour
	_, err := Until(ctx, opts, func(context.Context) (int, bool, error) { return 1, false, nil })
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TimeoutError", err)
	}
}

func TestCancellationEndsAPause(t *testing.T) {
	c := clock.NewFake(t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Until(ctx, baseOptions(c), func(context.Context) (int, bool, error) { return 1, false, nil })
		done <- err
	}()
	c.BlockUntilWaiters(1) // the poller is in its first pause
	cancel()
	err := <-done
	var ce *CanceledError
	if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want *CanceledError wrapping context.Canceled", err)
	}
	if ce.Checks != 1 {
		t.Errorf("checks = %d", ce.Checks)
	}
}

func TestCancellationDuringCheck(t *testing.T) {
	c := clock.NewAutoFake(t0)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Until(ctx, baseOptions(c), func(ctx context.Context) (int, bool, error) {
		cancel()
		return 0, false, ctx.Err()
	})
	var ce *CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
}

func TestTransientErrorsKeepPolling(t *testing.T) {
	c := clock.NewAutoFake(t0)
	opts := baseOptions(c)
	var retried []error
	opts.OnRetry = func(err error, _ time.Duration) { retried = append(retried, err) }
	calls := 0
	n, err := Until(context.Background(), opts, func(context.Context) (int, bool, error) {
		calls++
		if calls <= 3 {
			return 0, false, fmt.Errorf("wrapped: %w", errTransient)
		}
		return calls, true, nil
	})
	if err != nil || n != 4 || len(retried) != 3 {
		t.Fatalf("n=%d err=%v retried=%v", n, err, retried)
	}
}

func TestFatalErrorEndsAtOnce(t *testing.T) {
	c := clock.NewAutoFake(t0)
	calls := 0
	_, err := Until(context.Background(), baseOptions(c), func(context.Context) (int, bool, error) {
		calls++
		if calls == 2 {
			return 0, false, errFatal
		}
		return calls, false, nil
	})
	if !errors.Is(err, errFatal) || calls != 2 {
		t.Fatalf("err=%v calls=%d", err, calls)
	}
}

func TestNotFoundToleratedForGraceOnly(t *testing.T) {
	t.Run("appears within grace", func(t *testing.T) {
		c := clock.NewAutoFake(t0)
		opts := baseOptions(c)
		opts.NotFoundGrace = 30 * time.Second
		n, err := Until(context.Background(), opts, func(context.Context) (int, bool, error) {
			if c.Now().Sub(t0) < 20*time.Second {
				return 0, false, errNotFound
			}
			return 42, true, nil
		})
		if err != nil || n != 42 {
			t.Fatalf("n=%d err=%v", n, err)
		}
	})
	t.Run("never appears", func(t *testing.T) {
		c := clock.NewAutoFake(t0)
		opts := baseOptions(c)
		opts.NotFoundGrace = 30 * time.Second
		var at time.Duration
		_, err := Until(context.Background(), opts, func(context.Context) (int, bool, error) {
			at = c.Now().Sub(t0)
			return 0, false, errNotFound
		})
		if !errors.Is(err, errNotFound) {
			t.Fatalf("err = %v", err)
		}
		if at < 30*time.Second || at > 40*time.Second {
			t.Errorf("gave up at %v, want just after the 30 s grace", at)
		}
	})
	t.Run("no grace", func(t *testing.T) {
		c := clock.NewAutoFake(t0)
		calls := 0
		_, err := Until(context.Background(), baseOptions(c), func(context.Context) (int, bool, error) {
			calls++
			return 0, false, errNotFound
		})
		if !errors.Is(err, errNotFound) || calls != 1 {
			t.Fatalf("err=%v calls=%d", err, calls)
		}
	})
}

func TestTimeoutWhileOnlyErrors(t *testing.T) {
	c := clock.NewAutoFake(t0)
	opts := baseOptions(c)
	opts.Timeout = 20 * time.Second
	_, err := Until(context.Background(), opts, func(context.Context) (int, bool, error) { return 0, false, errTransient })
	var te *TimeoutError
	if !errors.As(err, &te) || te.Observed || !errors.Is(te.LastErr, errTransient) {
		t.Fatalf("err = %v (%+v)", err, te)
	}
}

// BenchmarkWaitVirtualTime measures the poller's own overhead for a
// twenty-minute wait, run in virtual time.
func BenchmarkWaitVirtualTime(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		c := clock.NewAutoFake(t0)
		opts := baseOptions(c)
		end := t0.Add(20 * time.Minute)
		polls := 0
		_, err := Until(context.Background(), opts, func(context.Context) (int, bool, error) {
			polls++
			return polls, !c.Now().Before(end), nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(polls), "polls/wait")
	}
}
