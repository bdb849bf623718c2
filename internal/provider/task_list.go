package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// This file builds on task_attributes.go for data sources that expose many
// tasks: each element of their tasks list has the singular data source's
// computed attributes plus task_id, made by the same newTaskOutcome.

// taskElementAttributes are the attributes of one element of a tasks list.
func taskElementAttributes() map[string]schema.Attribute {
	attrs := taskComputedAttributes()
	attrs["task_id"] = schema.StringAttribute{
		MarkdownDescription: "The task id.",
		Computed:            true,
	}
	return attrs
}

// taskElementType is the object type of one element of a tasks list.
var taskElementType = func() types.ObjectType {
	attrTypes := map[string]attr.Type{}
	for name, a := range taskElementAttributes() {
		attrTypes[name] = a.GetType()
	}
	return types.ObjectType{AttrTypes: attrTypes}
}()

// taskElement maps a task to one element of a tasks list.
func taskElement(task koophone.Task) (attr.Value, diag.Diagnostics) {
	o, diags := newTaskOutcome(task)
	if diags.HasError() {
		return nil, diags
	}
	obj, d := types.ObjectValue(taskElementType.AttrTypes, map[string]attr.Value{
		"task_id":          types.StringValue(task.ID),
		"task_type":        o.TaskType,
		"state":            o.State,
		"job_count":        o.JobCount,
		"running_count":    o.RunningCount,
		"successful_count": o.SuccessfulCount,
		"failed_count":     o.FailedCount,
		"unknown_count":    o.UnknownCount,
		"jobs":             o.Jobs,
	})
	diags.Append(d...)
	return obj, diags
}

// fleetSummary sums the summaries of many tasks.
type fleetSummary struct {
	Tasks      int
	Jobs       int
	Running    int
	Successful int
	Failed     int
	Unknown    int
	// Task counts by state.
	RunningTasks    int
	SuccessfulTasks int
	FailedTasks     int
	State           koophone.TaskState
}

// summarizeTasks derives the aggregate state by the rules of one task,
// applied to tasks: running while any task is running, failed once none is
// and at least one failed, else successful.
func summarizeTasks(tasks []koophone.Task) fleetSummary {
	f := fleetSummary{Tasks: len(tasks)}
	for _, t := range tasks {
		s := t.Summary()
		f.Jobs += s.Jobs
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
	switch {
	case f.RunningTasks > 0:
		f.State = koophone.TaskRunning
	case f.FailedTasks > 0:
		f.State = koophone.TaskFailed
	default:
		f.State = koophone.TaskSuccessful
	}
	return f
}
