package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// This file maps a koophone.Task to Terraform attributes. Every data source
// that exposes tasks uses it, so a task reads the same wherever it appears.

// taskIDPattern is what a task id may contain: it goes into the URL path,
// so nothing that could change the path (/, .., %, ?) gets through.
var taskIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// taskIDValidators check a task id at plan time, wherever one is accepted.
func taskIDValidators() []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, 64),
		stringvalidator.RegexMatches(taskIDPattern, "must contain only letters, digits, '_' and '-' (it is sent in the URL path)"),
	}
}

// jobAttrTypes is the object type of one element of jobs.
var jobAttrTypes = map[string]attr.Type{
	"job_id":      types.StringType,
	"status":      types.Int64Type,
	"state":       types.StringType,
	"error_code":  types.StringType,
	"error_msg":   types.StringType,
	"execute_msg": types.StringType,
}

var jobObjectType = types.ObjectType{AttrTypes: jobAttrTypes}

// jobDescription describes an attribute of one job, wherever one appears:
// an element of a data source's jobs, a phone of a resource's results. It
// is a function, not a map variable, because schemas are built during
// package initialization through interface calls, which Go's
// initialization order does not follow.
func jobDescription(name string) string {
	switch name {
	case "job_id":
		return "Job id. The API does not return the instance id: map job ids to phones with the `cmd_jobs` of the call that created the task."
	case "status":
		return "Numeric status as returned by the API: `0` not started (app installs), `1` running, `2` succeeded, " +
			"`3` (app installs) or `-1` (commands) failed; other values are kept as returned."
	case "state":
		return "Meaning of `status`: `pending`, `running`, `successful`, `failed`, or `unknown` for any other value."
	case "error_code":
		return "The job's error code, such as `CPS0005`; empty when there is none."
	case "error_msg":
		return "The job's error description; empty when there is none."
	case "execute_msg":
		return "The command's output (at most 1,024 bytes), for successful and failed jobs alike; empty when there is none."
	}
	panic("koophone provider bug: no description of job attribute " + name)
}

// jobAttributes are the attributes of one element of jobs.
func jobAttributes() map[string]schema.Attribute {
	text := func(name string) schema.Attribute {
		return schema.StringAttribute{MarkdownDescription: jobDescription(name), Computed: true}
	}
	return map[string]schema.Attribute{
		"job_id":      text("job_id"),
		"status":      schema.Int64Attribute{MarkdownDescription: jobDescription("status"), Computed: true},
		"state":       text("state"),
		"error_code":  text("error_code"),
		"error_msg":   text("error_msg"),
		"execute_msg": text("execute_msg"),
	}
}

// countDescriptions describe the job counts of a task, or (with of = "of
// all tasks ") of many.
func countDescriptions(of string) map[string]string {
	return map[string]string{
		"job_count":        "Number of jobs " + of + "(one per cloud phone).",
		"pending_count":    "Number of jobs " + of + "that have not started yet (`status` 0, app installs). They count as not finished.",
		"running_count":    "Number of jobs " + of + "still running (`status` 1).",
		"successful_count": "Number of jobs " + of + "that succeeded (`status` 2).",
		"failed_count":     "Number of jobs " + of + "that failed (`status` 3 or -1).",
		"unknown_count":    "Number of jobs " + of + "whose `status` is none of 0, 1, 2, 3 and -1. They count as not finished.",
	}
}

// countAttributes are the job counts of a task, or (with of = "of all
// tasks ") of many.
func countAttributes(of string) map[string]schema.Attribute {
	attrs := make(map[string]schema.Attribute)
	for name, desc := range countDescriptions(of) {
		attrs[name] = schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
	}
	return attrs
}

// taskStateDescription explains the aggregate state of a task.
const taskStateDescription = "The task's aggregate state: `running` while any job is pending, running or in an unknown state, " +
	"or while the task has no job yet; `failed` once every job has finished and at least one failed; `successful` once every " +
	"job succeeded. Gate on this."

// taskAttributes are the attributes that describe a task's outcome, with
// the description of its jobs list.
func taskAttributes(jobsDescription string) map[string]schema.Attribute {
	attrs := countAttributes("")
	attrs["task_type"] = schema.StringAttribute{
		MarkdownDescription: "`app_install` for task ids starting with `ZGCA` or `FULFILL` (app installations), else `command` (async adb commands).",
		Computed:            true,
	}
	attrs["state"] = schema.StringAttribute{MarkdownDescription: taskStateDescription, Computed: true}
	attrs["jobs"] = schema.ListNestedAttribute{
		MarkdownDescription: jobsDescription,
		Computed:            true,
		NestedObject:        schema.NestedAttributeObject{Attributes: jobAttributes()},
	}
	return attrs
}

// The values of include_jobs: which jobs the jobs lists hold.
const (
	includeFailedJobs = "failed" // every job that did not succeed
	includeAllJobs    = "all"
	includeNoJobs     = "none" // jobs is null
)

// setTaskValues writes a task's computed attributes into values, with the
// jobs that include selects.
func setTaskValues(values map[string]attr.Value, task koophone.Task, include string) {
	sum := task.Summary()
	jobs := types.ListNull(jobObjectType)
	if include != includeNoJobs {
		elems := make([]attr.Value, 0, len(task.Jobs))
		for _, j := range task.Jobs {
			state := j.State()
			if include == includeFailedJobs && state == koophone.JobSuccessful {
				continue
			}
			elems = append(elems, types.ObjectValueMust(jobAttrTypes, map[string]attr.Value{
				"job_id":      types.StringValue(j.JobID),
				"status":      types.Int64Value(j.Status),
				"state":       types.StringValue(string(state)),
				"error_code":  types.StringValue(j.ErrorCode),
				"error_msg":   types.StringValue(j.ErrorMsg),
				"execute_msg": types.StringValue(j.ExecuteMsg),
			}))
		}
		jobs = types.ListValueMust(jobObjectType, elems)
	}
	values["task_type"] = types.StringValue(koophone.TaskTypeOf(task.ID))
	values["state"] = types.StringValue(string(sum.State))
	values["jobs"] = jobs
	setCountValues(values, sum)
}

// setCountValues writes the job counts of a summary into values.
func setCountValues(values map[string]attr.Value, sum koophone.Summary) {
	values["job_count"] = types.Int64Value(int64(sum.Jobs))
	values["pending_count"] = types.Int64Value(int64(sum.Pending))
	values["running_count"] = types.Int64Value(int64(sum.Running))
	values["successful_count"] = types.Int64Value(int64(sum.Successful))
	values["failed_count"] = types.Int64Value(int64(sum.Failed))
	values["unknown_count"] = types.Int64Value(int64(sum.Unknown))
}

// Data sources read their configuration into a types.Object and set their
// state from one, instead of going through structs with tfsdk tags: the
// framework (v1.19) compiles a regular expression for every struct field
// it maps, on every read, which was the largest single cost of a read
// (BenchmarkInstanceTaskRead).

// attrOf returns the value of attribute name as T, the type its schema
// gives it; any other type is a bug in the provider.
func attrOf[T attr.Value](values map[string]attr.Value, name string) T {
	return valueAs[T](name, values[name])
}

// valueAs returns v, the value of attribute name (or of one of its
// elements), as T, the type its schema gives it.
func valueAs[T attr.Value](name string, v attr.Value) T {
	t, ok := v.(T)
	if !ok {
		panic(fmt.Sprintf("koophone provider bug: attribute %q is %T", name, v))
	}
	return t
}

// objectTypeOf is the object type of attributes: of a data source's or a
// resource's whole schema, or of one element of a nested list.
func objectTypeOf[A interface{ GetType() attr.Type }](attributes map[string]A) types.ObjectType {
	attrTypes := make(map[string]attr.Type, len(attributes))
	for name, a := range attributes {
		attrTypes[name] = a.GetType()
	}
	return types.ObjectType{AttrTypes: attrTypes}
}

// schemaTypeOf is the object type of a data source's schema: of its
// configuration and of its state.
func schemaTypeOf(ds datasource.DataSource) types.ObjectType {
	var resp datasource.SchemaResponse
	ds.Schema(context.Background(), datasource.SchemaRequest{}, &resp)
	return objectTypeOf(resp.Schema.Attributes)
}
