package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

var (
	_ datasource.DataSource              = (*instanceTasksDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*instanceTasksDataSource)(nil)
)

// maxTaskIDs bounds task_ids: one read of 1,000 tasks of 100 phones each
// covers a fleet of 100,000 phones.
const maxTaskIDs = 1000

// instanceTasksDataSource reads many KooPhone tasks in one read, polling
// them all concurrently when it waits.
type instanceTasksDataSource struct {
	data *providerData
}

func newInstanceTasksDataSource() datasource.DataSource {
	return &instanceTasksDataSource{}
}

// instanceTasksModel maps the data source's arguments and attributes.
type instanceTasksModel struct {
	TaskIDs taskIDsValue `tfsdk:"task_ids"`
	waitArguments
	Tasks           types.List   `tfsdk:"tasks"`
	State           types.String `tfsdk:"state"`
	TaskCount       types.Int64  `tfsdk:"task_count"`
	JobCount        types.Int64  `tfsdk:"job_count"`
	RunningCount    types.Int64  `tfsdk:"running_count"`
	SuccessfulCount types.Int64  `tfsdk:"successful_count"`
	FailedCount     types.Int64  `tfsdk:"failed_count"`
	UnknownCount    types.Int64  `tfsdk:"unknown_count"`
}

func (d *instanceTasksDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance_tasks"
}

func (d *instanceTasksDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads many asynchronous KooPhone tasks in one read, such as the tasks of a fleet rollout " +
			"(one asynchronous request reaches at most 100 phones), with summaries over all of them to gate a deployment on. " +
			"Optionally waits until no job of any task is running, polling every task concurrently.",
		Attributes: map[string]schema.Attribute{
			"task_ids": schema.SetAttribute{
				CustomType: newTaskIDsType(),
				MarkdownDescription: fmt.Sprintf("The task ids, as returned by asynchronous KooPhone requests: 1 to %d of them, "+
					"each 1 to 64 letters, digits, `_` or `-`.", maxTaskIDs),
				ElementType: types.StringType,
				Required:    true,
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, maxTaskIDs),
					setvalidator.ValueStringsAre(taskIDValidators()...),
				},
			},
			"wait_for_completion": schema.BoolAttribute{
				MarkdownDescription: "When `true`, the read polls every task until none of its jobs is running (or `timeouts.read` " +
					"passes), so everything that depends on this data source waits for all the tasks. Tasks are polled concurrently, " +
					"and a task that has finished is not polled again. Defaults to `false`: read each task once, as it is.",
				Optional: true,
				Computed: true,
			},
			"poll_interval": schema.StringAttribute{
				CustomType: timetypes.GoDurationType{},
				MarkdownDescription: fmt.Sprintf("The longest pause between two polls of one task while waiting, as a Go duration "+
					"such as `\"10s\"`. Each task is polled at once, then after pauses from 1 s doubling up to this value. When the "+
					"provider's `rate_limit` cannot serve that many polls, tasks are polled in turns, the longest-waiting first. "+
					"At least `%s`. Defaults to `%s`.", minPollInterval, defaultPollInterval),
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{durationAtLeast{min: minPollInterval}},
			},
			"fail_on_job_failure": schema.BoolAttribute{
				MarkdownDescription: "When `true` and any task has finished with at least one failed job, the read fails with an " +
					"error that lists the failed jobs, task by task. Defaults to `false`.",
				Optional: true,
				Computed: true,
			},
			"timeouts": timeouts.Attributes(ctx),
			"tasks": schema.ListNestedAttribute{
				MarkdownDescription: "One element per task, in the order of the sorted task ids, with the same attributes as the " +
					"`koophone_instance_task` data source.",
				Computed:     true,
				NestedObject: schema.NestedAttributeObject{Attributes: taskElementAttributes()},
			},
			"state": schema.StringAttribute{
				MarkdownDescription: "The aggregate state of all the tasks: `running` while any task is running; `failed` once no " +
					"task is running and at least one failed; `successful` once every task succeeded. Gate on this.",
				Computed: true,
			},
			"task_count": schema.Int64Attribute{
				MarkdownDescription: "Number of tasks.",
				Computed:            true,
			},
			"job_count": schema.Int64Attribute{
				MarkdownDescription: "Number of jobs of all tasks (one per cloud phone and task).",
				Computed:            true,
			},
			"running_count": schema.Int64Attribute{
				MarkdownDescription: "Number of jobs of all tasks still running (`status` 1).",
				Computed:            true,
			},
			"successful_count": schema.Int64Attribute{
				MarkdownDescription: "Number of jobs of all tasks that succeeded (`status` 2).",
				Computed:            true,
			},
			"failed_count": schema.Int64Attribute{
				MarkdownDescription: "Number of jobs of all tasks that failed (`status` -1).",
				Computed:            true,
			},
			"unknown_count": schema.Int64Attribute{
				MarkdownDescription: "Number of jobs of all tasks whose `status` is none of 1, 2 and -1. They count as not finished.",
				Computed:            true,
			},
		},
	}
}

func (d *instanceTasksDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *instanceTasksDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instanceTasksModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !clientReady(d.data, &resp.Diagnostics) {
		return
	}
	ctx = withSecretsMasked(ctx, d.data.secrets)

	ws, diags := resolveWaitSettings(ctx, &m.waitArguments)
	resp.Diagnostics.Append(diags...)
	var ids []string
	resp.Diagnostics.Append(m.TaskIDs.ElementsAs(ctx, &ids, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sort.Strings(ids)

	ctx, cancel := context.WithTimeout(ctx, ws.Timeout)
	defer cancel()
	tflog.Info(ctx, "Reading KooPhone tasks", map[string]any{
		"tasks": len(ids), "wait": ws.Wait, "poll_interval": ws.PollInterval.String(), "timeout": ws.Timeout.String(),
	})
	results := readTasks(ctx, d.data, ids, ws)
	resp.Diagnostics.Append(tasksReadDiagnostics(results, ws, d.data.client.Endpoint(), d.data.auth)...)
	if resp.Diagnostics.HasError() {
		return
	}

	tasks := make([]koophone.Task, len(results))
	for i, r := range results {
		tasks[i] = r.Task
	}
	if ws.FailOnJobFailure {
		if diag, failed := failedTasksDiagnostic(tasks); failed {
			resp.Diagnostics.Append(diag)
			return
		}
	}

	sum := summarizeTasks(tasks)
	if h := tasksHandOffFrom(ctx); h != nil {
		// The provider's server encodes tasks into the state itself (see
		// server.go): a thousand tasks of a hundred jobs are too many for
		// the framework's value trees.
		h.tasks, h.set = tasks, true
		m.Tasks = types.ListNull(taskElementType)
	} else {
		elems := make([]attr.Value, len(tasks))
		for i, t := range tasks {
			elem, diags := taskElement(t)
			resp.Diagnostics.Append(diags...)
			if resp.Diagnostics.HasError() {
				return
			}
			elems[i] = elem
		}
		list, diags := types.ListValue(taskElementType, elems)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
		m.Tasks = list
	}
	m.State = types.StringValue(string(sum.State))
	m.TaskCount = types.Int64Value(int64(sum.Tasks))
	m.JobCount = types.Int64Value(int64(sum.Jobs))
	m.RunningCount = types.Int64Value(int64(sum.Running))
	m.SuccessfulCount = types.Int64Value(int64(sum.Successful))
	m.FailedCount = types.Int64Value(int64(sum.Failed))
	m.UnknownCount = types.Int64Value(int64(sum.Unknown))
	tflog.Info(ctx, "Read KooPhone tasks", map[string]any{
		"state": string(sum.State), "tasks": sum.Tasks, "running_tasks": sum.RunningTasks,
		"successful_tasks": sum.SuccessfulTasks, "failed_tasks": sum.FailedTasks, "jobs": sum.Jobs,
	})
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
