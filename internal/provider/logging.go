package provider

import (
	"context"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// tflogLogger sends the API client's request log to Terraform's log, where
// TF_LOG=DEBUG shows it. The client redacts the headers that carry
// credentials; withSecretsMasked masks them again, in case one reaches a
// message.
type tflogLogger struct{}

var _ koophone.Logger = tflogLogger{}

func (tflogLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	tflog.Debug(ctx, msg, fields)
}

func (tflogLogger) Warn(ctx context.Context, msg string, fields map[string]any) {
	tflog.Warn(ctx, msg, fields)
}

// withSecretsMasked returns a context whose log entries have every secret
// replaced, as a second line of defence should one ever reach a message.
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

// The plugin SDK logs at TRACE, JSON-encoded to standard error, unless the
// TF_LOG_SDK* and TF_LOG_PROVIDER* variables say otherwise, and leaves
// filtering to Terraform, which drops everything when TF_LOG (and
// TF_LOG_PROVIDER) are not set. That encoding costs a third of the
// provider's CPU in a plan of many data sources, for log lines nobody
// sees.
//
// quietLogVariables are set to OFF when no TF_LOG* variable is set at all.
var quietLogVariables = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER"}

// QuietUnseenLogs turns the plugin's own logging off when Terraform will
// not show it: when no variable whose name starts with TF_LOG is set. Any
// such variable (TF_LOG=DEBUG, TF_LOG_PROVIDER=TRACE, TF_LOG_PATH, ...)
// leaves logging exactly as the SDK configures it. Call it from main,
// before serving.
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
	for _, name := range quietLogVariables {
		_ = setenv(name, "OFF")
	}
}
