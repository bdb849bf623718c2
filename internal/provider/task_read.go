package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// This file is what reading tasks needs, for data sources and resources
// alike: the task schema and models, the wait arguments, an operation's
// deadline and the progress log. Every wait goes through internal/taskwait.

const defaultReadTimeout = 20 * time.Minute

// timeoutExpired is the cause of an operation's context at its deadline, so
// that an error can name the timeout instead of saying "context canceled".
type timeoutExpired struct {
	name  string // such as "timeouts.create"
	limit time.Duration
}

func (e timeoutExpired) Error() string { return fmt.Sprintf("%s (%s) ran out", e.name, e.limit) }

func (e timeoutExpired) Unwrap() error { return context.DeadlineExceeded }

// withTimeout gives an operation its one deadline.
func withTimeout(ctx context.Context, name string, limit time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, limit, timeoutExpired{name: name, limit: limit})
}

// stopReason says why an operation stopped, from its context's cause.
func stopReason(cause error) string {
	var t timeoutExpired
	if errors.As(cause, &t) {
		return t.Error()
	}
	return "the run was interrupted (Ctrl-C, or Terraform stopped the provider)"
}

// taskIDValidators check a task id. It goes into the URL path, so nothing
// that could change the path (/, .., %, ?) gets through.
func taskIDValidators() []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, 64),
		stringvalidator.RegexMatches(regexp.MustCompile(`^[A-Za-z0-9_-]+$`),
			"must contain only letters, digits, '_' and '-' (it is sent in the URL path)"),
	}
}

type jobModel struct {
	JobID      string `tfsdk:"job_id"`
	Status     int64  `tfsdk:"status"`
	State      string `tfsdk:"state"`
	ErrorCode  string `tfsdk:"error_code"`
	ErrorMsg   string `tfsdk:"error_msg"`
	ExecuteMsg string `tfsdk:"execute_msg"`
}

// countsModel is a tally of jobs, or of phones for a resource.
type countsModel struct {
	JobCount        types.Int64 `tfsdk:"job_count"`
	PendingCount    types.Int64 `tfsdk:"pending_count"`
	RunningCount    types.Int64 `tfsdk:"running_count"`
	SuccessfulCount types.Int64 `tfsdk:"successful_count"`
	FailedCount     types.Int64 `tfsdk:"failed_count"`
	UnknownCount    types.Int64 `tfsdk:"unknown_count"`
}

func countsOf(t koophone.Tally) countsModel {
	n := func(v int) types.Int64 { return types.Int64Value(int64(v)) }
	return countsModel{n(t.Total), n(t.Pending), n(t.Running), n(t.Successful), n(t.Failed), n(t.Unknown)}
}

// jobDescriptions describe the attributes of one job, wherever one
// appears: an element of a data source's jobs, a phone of a resource's
// results.
var jobDescriptions = map[string]string{
	"job_id": "Job id. The API does not return the instance id: map job ids to phones with the `cmd_jobs` of the call that created the task.",
	"status": "Numeric status as returned by the API: `0` not started (app installs), `1` running, `2` succeeded, " +
		"`3` (app installs) or `-1` (commands) failed; other values are kept as returned.",
	"state":       "Meaning of `status`: `pending`, `running`, `successful`, `failed`, or `unknown` for any other value.",
	"error_code":  "The job's error code, such as `CPS0005`; empty when there is none.",
	"error_msg":   "The job's error description; empty when there is none.",
	"execute_msg": "The command's output (at most 1,024 bytes), for successful and failed jobs alike; empty when there is none.",
}

func jobAttributes() map[string]schema.Attribute {
	attrs := map[string]schema.Attribute{}
	for name, desc := range jobDescriptions {
		if name == "status" {
			attrs[name] = schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
		} else {
			attrs[name] = schema.StringAttribute{MarkdownDescription: desc, Computed: true}
		}
	}
	return attrs
}

// countAttributes are the job counts of a task, or, with of = "of all
// tasks ", of many.
func countAttributes(of string) map[string]schema.Attribute {
	attrs := make(map[string]schema.Attribute)
	for name, desc := range map[string]string{
		"job_count":        "Number of jobs " + of + "(one per cloud phone).",
		"pending_count":    "Number of jobs " + of + "that have not started yet (`status` 0, app installs). They count as not finished.",
		"running_count":    "Number of jobs " + of + "still running (`status` 1).",
		"successful_count": "Number of jobs " + of + "that succeeded (`status` 2).",
		"failed_count":     "Number of jobs " + of + "that failed (`status` 3 or -1).",
		"unknown_count":    "Number of jobs " + of + "whose `status` is none of 0, 1, 2, 3 and -1. They count as not finished.",
	} {
		attrs[name] = schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
	}
	return attrs
}

// taskAttributes describe a task's outcome.
func taskAttributes(jobsDescription string) map[string]schema.Attribute {
	attrs := countAttributes("")
	attrs["task_type"] = schema.StringAttribute{
		MarkdownDescription: "`app_install` for task ids starting with `ZGCA` or `FULFILL` (app installations), else `command` (async adb commands).",
		Computed:            true,
	}
	attrs["state"] = schema.StringAttribute{
		MarkdownDescription: "The task's aggregate state: `running` while any job is pending, running or in an unknown state, " +
			"or while the task has no job yet; `failed` once every job has finished and at least one failed; `successful` once every " +
			"job succeeded. Gate on this.",
		Computed: true,
	}
	attrs["jobs"] = schema.ListNestedAttribute{
		MarkdownDescription: jobsDescription,
		Computed:            true,
		NestedObject:        schema.NestedAttributeObject{Attributes: jobAttributes()},
	}
	return attrs
}

// jobsOf lists the jobs of task: every one, or only those that did not
// succeed.
func jobsOf(task koophone.Task, onlyUnsuccessful bool) []jobModel {
	jobs := make([]jobModel, 0, len(task.Jobs))
	for _, j := range task.Jobs {
		if s := j.State(); !onlyUnsuccessful || s != koophone.Successful {
			jobs = append(jobs, jobModel{j.JobID, j.Status, string(s), j.ErrorCode, j.ErrorMsg, j.ExecuteMsg})
		}
	}
	return jobs
}

// waitModel holds the wait arguments of the task data sources.
type waitModel struct {
	WaitForCompletion types.Bool     `tfsdk:"wait_for_completion"`
	PollInterval      types.String   `tfsdk:"poll_interval"`
	FailOnJobFailure  types.Bool     `tfsdk:"fail_on_job_failure"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

// waitSettings are the effective wait arguments of a read, or of a
// resource's create or update.
type waitSettings struct {
	Wait             bool
	FailOnJobFailure bool
	PollInterval     time.Duration
	Timeout          time.Duration // the operation's one deadline
	TimeoutName      string        // such as "timeouts.read"
}

// pollInterval is a poll_interval argument as a duration, or its default
// when it is not set. The validator checked it at plan time.
func pollInterval(v types.String) time.Duration {
	if d, err := time.ParseDuration(v.ValueString()); err == nil {
		return d
	}
	return taskwait.DefaultPollInterval
}

// settings resolves the wait arguments and writes their defaults back, so
// that state shows what was used.
func (w *waitModel) settings(ctx context.Context) (waitSettings, diag.Diagnostics) {
	readTimeout, diags := readTimeout(ctx, w.Timeouts, "20m")
	s := waitSettings{
		Wait: w.WaitForCompletion.ValueBool(), FailOnJobFailure: w.FailOnJobFailure.ValueBool(),
		PollInterval: pollInterval(w.PollInterval), Timeout: readTimeout, TimeoutName: "timeouts.read",
	}
	w.WaitForCompletion, w.FailOnJobFailure = types.BoolValue(s.Wait), types.BoolValue(s.FailOnJobFailure)
	if w.PollInterval.IsNull() {
		w.PollInterval = types.StringValue(s.PollInterval.String())
	}
	return s, diags
}

// readTimeout is timeouts.read of a data source, which must be positive.
func readTimeout(ctx context.Context, t timeouts.Value, example string) (time.Duration, diag.Diagnostics) {
	timeout, diags := t.Read(ctx, defaultReadTimeout)
	if !diags.HasError() && timeout <= 0 {
		diags.AddAttributeError(path.Root("timeouts").AtName("read"), "Invalid read timeout",
			fmt.Sprintf("timeouts.read is %s, but it must be positive, such as %q.", timeout, example))
	}
	return timeout, diags
}

// pollIntervalDescription describes poll_interval, wherever a wait takes
// it; polled is what one poll reads, such as "one task".
func pollIntervalDescription(polled string) string {
	return fmt.Sprintf("The longest pause between two polls of %s while waiting, as a Go duration such as `\"10s\"`. "+
		"Each is polled at once, then after pauses from %s doubling up to this value. A finished task is seen within this "+
		"interval, plus any time its poll waits for one of the provider's %d connections or behind its `rate_limit`. "+
		"At least `%s`. Defaults to `%s`.",
		polled, taskwait.FirstPause, koophone.DefaultMaxConcurrentRequests, taskwait.MinPollInterval, taskwait.DefaultPollInterval)
}

// waitAttributes are the wait arguments of a read of one task or of many.
func waitAttributes(ctx context.Context, many bool) map[string]schema.Attribute {
	wait := "When `true`, the read polls the task until every job has finished (or `timeouts.read` passes), so " +
		"everything that depends on this data source waits for the task. Defaults to `false`: read the task once, as it is."
	fail := "When `true` and the task has finished with at least one failed job, the read fails with an error " +
		"that lists every failed job (`job_id`, `error_code`, `error_msg`, `execute_msg`). Defaults to `false`."
	if many {
		wait = "When `true`, the read polls every task until all of its jobs have finished (or `timeouts.read` " +
			"passes), so everything that depends on this data source waits for all the tasks. Tasks are polled concurrently, " +
			"and a task that has finished is not polled again. Defaults to `false`: read each task once, as it is."
		fail = "When `true` and any task has finished with at least one failed job, the read fails with an " +
			"error that lists the failed jobs, task by task. Defaults to `false`."
	}
	return map[string]schema.Attribute{
		"wait_for_completion": schema.BoolAttribute{MarkdownDescription: wait, Optional: true, Computed: true},
		"poll_interval": schema.StringAttribute{
			MarkdownDescription: pollIntervalDescription("one task"),
			Optional:            true,
			Computed:            true,
			Validators:          pollIntervalRules,
		},
		"fail_on_job_failure": schema.BoolAttribute{MarkdownDescription: fail, Optional: true, Computed: true},
		"timeouts":            timeouts.Attributes(ctx),
	}
}

// readTasks reads, and with s.Wait waits for, the targets within the
// operation's deadline, logging progress.
func readTasks(ctx context.Context, client *koophone.Client, targets []taskwait.Target, s waitSettings) []taskwait.Result {
	ctx, cancel := withTimeout(ctx, s.TimeoutName, s.Timeout)
	defer cancel()
	return taskwait.Read(ctx, client, targets, taskwait.Options{
		Wait:         s.Wait,
		PollInterval: s.PollInterval,
		Observer:     tflogObserver{many: len(targets) > 1},
	})
}

// tflogObserver logs a read's progress: each poll at DEBUG, each change of
// a task's counts at INFO, and, for many tasks, each task that ends.
type tflogObserver struct {
	many bool
}

// TaskContext gives each task's goroutine of a read of many tasks a
// logging context of its own: tflog masks secrets by rewriting the
// context's field map in place, which goroutines sharing one context would
// do concurrently.
func (o tflogObserver) TaskContext(ctx context.Context, taskID string) context.Context {
	if !o.many {
		return ctx
	}
	return tflog.SetField(ctx, "task_id", taskID)
}

func (o tflogObserver) Polled(ctx context.Context, p taskwait.Poll) {
	fields := tallyFields(p.TaskID, p.Tally)
	fields["poll"] = p.N
	fields["request_id"] = p.Task.RequestID
	tflog.Debug(ctx, "Polled KooPhone task", fields)
	if p.Changed {
		tflog.Info(ctx, "KooPhone task progress", tallyFields(p.TaskID, p.Tally))
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
		fields["state"] = string(r.Task.Tally().Outcome())
	}
	if r.Err != nil {
		fields["error"] = r.Err.Error()
	}
	tflog.Info(ctx, "KooPhone task read ended", fields)
}

func tallyFields(taskID string, t koophone.Tally) map[string]any {
	return map[string]any{
		"task_id": taskID, "state": string(t.Outcome()), "jobs": t.Total, "pending": t.Pending, "running": t.Running,
		"successful": t.Successful, "failed": t.Failed, "unknown": t.Unknown,
	}
}

// objectTypeOf is the element type of a list built by hand.
func objectTypeOf(attributes map[string]schema.Attribute) types.ObjectType {
	attrTypes := make(map[string]attr.Type, len(attributes))
	for name, a := range attributes {
		attrTypes[name] = a.GetType()
	}
	return types.ObjectType{AttrTypes: attrTypes}
}
