package koophone

import "context"

// Logger receives the client's request log. Fields never contain
// credentials: the client logs method, path, status, request id, attempt,
// duration and error codes, never headers.
type Logger interface {
	Debug(ctx context.Context, msg string, fields map[string]any)
	Warn(ctx context.Context, msg string, fields map[string]any)
}

type nopLogger struct{}

func (nopLogger) Debug(context.Context, string, map[string]any) {}
func (nopLogger) Warn(context.Context, string, map[string]any)  {}
