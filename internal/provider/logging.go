package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// tflogLogger sends the API client's request log to Terraform's log, where
// TF_LOG=DEBUG shows it. The client never passes headers or credentials.
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
