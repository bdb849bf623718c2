package provider

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

var (
	_ datasource.DataSource              = (*instanceTaskDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*instanceTaskDataSource)(nil)
)

// Defaults and limits of the data source's arguments.
const (
	defaultPollInterval = 10 * time.Second
	minPollInterval     = time.Second
	defaultReadTimeout  = 20 * time.Minute
)

// taskIDPattern is what a task id may contain: it goes into the URL path,
// so nothing that could change the path (/, .., %, ?) gets through.
var taskIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// instanceTaskDataSource reads one KooPhone task, optionally waiting for it.
type instanceTaskDataSource struct {
	data *providerData
}

func newInstanceTaskDataSource() datasource.DataSource {
	return &instanceTaskDataSource{}
}

// instanceTaskModel maps the data source's arguments and attributes.
type instanceTaskModel struct {
	TaskID types.String `tfsdk:"task_id"`
	ID     types.String `tfsdk:"id"`
	waitArguments
	taskOutcome
}

func (d *instanceTaskDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance_task"
}

func (d *instanceTaskDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"task_id": schema.StringAttribute{
			MarkdownDescription: "The task id returned by an asynchronous KooPhone request (`POST /v1/instances/async-command` or " +
				"`POST /v1/instances/app/install`): 1 to 64 letters, digits, `_` or `-`.",
			Required:   true,
			Validators: taskIDValidators(),
		},
		"wait_for_completion": schema.BoolAttribute{
			MarkdownDescription: "When `true`, the read polls the task until no job is running (or `timeouts.read` passes), so " +
				"everything that depends on this data source waits for the task. Defaults to `false`: read the task once, as it is.",
			Optional: true,
			Computed: true,
		},
		"poll_interval": schema.StringAttribute{
			CustomType: timetypes.GoDurationType{},
			MarkdownDescription: fmt.Sprintf("The longest pause between two polls while waiting, as a Go duration such as `\"10s\"`. "+
				"Polling starts at once, then backs off from 1 s, doubling up to this value, so a task that finishes early is seen early. "+
				"At least `%s`. Defaults to `%s`.", minPollInterval, defaultPollInterval),
			Optional:   true,
			Computed:   true,
			Validators: []validator.String{durationAtLeast{min: minPollInterval}},
		},
		"fail_on_job_failure": schema.BoolAttribute{
			MarkdownDescription: "When `true` and the task has finished with at least one failed job, the read fails with an error " +
				"that lists every failed job (`job_id`, `error_code`, `error_msg`, `execute_msg`). Defaults to `false`.",
			Optional: true,
			Computed: true,
		},
		"timeouts": timeouts.Attributes(ctx),
		"id": schema.StringAttribute{
			MarkdownDescription: "The task id.",
			Computed:            true,
		},
	}
	for name, a := range taskComputedAttributes() {
		attrs[name] = a
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one asynchronous KooPhone task (`GET /v1/instances/tasks/{task_id}`): the state of its jobs, " +
			"one per cloud phone, with summaries to gate a deployment on. Optionally waits until no job is running.",
		Attributes: attrs,
	}
}

func (d *instanceTaskDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *instanceTaskDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instanceTaskModel
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
	if resp.Diagnostics.HasError() {
		return
	}

	taskID := m.TaskID.ValueString()
	ctx = tflog.SetField(ctx, "task_id", taskID)
	ctx, cancel := context.WithTimeout(ctx, ws.Timeout)
	defer cancel()

	if ws.Wait {
		tflog.Info(ctx, "Waiting for KooPhone task", map[string]any{"poll_interval": ws.PollInterval.String(), "timeout": ws.Timeout.String()})
	}
	res := readTasks(ctx, d.data, []string{taskID}, ws)[0]
	task := res.Task
	if res.Err != nil {
		resp.Diagnostics.Append(taskReadDiagnostic(readFailure{
			TaskID: taskID, Err: res.Err, Endpoint: d.data.client.Endpoint(),
			Waiting: ws.Wait, Timeout: ws.Timeout, Last: task, Observed: res.Observed, Auth: d.data.auth,
		}))
		return
	}

	if ws.FailOnJobFailure && task.Summary().State == koophone.TaskFailed {
		resp.Diagnostics.Append(failedJobsDiagnostic(task))
		return
	}

	outcome, diags := newTaskOutcome(task)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.ID = types.StringValue(taskID)
	m.taskOutcome = outcome
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
