package provider

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/poll"
)

// notFoundGrace is how long a wait tolerates "task not found" after its
// first poll: a task is not always visible the moment it is submitted.
const notFoundGrace = 30 * time.Second

// firstPollPause is the pause after the first poll; pauses then double up to
// the data source's poll_interval.
const firstPollPause = time.Second

// waitForTask polls a task until no job is running, the timeout passes or
// ctx ends. It returns the last task observed in every case, with
// observed=false when no poll succeeded.
func waitForTask(ctx context.Context, data *providerData, taskID string, pollInterval, timeout time.Duration) (task koophone.Task, observed bool, err error) {
	var (
		polls       int
		lastSummary *koophone.Summary
	)
	check := func(ctx context.Context) (koophone.Task, bool, error) {
		polls++
		t, err := data.client.GetTask(ctx, taskID)
		if err != nil {
			return t, false, err
		}
		sum := t.Summary()
		fields := summaryFields(sum)
		fields["poll"] = polls
		fields["request_id"] = t.RequestID
		tflog.Debug(ctx, "Polled KooPhone task", fields)
		if lastSummary == nil || *lastSummary != sum {
			tflog.Info(ctx, "KooPhone task progress", summaryFields(sum))
			lastSummary = &sum
		}
		return t, sum.Done(), nil
	}
	opts := poll.Options{
		Clock:         data.clock,
		FirstInterval: firstPollPause,
		MaxInterval:   pollInterval,
		Timeout:       timeout,
		NotFoundGrace: notFoundGrace,
		IsNotFound:    func(err error) bool { return errors.Is(err, koophone.ErrTaskNotFound) },
		IsTransient:   koophone.IsTransient,
		OnRetry: func(err error, next time.Duration) {
			msg := "KooPhone task poll failed transiently; polling goes on"
			if errors.Is(err, koophone.ErrTaskNotFound) {
				msg = "KooPhone task not visible yet; polling goes on"
			}
			tflog.Warn(ctx, msg, map[string]any{"error": err.Error(), "next_poll_in_ms": next.Milliseconds()})
		},
	}
	task, err = poll.Until(ctx, opts, check)
	return task, lastSummary != nil, err
}

func summaryFields(s koophone.Summary) map[string]any {
	return map[string]any{
		"state":      string(s.State),
		"jobs":       s.Jobs,
		"running":    s.Running,
		"successful": s.Successful,
		"failed":     s.Failed,
		"unknown":    s.Unknown,
	}
}
