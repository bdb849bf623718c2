package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/clockctx"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// Both task data sources read and wait through internal/taskwait: one
// engine, one schedule, one set of rules for errors. This file holds what
// they share on the provider side: their wait arguments, the read with its
// one deadline, and the progress logging.

// defaultReadTimeout is timeouts.read when it is not set.
const defaultReadTimeout = 20 * time.Minute

// waitSettings are the effective wait arguments of a read, or of a
// resource's create or update (Timeout is then timeouts.create or .update).
type waitSettings struct {
	Wait             bool
	FailOnJobFailure bool
	PollInterval     time.Duration
	Timeout          time.Duration
}

// waitArguments are the wait arguments both task data sources take.
type waitArguments struct {
	WaitForCompletion types.Bool
	PollInterval      types.String
	FailOnJobFailure  types.Bool
	Timeouts          timeouts.Value
}

// readWaitArguments takes the wait arguments from a data source's
// configuration.
func readWaitArguments(attrs map[string]attr.Value) waitArguments {
	return waitArguments{
		WaitForCompletion: attrOf[types.Bool](attrs, "wait_for_completion"),
		PollInterval:      attrOf[types.String](attrs, "poll_interval"),
		FailOnJobFailure:  attrOf[types.Bool](attrs, "fail_on_job_failure"),
		Timeouts:          attrOf[timeouts.Value](attrs, "timeouts"),
	}
}

// setValues writes the wait arguments into a data source's state.
func (a waitArguments) setValues(state map[string]attr.Value) {
	state["wait_for_completion"] = a.WaitForCompletion
	state["poll_interval"] = a.PollInterval
	state["fail_on_job_failure"] = a.FailOnJobFailure
	state["timeouts"] = a.Timeouts
}

// resolveWaitSettings reads the wait arguments, applies their defaults, and
// writes the defaults back into the (computed) attributes so that state
// shows what was used.
func resolveWaitSettings(ctx context.Context, a *waitArguments) (waitSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := waitSettings{PollInterval: taskwait.DefaultPollInterval}
	readTimeout, d := a.Timeouts.Read(ctx, defaultReadTimeout)
	diags.Append(d...)
	if !d.HasError() && readTimeout <= 0 {
		diags.AddAttributeError(path.Root("timeouts").AtName("read"), "Invalid read timeout",
			fmt.Sprintf("timeouts.read is %s, but it must be positive, such as \"20m\".", readTimeout))
	}
	s.Timeout = readTimeout
	if a.PollInterval.IsNull() {
		a.PollInterval = types.StringValue(taskwait.DefaultPollInterval.String())
	} else if v, err := time.ParseDuration(a.PollInterval.ValueString()); err == nil {
		// Checked at plan time (durationAtLeast).
		s.PollInterval = v
	}
	s.Wait = a.WaitForCompletion.ValueBool()
	s.FailOnJobFailure = a.FailOnJobFailure.ValueBool()
	a.WaitForCompletion = types.BoolValue(s.Wait)
	a.FailOnJobFailure = types.BoolValue(s.FailOnJobFailure)
	return s, diags
}

// readTasks reads (and with s.Wait waits for) the tasks through the wait
// engine, within the read's one deadline, timeouts.read, and logs progress
// to Terraform's log.
func readTasks(ctx context.Context, data *providerData, ids []string, s waitSettings) []taskwait.Result {
	ctx, cancel := clockctx.WithTimeout(ctx, data.clock, s.Timeout)
	defer cancel()
	return taskwait.Read(ctx, data.client, ids, taskwait.Options{
		Clock:        data.clock,
		Wait:         s.Wait,
		PollInterval: s.PollInterval,
		Observer:     tflogObserver{many: len(ids) > 1},
	})
}

// tflogObserver logs a read's progress: each poll at DEBUG, each change of
// a task's job counts at INFO, and for a read of many tasks, each task that
// ends at INFO with how many have ended.
type tflogObserver struct {
	many bool
}

// TaskContext gives each task's goroutine of a read of many tasks a
// logging context of its own. It must be its own: tflog masks secrets by
// rewriting the context's field map in place, which goroutines sharing one
// context would do concurrently. A read of one task keeps its context,
// which saves the copy on every read of a plan of many data sources.
func (o tflogObserver) TaskContext(ctx context.Context, taskID string) context.Context {
	if !o.many {
		return ctx
	}
	return tflog.SetField(ctx, "task_id", taskID)
}

func (o tflogObserver) Polled(ctx context.Context, p taskwait.Poll) {
	fields := summaryFields(p.TaskID, p.Summary)
	fields["poll"] = p.N
	fields["request_id"] = p.Task.RequestID
	tflog.Debug(ctx, "Polled KooPhone task", fields)
	if p.Changed {
		tflog.Info(ctx, "KooPhone task progress", summaryFields(p.TaskID, p.Summary))
	}
}

func (o tflogObserver) Retrying(ctx context.Context, taskID string, err error, next time.Duration) {
	msg := "KooPhone task poll failed transiently; polling goes on"
	if errors.Is(err, koophone.ErrTaskNotFound) {
		msg = "KooPhone task not visible yet; polling goes on"
	}
	tflog.Warn(ctx, msg, map[string]any{"task_id": taskID, "error": err.Error(), "next_poll_in_ms": next.Milliseconds()})
}

func (o tflogObserver) Finished(ctx context.Context, r taskwait.Result, ended, total int) {
	if !o.many {
		return
	}
	fields := map[string]any{"task_id": r.TaskID, "polls": r.Polls, "tasks_ended": ended, "tasks": total}
	if r.Observed {
		fields["state"] = string(r.Task.Summary().State)
	}
	if r.Err != nil {
		fields["error"] = r.Err.Error()
	}
	tflog.Info(ctx, "KooPhone task read ended", fields)
}

func summaryFields(taskID string, s koophone.Summary) map[string]any {
	return map[string]any{
		"task_id":    taskID,
		"state":      string(s.State),
		"jobs":       s.Jobs,
		"pending":    s.Pending,
		"running":    s.Running,
		"successful": s.Successful,
		"failed":     s.Failed,
		"unknown":    s.Unknown,
	}
}

// waitAttributes are the schema of the wait arguments, described for one
// task (many = false) or for many.
func waitAttributes(ctx context.Context, many bool) map[string]schema.Attribute {
	wait := "When `true`, the read polls the task until every job has finished (or `timeouts.read` passes), so " +
		"everything that depends on this data source waits for the task. Defaults to `false`: read the task once, as it is."
	interval := fmt.Sprintf("The longest pause between two polls while waiting, as a Go duration such as `\"10s\"`. "+
		"Polling starts at once, then backs off from %s, doubling up to this value, so a task that finishes early is seen early. "+
		"A finished task is seen within this interval, plus any time the poll waits behind the provider's `rate_limit`. "+
		"At least `%s`. Defaults to `%s`.", taskwait.FirstPause, taskwait.MinPollInterval, taskwait.DefaultPollInterval)
	fail := "When `true` and the task has finished with at least one failed job, the read fails with an error " +
		"that lists every failed job (`job_id`, `error_code`, `error_msg`, `execute_msg`). Defaults to `false`."
	if many {
		wait = "When `true`, the read polls every task until all of its jobs have finished (or `timeouts.read` " +
			"passes), so everything that depends on this data source waits for all the tasks. Tasks are polled concurrently, " +
			"and a task that has finished is not polled again. Defaults to `false`: read each task once, as it is."
		interval = fmt.Sprintf("The longest pause between two polls of one task while waiting, as a Go duration "+
			"such as `\"10s\"`. Each task is polled at once, then after pauses from %s doubling up to this value. "+
			"A finished task is seen within this interval, plus any time its poll waits for one of the provider's %d "+
			"connections or behind its `rate_limit`. At least `%s`. Defaults to `%s`.",
			taskwait.FirstPause, koophone.DefaultMaxConcurrentRequests, taskwait.MinPollInterval, taskwait.DefaultPollInterval)
		fail = "When `true` and any task has finished with at least one failed job, the read fails with an " +
			"error that lists the failed jobs, task by task. Defaults to `false`."
	}
	return map[string]schema.Attribute{
		"wait_for_completion": schema.BoolAttribute{MarkdownDescription: wait, Optional: true, Computed: true},
		"poll_interval": schema.StringAttribute{
			MarkdownDescription: interval,
			Optional:            true,
			Computed:            true,
			Validators:          []validator.String{durationAtLeast{min: taskwait.MinPollInterval}},
		},
		"fail_on_job_failure": schema.BoolAttribute{MarkdownDescription: fail, Optional: true, Computed: true},
		"timeouts":            timeouts.Attributes(ctx),
	}
}
