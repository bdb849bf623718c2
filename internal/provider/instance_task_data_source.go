package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

var _ datasource.DataSourceWithConfigure = (*instanceTaskDataSource)(nil)

// instanceTaskDataSource reads one KooPhone task, optionally waiting for it.
type instanceTaskDataSource struct{ dataSource }

type instanceTaskModel struct {
	TaskID   types.String `tfsdk:"task_id"`
	ID       types.String `tfsdk:"id"`
	TaskType types.String `tfsdk:"task_type"`
	State    types.String `tfsdk:"state"`
	Jobs     []jobModel   `tfsdk:"jobs"`
	countsModel
	waitModel
}

func newInstanceTaskDataSource() datasource.DataSource {
	return &instanceTaskDataSource{dataSource{typeSuffix: "_instance_task"}}
}

func (d *instanceTaskDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := taskAttributes("The task's jobs, one per cloud phone, in the order the API returns them. Never null: `[]` when the task has no job yet.")
	for name, a := range waitAttributes(ctx, false) {
		attrs[name] = a
	}
	attrs["task_id"] = schema.StringAttribute{
		MarkdownDescription: "The task id returned by an asynchronous KooPhone request (`POST /v1/instances/async-command` or " +
			"`POST /v1/instances/app/install`): 1 to 64 letters, digits, `_` or `-`.",
		Required:   true,
		Validators: taskIDValidators(),
	}
	attrs["id"] = schema.StringAttribute{MarkdownDescription: "The task id.", Computed: true}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one asynchronous KooPhone task (`GET /v1/instances/tasks/{task_id}`): the state of its jobs, " +
			"one per cloud phone, with summaries to gate a deployment on. Optionally waits until every job has finished.",
		Attributes: attrs,
	}
}

func (d *instanceTaskDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instanceTaskModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !clientReady(d.data, &resp.Diagnostics) {
		return
	}
	ws, diags := m.settings(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = withSecretsMasked(ctx, d.data.secrets)
	taskID := m.TaskID.ValueString()
	if ws.Wait {
		tflog.Info(ctx, "Waiting for KooPhone task", map[string]any{
			"task_id": taskID, "poll_interval": ws.PollInterval.String(), "timeout": ws.Timeout.String(),
		})
	}

	res := readTasks(ctx, d.data.client, []taskwait.Target{{TaskID: taskID}}, ws)[0]
	if res.Err != nil {
		resp.Diagnostics.Append(taskReadDiagnostic(res, ws, d.data))
		return
	}
	tally := res.Task.Tally()
	if ws.FailOnJobFailure && tally.Outcome() == koophone.Failed {
		resp.Diagnostics.Append(failedTasksDiagnostic([]koophone.Task{res.Task}, 1))
		return
	}
	m.ID = m.TaskID
	m.TaskType = types.StringValue(koophone.TaskTypeOf(taskID))
	m.State = types.StringValue(string(tally.Outcome()))
	m.Jobs = jobsOf(res.Task, false)
	m.countsModel = countsOf(tally)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
