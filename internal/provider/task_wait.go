package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// Both task data sources read and wait through internal/taskwait: one
// poller, one schedule, one set of rules for errors. This file holds what
// they share on the provider side: their wait arguments and the progress
// logging.

// notFoundGrace is how long a wait tolerates "task not found" after its
// first poll: a task is not always visible the moment it is submitted.
const notFoundGrace = taskwait.NotFoundGrace

// waitSettings are the effective wait arguments of a read.
type waitSettings struct {
	Wait             bool
	FailOnJobFailure bool
	PollInterval     time.Duration
	Timeout          time.Duration
}

// waitArguments are the wait arguments both task data sources take; their
// models embed it.
type waitArguments struct {
	WaitForCompletion types.Bool           `tfsdk:"wait_for_completion"`
	PollInterval      timetypes.GoDuration `tfsdk:"poll_interval"`
	FailOnJobFailure  types.Bool           `tfsdk:"fail_on_job_failure"`
	Timeouts          timeouts.Value       `tfsdk:"timeouts"`
}

// resolveWaitSettings reads the wait arguments, applies their defaults, and
// writes the defaults back into the (computed) attributes so that state
// shows what was used.
func resolveWaitSettings(ctx context.Context, a *waitArguments) (waitSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := waitSettings{PollInterval: defaultPollInterval}
	readTimeout, d := a.Timeouts.Read(ctx, defaultReadTimeout)
	diags.Append(d...)
	if !d.HasError() && readTimeout <= 0 {
		diags.AddAttributeError(path.Root("timeouts").AtName("read"), "Invalid read timeout",
			fmt.Sprintf("timeouts.read is %s, but it must be positive, such as \"20m\".", readTimeout))
	}
	s.Timeout = readTimeout
	if !a.PollInterval.IsNull() {
		v, d := a.PollInterval.ValueGoDuration()
		diags.Append(d...)
		s.PollInterval = v
	} else {
		a.PollInterval = timetypes.NewGoDurationValueFromStringMust(defaultPollInterval.String())
	}
	s.Wait = a.WaitForCompletion.ValueBool()
	s.FailOnJobFailure = a.FailOnJobFailure.ValueBool()
	a.WaitForCompletion = types.BoolValue(s.Wait)
	a.FailOnJobFailure = types.BoolValue(s.FailOnJobFailure)
	return s, diags
}

// readTasks reads (and with s.Wait waits for) the tasks through the shared
// poller, logging progress to Terraform's log.
func readTasks(ctx context.Context, data *providerData, ids []string, s waitSettings) []taskwait.Result {
	return taskwait.Read(ctx, data.client, ids, taskwait.Options{
		Clock:        data.clock,
		Wait:         s.Wait,
		PollInterval: s.PollInterval,
		Timeout:      s.Timeout,
		Observer:     tflogObserver{many: len(ids) > 1},
	})
}

// tflogObserver logs a read's progress: each poll at DEBUG, each change of
// a task's job counts at INFO, and for a read of many tasks, each task that
// ends at INFO with how many have ended.
type tflogObserver struct {
	many bool
}

// TaskContext gives each task's goroutine a logging context of its own,
// with the task_id field. It must be its own: tflog masks secrets by
// rewriting the context's field map in place, which goroutines sharing one
// context would do concurrently.
func (o tflogObserver) TaskContext(ctx context.Context, taskID string) context.Context {
	return tflog.SetField(ctx, "task_id", taskID)
}

func (o tflogObserver) Polled(ctx context.Context, p taskwait.Poll) {
	fields := summaryFields(p.Summary)
	fields["poll"] = p.N
	fields["request_id"] = p.Task.RequestID
	tflog.Debug(ctx, "Polled KooPhone task", fields)
	if p.Changed {
		tflog.Info(ctx, "KooPhone task progress", summaryFields(p.Summary))
	}
}

func (o tflogObserver) Retrying(ctx context.Context, _ string, err error, next time.Duration) {
	msg := "KooPhone task poll failed transiently; polling goes on"
	if errors.Is(err, koophone.ErrTaskNotFound) {
		msg = "KooPhone task not visible yet; polling goes on"
	}
	tflog.Warn(ctx, msg, map[string]any{"error": err.Error(), "next_poll_in_ms": next.Milliseconds()})
}

func (o tflogObserver) Finished(ctx context.Context, r taskwait.Result, ended, total int) {
	if !o.many {
		return
	}
	fields := map[string]any{"polls": r.Polls, "tasks_ended": ended, "tasks": total}
	if r.Observed {
		fields["state"] = string(r.Task.Summary().State)
	}
	if r.Err != nil {
		fields["error"] = r.Err.Error()
	}
	tflog.Info(ctx, "KooPhone task read ended", fields)
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
