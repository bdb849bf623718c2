package koophone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

// countingLimiter records how the client uses its limiter. It never makes
// anyone wait.
type countingLimiter struct {
	mu        sync.Mutex
	waits     int
	throttles []time.Duration
	err       error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	if l.err != nil {
		return l.err
	}
	return ctx.Err()
}

func (l *countingLimiter) Throttled(pause time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.throttles = append(l.throttles, pause)
}

func (l *countingLimiter) counts() (waits int, throttles []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits, append([]time.Duration(nil), l.throttles...)
}

func TestIsThrottled(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&APIError{HTTPStatus: 429}, true},
		{&APIError{HTTPStatus: 200, Code: CodeGatewayThrottled}, true},
		{fmt.Errorf("wrapped: %w", &APIError{HTTPStatus: 400, Code: "APIG.0308"}), true},
		{&RetryError{Attempts: 3, Last: &APIError{HTTPStatus: 429}}, true},
		{&APIError{HTTPStatus: 503, Code: CodeInternalError}, false},
		{&TransportError{Err: errors.New("reset")}, false},
		{nil, false},
	} {
		if got := IsThrottled(c.err); got != c.want {
			t.Errorf("IsThrottled(%v) = %v", c.err, got)
		}
	}
}

// Every attempt, retries included, waits for the limiter; a 429 is handed
// to the limiter instead of being slept off by the caller alone.
func TestLimiterPacesEveryAttemptAndHearsOfThrottling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ts := newTestServer(t,
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3")
				jsonAnswer(429, `{"error_code":"APIGW.0308","error_msg":"over ratelimit"}`)(w, r)
			},
			jsonAnswer(429, `{"error_code":"APIGW.0308"}`),
			jsonAnswer(503, `{"error_code":"KOOPHONE.API.9999"}`),
			jsonAnswer(200, okTwoJobs),
		)
		lim := &countingLimiter{}
		c, logger := ts.client(t, func(c *Config) { c.Limiter = lim })
		if _, err := c.GetTask(context.Background(), "t"); err != nil {
			t.Fatal(err)
		}
		waits, throttles := lim.counts()
		if waits != 4 || ts.count() != 4 {
			t.Errorf("%d waits for %d attempts, want one each", waits, ts.count())
		}
		if fmt.Sprint(throttles) != "[3s 2s]" {
			t.Errorf("throttles reported = %v, want [3s 2s] (Retry-After, then the 2 s minimum)", throttles)
		}
		// Only the 503 (the third attempt) was backed off by the caller itself:
		// 3/4 of 2 s with the pinned jitter. The 429s were left to the limiter.
		if waited := time.Since(start); waited != 1500*time.Millisecond {
			t.Errorf("the caller slept %v on its own", waited)
		}
		if log := logger.all(); !strings.Contains(log, "every request of the provider slows down") || !strings.Contains(log, "pause_ms:3000") {
			t.Errorf("throttling not logged:\n%s", log)
		}
	})
}

func TestLimiterErrorStopsTheRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
		lim := &countingLimiter{err: context.Canceled}
		c, _ := ts.client(t, func(c *Config) { c.Limiter = lim })
		if _, err := c.GetTask(context.Background(), "t"); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
		if ts.count() != 0 {
			t.Errorf("%d requests sent without the limiter's leave", ts.count())
		}
	})
}

// With the real limiter, a 429 seen by one caller holds back another
// caller's request too, then both go at the reduced pace.
func TestThrottlingSlowsEveryCallerOfASharedLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		arrived := make(chan time.Duration, 3)
		stamp := func(h http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				h(w, r)
				arrived <- time.Since(start)
			}
		}
		ts := newTestServer(t, stamp(jsonAnswer(429, `{"error_code":"APIGW.0308"}`)), stamp(jsonAnswer(200, okTwoJobs)))
		lim, err := ratelimit.New(0)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := ts.client(t, func(c *Config) { c.Limiter = lim })
		ctx := context.Background()

		errc := make(chan error, 2)
		go func() { _, err := c.GetTask(ctx, "a"); errc <- err }()
		got := []time.Duration{<-arrived}
		// Caller a got its 429 and waits out the pause in the limiter; then
		// caller b comes, before sending anything.
		synctest.Wait()
		go func() { _, err := c.GetTask(ctx, "b"); errc <- err }()
		// The pause is the 2 s minimum for a 429 without Retry-After. Then one
		// request goes, and the other waits for its turn at half the refused
		// pace of one request per second: 2 s later.
		got = append(got, <-arrived, <-arrived)
		for range 2 {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(got) != "[0s 2s 4s]" {
			t.Errorf("requests arrived at %v, want [0s 2s 4s]", got)
		}
		if s := lim.Stats(); s.Throttles != 1 || s.SlowDowns != 1 {
			t.Errorf("limiter stats %+v, want one throttle", s)
		}
	})
}

// A 429 slows the shared limiter down even when the request is not
// retried (max_retries = 0): other requests, and the next poll, slow down.
func TestThrottlingIsReportedWithoutRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, jsonAnswer(429, `{"error_code":"APIGW.0308"}`))
		lim := &countingLimiter{}
		c, _ := ts.client(t, func(c *Config) { c.MaxRetries = 0; c.Limiter = lim })
		if _, err := c.GetTask(context.Background(), "t"); !IsThrottled(err) {
			t.Fatalf("err = %v", err)
		}
		if _, throttles := lim.counts(); len(throttles) != 1 || ts.count() != 1 {
			t.Errorf("%d throttles reported for %d requests", len(throttles), ts.count())
		}
	})
}
