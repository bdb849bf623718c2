package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
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

// instanceTasksType is the type of the data source's configuration and
// state.
var instanceTasksType = schemaTypeOf(newInstanceTasksDataSource())

// taskElementAttributes are the attributes of one element of tasks: those
// of koophone_instance_task's outcome, and task_id.
func taskElementAttributes() map[string]schema.Attribute {
	attrs := taskAttributes("The task's jobs that `include_jobs` selects, in the order the API returns them: by default " +
		"the jobs that did not succeed (failed, and, on a read that did not wait, those not finished). Null with " +
		"`include_jobs = \"none\"`.")
	attrs["task_id"] = schema.StringAttribute{MarkdownDescription: "The task id.", Computed: true}
	return attrs
}

// taskElementType is the object type of one element of tasks.
var taskElementType = objectTypeOf(taskElementAttributes())

func (d *instanceTasksDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance_tasks"
}

func (d *instanceTasksDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := countAttributes("of all tasks ")
	for name, a := range waitAttributes(ctx, true) {
		attrs[name] = a
	}
	attrs["task_ids"] = schema.SetAttribute{
		CustomType: newTaskIDsType(),
		MarkdownDescription: fmt.Sprintf("The task ids, as returned by asynchronous KooPhone requests: 1 to %d of them, "+
			"each 1 to 64 letters, digits, `_` or `-`.", maxTaskIDs),
		ElementType: types.StringType,
		Required:    true,
		Validators: []validator.Set{
			setvalidator.SizeBetween(1, maxTaskIDs),
			setvalidator.ValueStringsAre(taskIDValidators()...),
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

func (d *instanceTasksDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *instanceTasksDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config types.Object
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || !clientReady(d.data, &resp.Diagnostics) {
		return
	}
	attrs := config.Attributes()
	args := readWaitArguments(attrs)
	ws, diags := resolveWaitSettings(ctx, &args)
	resp.Diagnostics.Append(diags...)
	var ids []string
	resp.Diagnostics.Append(attrOf[taskIDsValue](attrs, "task_ids").ElementsAs(ctx, &ids, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sort.Strings(ids)
	include := includeFailedJobs
	if v := attrOf[types.String](attrs, "include_jobs"); !v.IsNull() {
		include = v.ValueString()
	}

	ctx = withSecretsMasked(ctx, d.data.secrets)
	tflog.Info(ctx, "Reading KooPhone tasks", map[string]any{
		"tasks": len(ids), "wait": ws.Wait, "poll_interval": ws.PollInterval.String(), "timeout": ws.Timeout.String(),
	})
	results := readTasks(ctx, d.data, ids, ws)
	resp.Diagnostics.Append(tasksReadDiagnostics(results, ws, d.data.client.Endpoint(), d.data.auth)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if ws.FailOnJobFailure {
		if diag, failed := failedTasksDiagnostic(results); failed {
			resp.Diagnostics.Append(diag)
			return
		}
	}

	elems := make([]attr.Value, len(results))
	var sum fleetSummary
	for i := range results {
		t := results[i].Task
		sum.add(t.Summary())
		values := map[string]attr.Value{"task_id": types.StringValue(t.ID)}
		setTaskValues(values, t, include)
		elems[i] = types.ObjectValueMust(taskElementType.AttrTypes, values)
		results[i].Task = koophone.Task{} // mapped: let its jobs go
	}
	state := map[string]attr.Value{
		"task_ids":     attrs["task_ids"],
		"include_jobs": types.StringValue(include),
		"tasks":        types.ListValueMust(taskElementType, elems),
		"state":        types.StringValue(string(sum.state())),
		"task_count":   types.Int64Value(int64(sum.Tasks)),
	}
	args.setValues(state)
	setCountValues(state, sum.Summary)
	tflog.Info(ctx, "Read KooPhone tasks", map[string]any{
		"state": string(sum.state()), "tasks": sum.Tasks, "running_tasks": sum.RunningTasks,
		"successful_tasks": sum.SuccessfulTasks, "failed_tasks": sum.FailedTasks, "jobs": sum.Jobs,
	})
	resp.Diagnostics.Append(resp.State.Set(ctx, types.ObjectValueMust(instanceTasksType.AttrTypes, state))...)
}

// fleetSummary sums the summaries of many tasks.
type fleetSummary struct {
	koophone.Summary
	Tasks                                      int
	RunningTasks, SuccessfulTasks, FailedTasks int
}

func (f *fleetSummary) add(s koophone.Summary) {
	f.Tasks++
	f.Jobs += s.Jobs
	f.Pending += s.Pending
	f.Running += s.Running
	f.Successful += s.Successful
	f.Failed += s.Failed
	f.Unknown += s.Unknown
	switch s.State {
	case koophone.TaskRunning:
		f.RunningTasks++
	case koophone.TaskFailed:
		f.FailedTasks++
	default:
		f.SuccessfulTasks++
	}
}

// state applies the rules of one task to the tasks: running while any task
// is running, failed once none is and at least one failed, else successful.
func (f fleetSummary) state() koophone.TaskState {
	switch {
	case f.RunningTasks > 0:
		return koophone.TaskRunning
	case f.FailedTasks > 0:
		return koophone.TaskFailed
	default:
		return koophone.TaskSuccessful
	}
}
