package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// This file maps a koophone.Task to Terraform attributes. Every data source
// that exposes tasks uses it, so a task reads the same wherever it appears.

// jobAttrTypes is the object type of one element of jobs.
var jobAttrTypes = map[string]attr.Type{
	"job_id":      types.StringType,
	"status":      types.Int64Type,
	"state":       types.StringType,
	"error_code":  types.StringType,
	"error_msg":   types.StringType,
	"execute_msg": types.StringType,
}

// taskComputedAttributes are the attributes that describe a task's outcome.
func taskComputedAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"task_type": schema.StringAttribute{
			MarkdownDescription: "`app_install` for task ids starting with `ZGCA` or `FULFILL` (app installations), else `command` (async adb commands).",
			Computed:            true,
		},
		"state": schema.StringAttribute{
			MarkdownDescription: "The task's aggregate state: `running` while any job is running or in an unknown state, or while the task has no job yet; " +
				"`failed` once no job is running and at least one failed; `successful` once every job succeeded. Gate on this.",
			Computed: true,
		},
		"job_count": schema.Int64Attribute{
			MarkdownDescription: "Number of jobs (one per cloud phone).",
			Computed:            true,
		},
		"running_count": schema.Int64Attribute{
			MarkdownDescription: "Number of jobs still running (`status` 1).",
			Computed:            true,
		},
		"successful_count": schema.Int64Attribute{
			MarkdownDescription: "Number of jobs that succeeded (`status` 2).",
			Computed:            true,
		},
		"failed_count": schema.Int64Attribute{
			MarkdownDescription: "Number of jobs that failed (`status` -1).",
			Computed:            true,
		},
		"unknown_count": schema.Int64Attribute{
			MarkdownDescription: "Number of jobs whose `status` is none of 1, 2 and -1. They count as not finished.",
			Computed:            true,
		},
		"jobs": schema.ListNestedAttribute{
			MarkdownDescription: "The task's jobs, one per cloud phone, in the order the API returns them. Never null: `[]` when the task has no job yet.",
			Computed:            true,
			NestedObject: schema.NestedAttributeObject{
				Attributes: map[string]schema.Attribute{
					"job_id": schema.StringAttribute{
						MarkdownDescription: "Job id. The API does not return the instance id: map job ids to phones with the `cmd_jobs` of the call that created the task.",
						Computed:            true,
					},
					"status": schema.Int64Attribute{
						MarkdownDescription: "Numeric status as returned by the API: `1` running, `2` succeeded, `-1` failed; other values are kept as returned.",
						Computed:            true,
					},
					"state": schema.StringAttribute{
						MarkdownDescription: "Meaning of `status`: `running`, `successful`, `failed`, or `unknown` for any other value.",
						Computed:            true,
					},
					"error_code": schema.StringAttribute{
						MarkdownDescription: "The job's error code, such as `CPS0005`; empty when there is none.",
						Computed:            true,
					},
					"error_msg": schema.StringAttribute{
						MarkdownDescription: "The job's error description; empty when there is none.",
						Computed:            true,
					},
					"execute_msg": schema.StringAttribute{
						MarkdownDescription: "The command's output (at most 1,024 bytes), for successful and failed jobs alike; empty when there is none.",
						Computed:            true,
					},
				},
			},
		},
	}
}

// taskOutcome holds the computed attributes of a task.
type taskOutcome struct {
	TaskType        types.String `tfsdk:"task_type"`
	State           types.String `tfsdk:"state"`
	JobCount        types.Int64  `tfsdk:"job_count"`
	RunningCount    types.Int64  `tfsdk:"running_count"`
	SuccessfulCount types.Int64  `tfsdk:"successful_count"`
	FailedCount     types.Int64  `tfsdk:"failed_count"`
	UnknownCount    types.Int64  `tfsdk:"unknown_count"`
	Jobs            types.List   `tfsdk:"jobs"`
}

// newTaskOutcome maps a task to its computed attributes.
func newTaskOutcome(task koophone.Task) (taskOutcome, diag.Diagnostics) {
	sum := task.Summary()
	elems := make([]attr.Value, 0, len(task.Jobs))
	var diags diag.Diagnostics
	for _, j := range task.Jobs {
		obj, d := types.ObjectValue(jobAttrTypes, map[string]attr.Value{
			"job_id":      types.StringValue(j.JobID),
			"status":      types.Int64Value(j.Status),
			"state":       types.StringValue(string(j.State())),
			"error_code":  types.StringValue(j.ErrorCode),
			"error_msg":   types.StringValue(j.ErrorMsg),
			"execute_msg": types.StringValue(j.ExecuteMsg),
		})
		diags.Append(d...)
		elems = append(elems, obj)
	}
	jobs, d := types.ListValue(types.ObjectType{AttrTypes: jobAttrTypes}, elems)
	diags.Append(d...)
	return taskOutcome{
		TaskType:        types.StringValue(koophone.TaskTypeOf(task.ID)),
		State:           types.StringValue(string(sum.State)),
		JobCount:        types.Int64Value(int64(sum.Jobs)),
		RunningCount:    types.Int64Value(int64(sum.Running)),
		SuccessfulCount: types.Int64Value(int64(sum.Successful)),
		FailedCount:     types.Int64Value(int64(sum.Failed)),
		UnknownCount:    types.Int64Value(int64(sum.Unknown)),
		Jobs:            jobs,
	}, diags
}
