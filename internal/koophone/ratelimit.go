package koophone

import (
	"context"
	"errors"
	"time"
)

// RateLimiter paces a Client's requests. Every attempt, retries included,
// waits for it; a throttling answer (HTTP 429, APIGW.0308) is reported to
// it, so that every caller sharing the limiter slows down together, and
// the retry then waits for the limiter instead of sleeping on its own.
// internal/ratelimit provides the provider's implementation.
type RateLimiter interface {
	// Wait blocks until a request may be sent, or returns ctx.Err().
	Wait(ctx context.Context) error
	// Throttled reports a throttling answer: no request should be sent for
	// pause, and the pace should slow down.
	Throttled(pause time.Duration)
}

// IsThrottled reports whether err is the API's rate-limit answer: HTTP 429,
// or the gateway's throttling code under any status.
func IsThrottled(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Throttled()
}

func retryAfterOf(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.RetryAfter
	}
	return ""
}
