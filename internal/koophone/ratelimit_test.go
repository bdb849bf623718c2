package koophone

import (
	"context"
	"errors"
	"fmt"
	"github.com/jonboulle/clockwork"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clockctx"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

// countingLimiter records how the client uses its limiter.
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

func TestIsThrottled(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&APIError{HTTPStatus: 429}, true},
		{&APIError{HTTPStatus: 200, Code: CodeGatewayThrottled}, true},
		{fmt.Errorf("wrapped: %w", &APIError{HTTPStatus: 400, Code: "APIG.0308"}), true},
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
	fake := clockctx.NewAutoClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start := fake.Now()
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
	c, logger := newTestClient(t, ts.URL, func(c *Config) { c.Clock = fake; c.Limiter = lim })
	if _, err := c.GetTask(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	if lim.waits != 4 || ts.count() != 4 {
		t.Errorf("%d waits for %d attempts, want one each", lim.waits, ts.count())
	}
	if fmt.Sprint(lim.throttles) != "[3s 2s]" {
		t.Errorf("throttles reported = %v, want [3s 2s] (Retry-After, then the 2 s minimum)", lim.throttles)
	}
	// Only the 503 (the third attempt) was backed off by the caller itself:
	// 3/4 of 2 s with the pinned jitter. The 429s were left to the limiter.
	if waited := fake.Now().Sub(start); waited != 1500*time.Millisecond {
		t.Errorf("the caller slept %v on its own", waited)
	}
	if log := logger.all(); !strings.Contains(log, "the provider's requests slow down") || !strings.Contains(log, "retry_after:3") {
		t.Errorf("throttling not logged:\n%s", log)
	}
}

func TestLimiterErrorStopsTheRequest(t *testing.T) {
	ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
	lim := &countingLimiter{err: context.Canceled}
	c, _ := newTestClient(t, ts.URL, func(c *Config) { c.Limiter = lim })
	if _, err := c.GetTask(context.Background(), "t"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if ts.count() != 0 {
		t.Errorf("%d requests sent without the limiter's leave", ts.count())
	}
}

// With the real limiter, a 429 seen by one caller holds back another
// caller's request too, then both go at the reduced pace.
func TestThrottlingSlowsEveryCallerOfASharedLimiter(t *testing.T) {
	fake := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start := fake.Now()
	arrived := make(chan time.Duration, 3)
	var mu sync.Mutex
	first := true
	ts := newTestServer(t, jsonAnswer(200, okTwoJobs))
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		throttle := first
		first = false
		mu.Unlock()
		if throttle {
			jsonAnswer(429, `{"error_code":"APIGW.0308"}`)(w, r)
		} else {
			jsonAnswer(200, okTwoJobs)(w, r)
		}
		arrived <- fake.Since(start)
	})
	lim, err := ratelimit.New(0, fake)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestClient(t, ts.URL, func(c *Config) { c.Clock = fake; c.Limiter = lim })
	ctx := context.Background()

	errc := make(chan error, 2)
	go func() { _, err := c.GetTask(ctx, "a"); errc <- err }()
	// Caller a got its 429 and waits out the pause on the clock; so does
	// caller b, which had not sent anything yet.
	got := []time.Duration{<-arrived}
	if err := fake.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	go func() { _, err := c.GetTask(ctx, "b"); errc <- err }()
	if err := fake.BlockUntilContext(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The pause is the 2 s minimum for a 429 without Retry-After. Then one
	// request goes, and the other waits for its turn at half the refused
	// pace of one request per second: 2 s later.
	fake.Advance(2 * time.Second)
	got = append(got, <-arrived)
	if err := fake.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(2 * time.Second)
	got = append(got, <-arrived)
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(got) != "[0s 2s 4s]" {
		t.Errorf("requests arrived at %v, want [0s 2s 4s]", got)
	}
}

// A 429 slows the shared limiter down even when the request is not
// retried (max_retries = 0): other requests, and the next poll, slow down.
func TestThrottlingIsReportedWithoutRetries(t *testing.T) {
	ts := newTestServer(t, jsonAnswer(429, `{"error_code":"APIGW.0308"}`))
	lim := &countingLimiter{}
	c, _ := newTestClient(t, ts.URL, func(c *Config) { c.MaxRetries = 0; c.Limiter = lim })
	if _, err := c.GetTask(context.Background(), "t"); !IsThrottled(err) {
		t.Fatalf("err = %v", err)
	}
	if len(lim.throttles) != 1 || ts.count() != 1 {
		t.Errorf("%d throttles reported for %d requests", len(lim.throttles), ts.count())
	}
}
