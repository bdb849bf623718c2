package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

var _ datasource.DataSourceWithConfigure = (*instanceTasksDataSource)(nil)

// maxTaskIDs bounds task_ids: a thousand tasks of a hundred phones cover a
// large fleet in one read.
const maxTaskIDs = 1000

// The values of include_jobs.
const (
	includeFailedJobs = "failed" // every job that did not succeed
	includeAllJobs    = "all"
	includeNoJobs     = "none" // jobs is null
)

// instanceTasksDataSource reads many tasks, polling them concurrently when
// it waits.
type instanceTasksDataSource struct{ dataSource }

// instanceTasksModel's Tasks is built by hand (see the package doc).
// task_ids is a list, not a set: the framework compares every pair of a
// set's elements, for duplicates and again for semantic equality after
// each read, which a thousand ids make slow on every plan
// (BenchmarkInstanceTasksReadThousandIDs). Duplicates are dropped here.
type instanceTasksModel struct {
	TaskIDs     types.List   `tfsdk:"task_ids"`
	IncludeJobs types.String `tfsdk:"include_jobs"`
	Tasks       types.List   `tfsdk:"tasks"`
	State       types.String `tfsdk:"state"`
	TaskCount   types.Int64  `tfsdk:"task_count"`
	countsModel
	waitModel
}

func newInstanceTasksDataSource() datasource.DataSource {
	return &instanceTasksDataSource{dataSource{typeSuffix: "_instance_tasks"}}
}

// taskElementAttributes are those of koophone_instance_task's outcome, and
// task_id.
func taskElementAttributes() map[string]schema.Attribute {
	attrs := taskAttributes("The task's jobs that `include_jobs` selects, in the order the API returns them: by default " +
		"the jobs that did not succeed (failed, and, on a read that did not wait, those not finished). Null with " +
		"`include_jobs = \"none\"`.")
	attrs["task_id"] = schema.StringAttribute{MarkdownDescription: "The task id.", Computed: true}
	return attrs
}

var (
	taskElementType = objectTypeOf(taskElementAttributes())
	jobElementType  = objectTypeOf(jobAttributes())
)

func (d *instanceTasksDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := countAttributes("of all tasks ")
	for name, a := range waitAttributes(ctx, true) {
		attrs[name] = a
	}
	attrs["task_ids"] = schema.ListAttribute{
		MarkdownDescription: fmt.Sprintf("The task ids, as returned by asynchronous KooPhone requests: 1 to %d of them, "+
			"each 1 to 64 letters, digits, `_` or `-`. A list or a set: order does not matter, and an id given twice is read once.", maxTaskIDs),
		ElementType: types.StringType,
		Required:    true,
		Validators: []validator.List{
			listvalidator.SizeBetween(1, maxTaskIDs),
			listvalidator.ValueStringsAre(taskIDValidators()...),
		},
	}
	attrs["include_jobs"] = schema.StringAttribute{
		MarkdownDescription: fmt.Sprintf("Which jobs each task's `jobs` lists: `%q` (the default), the jobs that did not succeed, "+
			"which are the ones to act on; `%q`, every job; `%q`, none (`jobs` is null). The counts and states are the same "+
			"whatever this is. Every job costs memory and time in Terraform and in the state: a thousand tasks of a hundred "+
			"phones are a hundred thousand jobs, so list them all only when you need them.", includeFailedJobs, includeAllJobs, includeNoJobs),
		Optional:   true,
		Computed:   true,
		Validators: []validator.String{stringvalidator.OneOf(includeFailedJobs, includeAllJobs, includeNoJobs)},
	}
	attrs["tasks"] = schema.ListNestedAttribute{
		MarkdownDescription: "One element per task, in the order of the sorted task ids, with the attributes of the " +
			"`koophone_instance_task` data source and `task_id`; `jobs` holds the jobs that `include_jobs` selects.",
		Computed:     true,
		NestedObject: schema.NestedAttributeObject{Attributes: taskElementAttributes()},
	}
	attrs["state"] = schema.StringAttribute{
		MarkdownDescription: "The aggregate state of all the tasks: `running` while any task is running; `failed` once no " +
			"task is running and at least one failed; `successful` once every task succeeded. Gate on this.",
		Computed: true,
	}
	attrs["task_count"] = schema.Int64Attribute{MarkdownDescription: "Number of tasks.", Computed: true}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads many asynchronous KooPhone tasks in one read, such as the tasks of a fleet rollout " +
			"(one asynchronous request reaches at most 100 phones), with summaries over all of them to gate a deployment on. " +
			"Optionally waits until every job of every task has finished, polling the tasks concurrently.",
		Attributes: attrs,
	}
}

func (d *instanceTasksDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instanceTasksModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !clientReady(d.data, &resp.Diagnostics) {
		return
	}
	ws, diags := m.settings(ctx)
	resp.Diagnostics.Append(diags...)
	ids, diags := idSet(ctx, m.TaskIDs)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	if m.IncludeJobs.IsNull() {
		m.IncludeJobs = types.StringValue(includeFailedJobs)
	}

	ctx = withSecretsMasked(ctx, d.data.secrets)
	tflog.Info(ctx, "Reading KooPhone tasks", map[string]any{
		"tasks": len(ids), "wait": ws.Wait, "poll_interval": ws.PollInterval.String(), "timeout": ws.Timeout.String(),
	})
	targets := make([]taskwait.Target, len(ids))
	for i, id := range ids {
		targets[i] = taskwait.Target{TaskID: id}
	}
	results := readTasks(ctx, d.data.client, targets, ws)
	resp.Diagnostics.Append(tasksReadDiagnostics(results, ws, d.data)...)
	if resp.Diagnostics.HasError() {
		return
	}

	var jobs, tasks koophone.Tally
	var failed []koophone.Task
	elems := make([]attr.Value, len(results))
	for i := range results {
		t := results[i].Task
		tally := t.Tally()
		jobs.Merge(tally)
		tasks.Add(tally.Outcome())
		if tally.Outcome() == koophone.Failed {
			failed = append(failed, t)
		}
		elems[i] = taskElement(t, tally, m.IncludeJobs.ValueString())
		results[i].Task.Jobs = nil // mapped: let the garbage collector have them
	}
	if ws.FailOnJobFailure && len(failed) > 0 {
		resp.Diagnostics.Append(failedTasksDiagnostic(failed, len(results)))
		return
	}
	m.Tasks = types.ListValueMust(taskElementType, elems)
	m.State = types.StringValue(string(tasks.Outcome()))
	m.TaskCount = types.Int64Value(int64(tasks.Total))
	m.countsModel = countsOf(jobs)
	tflog.Info(ctx, "Read KooPhone tasks", map[string]any{
		"state": string(tasks.Outcome()), "tasks": tasks.Total, "running_tasks": tasks.Running + tasks.Unknown + tasks.Pending,
		"successful_tasks": tasks.Successful, "failed_tasks": tasks.Failed, "jobs": jobs.Total,
	})
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// taskElement is one element of tasks, with the jobs include selects.
func taskElement(t koophone.Task, tally koophone.Tally, include string) attr.Value {
	jobs := types.ListNull(jobElementType)
	if include != includeNoJobs {
		models := jobsOf(t, include == includeFailedJobs)
		elems := make([]attr.Value, len(models))
		for i, j := range models {
			elems[i] = types.ObjectValueMust(jobElementType.AttrTypes, map[string]attr.Value{
				"job_id": types.StringValue(j.JobID), "status": types.Int64Value(j.Status), "state": types.StringValue(j.State),
				"error_code": types.StringValue(j.ErrorCode), "error_msg": types.StringValue(j.ErrorMsg),
				"execute_msg": types.StringValue(j.ExecuteMsg),
			})
		}
		jobs = types.ListValueMust(jobElementType, elems)
	}
	c := countsOf(tally)
	return types.ObjectValueMust(taskElementType.AttrTypes, map[string]attr.Value{
		"task_id": types.StringValue(t.ID), "task_type": types.StringValue(koophone.TaskTypeOf(t.ID)),
		"state": types.StringValue(string(tally.Outcome())), "jobs": jobs,
		"job_count": c.JobCount, "pending_count": c.PendingCount, "running_count": c.RunningCount,
		"successful_count": c.SuccessfulCount, "failed_count": c.FailedCount, "unknown_count": c.UnknownCount,
	})
}
