package provider

import (
	"context"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// tflogLogger sends the API client's request log to Terraform's log.
type tflogLogger struct{}

var (
	_ koophone.Logger        = tflogLogger{}
	_ koophone.ContextForker = tflogLogger{}
)

func (tflogLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	tflog.Debug(ctx, msg, fields)
}

func (tflogLogger) Warn(ctx context.Context, msg string, fields map[string]any) {
	tflog.Warn(ctx, msg, fields)
}

// Fork gives a goroutine a context whose fields are its own: SetField
// copies them, and tflog masks secrets by rewriting them in place.
func (tflogLogger) Fork(ctx context.Context, key string, value any) context.Context {
	return tflog.SetField(ctx, key, value)
}

// withSecretsMasked masks every secret in the context's log entries: a
// second line of defence behind the client's redaction of headers.
func withSecretsMasked(ctx context.Context, secrets []string) context.Context {
	var nonEmpty []string
	for _, s := range secrets {
		if s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	if len(nonEmpty) == 0 {
		return ctx
	}
	return tflog.MaskLogStrings(ctx, nonEmpty...)
}

// QuietUnseenLogs turns the plugin's own logging off when no TF_LOG*
// variable is set: the plugin SDK would still JSON-encode every entry, at
// TRACE, for Terraform to drop, which is a large share of the provider's
// CPU in a plan of many data sources. Any TF_LOG* variable leaves logging
// as the SDK configures it. Call it from main, before serving.
func QuietUnseenLogs() {
	quietUnseenLogs(os.Environ(), os.Setenv)
}

func quietUnseenLogs(environ []string, setenv func(key, value string) error) {
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_LOG") && value != "" {
			return
		}
	}
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER"} {
		_ = setenv(name, "OFF")
	}
}
