package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/clockctx"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// koophone_instance_command and koophone_instance_app_install are one
// resource with two ways to submit: this file is everything they share
// (schema, lifecycle, per-phone results, diagnostics); each resource's
// file holds its own arguments and its submit call.
//
// The lifecycle follows from a submit not being idempotent: plan never
// calls the API; Create submits once and writes the task id into state
// before it waits, so a failed or interrupted wait leaves a tainted
// resource that still knows its task; Read never polls a finished task and
// never removes one; Update only waits; Delete calls nothing.

// defaultApplyTimeout is timeouts.create and timeouts.update when not set.
const defaultApplyTimeout = 20 * time.Minute

// Phone states in results beyond the job states of koophone.
const (
	// phoneMissing marks a phone of instance_ids for which the submit's
	// answer had no job: nothing runs there. It counts as failed.
	phoneMissing = "missing"
)

// submitKind is what differs between the two resources.
type submitKind struct {
	// typeSuffix follows the provider's name in the resource type.
	typeSuffix string
	// noun names the work in messages: "adb command", "app install".
	noun string
	// onPhones says what it does to phones, for the docs: "run the command on".
	onPhones string
	// description is the resource's MarkdownDescription.
	description string
	// arguments are the resource's own arguments; every one of them
	// replaces the resource when it changes.
	arguments func() map[string]schema.Attribute
	// submit sends the work to the phones, with the arguments from the
	// plan.
	submit func(ctx context.Context, client *koophone.Client, plan map[string]attr.Value, instanceIDs []string) (koophone.Submission, error)
}

// taskResource is a resource that submits work to phones and follows its
// task.
type taskResource struct {
	kind     submitKind
	data     *providerData
	attrType types.ObjectType
}

var (
	_ resource.Resource                = (*taskResource)(nil)
	_ resource.ResourceWithConfigure   = (*taskResource)(nil)
	_ resource.ResourceWithImportState = (*taskResource)(nil)
)

func newTaskResource(kind submitKind) *taskResource {
	r := &taskResource{kind: kind}
	var resp resource.SchemaResponse
	r.Schema(context.Background(), resource.SchemaRequest{}, &resp)
	r.attrType = objectTypeOf(resp.Schema.Attributes)
	return r
}

func (r *taskResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + r.kind.typeSuffix
}

func (r *taskResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *taskResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	attrs := r.kind.arguments()
	attrs["instance_ids"] = schema.SetAttribute{
		MarkdownDescription: "The cloud phones (instance ids) to " + r.kind.onPhones + ": 1 to 100 ids of 1 to 32 characters. " +
			"Order does not matter. Changing the set replaces the resource, which submits again to every phone.",
		ElementType:   types.StringType,
		Required:      true,
		PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()},
		Validators: []validator.Set{
			setvalidator.SizeBetween(1, maxSubmitInstances),
			setvalidator.ValueStringsAre(stringvalidator.UTF8LengthBetween(1, 32)),
		},
	}
	attrs["triggers"] = schema.MapAttribute{
		MarkdownDescription: "Arbitrary strings; changing any of them replaces the resource, which submits the " + r.kind.noun +
			" again. Use it to run again when something else changes, such as a build number.",
		ElementType:   types.StringType,
		Optional:      true,
		PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
	}
	attrs["wait_for_completion"] = schema.BoolAttribute{
		MarkdownDescription: "When `true`, apply waits until every phone has finished (or `timeouts.create` passes), so " +
			"everything that depends on this resource runs after the " + r.kind.noun + ". When `false`, apply returns once the task " +
			"is submitted: `state` is `running` and each phone's `state` is `unknown` until a later refresh reads the task. Defaults to `true`.",
		Optional: true,
		Computed: true,
		Default:  booldefault.StaticBool(true),
	}
	attrs["poll_interval"] = schema.StringAttribute{
		MarkdownDescription: fmt.Sprintf("The longest pause between two polls of the task while waiting, as a Go duration such as `\"10s\"`. "+
			"Polling starts at once, then backs off from %s, doubling up to this value. At least `%s`. Defaults to `%s`.",
			taskwait.FirstPause, taskwait.MinPollInterval, taskwait.DefaultPollInterval),
		Optional:   true,
		Computed:   true,
		Default:    stringdefault.StaticString(taskwait.DefaultPollInterval.String()),
		Validators: []validator.String{durationAtLeast{min: taskwait.MinPollInterval}},
	}
	attrs["fail_on_job_failure"] = schema.BoolAttribute{
		MarkdownDescription: "When `true`, a phone on which the " + r.kind.noun + " failed fails the apply, with an error that lists " +
			"each failed phone's instance id, error code, message and output; Terraform then keeps the resource tainted, so the next " +
			"apply submits again (`terraform untaint` accepts the outcome instead). When `false`, the apply succeeds and `state`, " +
			"`failed_count` and `results` record the failures for you to gate on. Defaults to `true`.",
		Optional: true,
		Computed: true,
		Default:  booldefault.StaticBool(true),
	}
	attrs["timeouts"] = timeouts.Attributes(ctx, timeouts.Opts{
		Create:            true,
		Update:            true,
		CreateDescription: "How long create may take, submit and wait included, such as `\"45m\"`. Defaults to `20m`.",
		UpdateDescription: "How long an update may wait for a running task, such as `\"45m\"`. Defaults to `20m`.",
	})
	attrs["id"] = schema.StringAttribute{MarkdownDescription: "The task id.", Computed: true, PlanModifiers: keep}
	attrs["task_id"] = schema.StringAttribute{
		MarkdownDescription: "The id of the task the submit created; read it elsewhere with the `koophone_instance_task` data source.",
		Computed:            true,
		PlanModifiers:       keep,
	}
	attrs["request_id"] = schema.StringAttribute{
		MarkdownDescription: "The `x-request-id` of the submit, for KooPhone support.",
		Computed:            true,
		PlanModifiers:       keep,
	}
	attrs["state"] = schema.StringAttribute{
		MarkdownDescription: "The outcome on all phones: `running` while any phone is pending, running or unknown; `failed` once " +
			"every phone has finished and at least one failed (or is `missing`); `successful` once every phone succeeded. Gate on this.",
		Computed: true,
	}
	for name, desc := range phoneCountDescriptions {
		attrs[name] = schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
	}
	attrs["results"] = schema.MapNestedAttribute{
		MarkdownDescription: "What happened on each phone, keyed by instance id: the submit's `cmd_jobs` joined to the task's jobs by " +
			"`job_id`. A phone of `instance_ids` that the submit's answer did not list is reported with `state` `missing`, not dropped.",
		Computed:     true,
		NestedObject: schema.NestedAttributeObject{Attributes: resultAttributes()},
	}
	resp.Schema = schema.Schema{MarkdownDescription: r.kind.description, Attributes: attrs}
}

// maxSubmitInstances is the API's limit on the phones of one submit.
const maxSubmitInstances = 100

// phoneCountDescriptions describe a resource's counts, which count phones
// (the entries of results), not jobs.
var phoneCountDescriptions = map[string]string{
	"job_count":        "Number of phones in `results`.",
	"pending_count":    "Number of phones whose job has not started yet (`status` 0, app installs).",
	"running_count":    "Number of phones whose job is still running (`status` 1).",
	"successful_count": "Number of phones whose job succeeded (`status` 2).",
	"failed_count":     "Number of phones whose job failed (`status` 3 or -1), plus phones `missing` from the submit's answer.",
	"unknown_count":    "Number of phones whose job has not been read yet or has a `status` none of 0, 1, 2, 3 and -1.",
}

// resultAttributes are the attributes of one phone of results: those of a
// job (jobAttrTypes), described for a phone.
func resultAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"job_id": schema.StringAttribute{MarkdownDescription: "The phone's job id, from the submit's `cmd_jobs`; empty for a `missing` phone.", Computed: true},
		"status": schema.Int64Attribute{MarkdownDescription: jobDescription("status") + " Null until the task has been read, and for a `missing` phone.", Computed: true},
		"state": schema.StringAttribute{
			MarkdownDescription: "Meaning of `status`: `pending`, `running`, `successful`, `failed`, `unknown` (not read yet, or a " +
				"`status` not documented), or `missing` (the submit's answer had no job for this phone, so nothing runs there).",
			Computed: true,
		},
		"error_code":  schema.StringAttribute{MarkdownDescription: jobDescription("error_code"), Computed: true},
		"error_msg":   schema.StringAttribute{MarkdownDescription: jobDescription("error_msg"), Computed: true},
		"execute_msg": schema.StringAttribute{MarkdownDescription: jobDescription("execute_msg"), Computed: true},
	}
}

// phoneResult is what happened on one phone.
type phoneResult struct {
	JobID      string
	Status     *int64 // nil until read, and for a missing phone
	State      string
	ErrorCode  string
	ErrorMsg   string
	ExecuteMsg string
}

// resultsOf starts the results of a submission: one per phone of
// instanceIDs, plus any phone the answer names beyond them.
func resultsOf(sub koophone.Submission, instanceIDs []string) map[string]phoneResult {
	results := make(map[string]phoneResult, len(instanceIDs))
	for _, j := range sub.Jobs {
		results[j.InstanceID] = phoneResult{JobID: j.JobID, State: string(koophone.JobUnknown)}
	}
	for _, id := range instanceIDs {
		if _, ok := results[id]; !ok {
			results[id] = phoneResult{State: phoneMissing}
		}
	}
	return results
}

// applyTask records a read of the task in results, joining its jobs to
// the phones by job id. It returns the jobs that belong to no phone.
func applyTask(results map[string]phoneResult, task koophone.Task) (unmatched int) {
	byJob := make(map[string]string, len(results))
	for id, r := range results {
		if r.JobID != "" {
			byJob[r.JobID] = id
		}
	}
	for _, j := range task.Jobs {
		id, ok := byJob[j.JobID]
		if !ok {
			unmatched++
			continue
		}
		status := j.Status
		results[id] = phoneResult{
			JobID: j.JobID, Status: &status, State: string(j.State()),
			ErrorCode: j.ErrorCode, ErrorMsg: j.ErrorMsg, ExecuteMsg: j.ExecuteMsg,
		}
	}
	return unmatched
}

// summarize counts the phones by state and derives the outcome.
func summarize(results map[string]phoneResult) koophone.Summary {
	var s koophone.Summary
	for _, r := range results {
		s.Jobs++
		switch koophone.JobState(r.State) {
		case koophone.JobPending:
			s.Pending++
		case koophone.JobRunning:
			s.Running++
		case koophone.JobSuccessful:
			s.Successful++
		case koophone.JobFailed, phoneMissing:
			s.Failed++
		default:
			s.Unknown++
		}
	}
	switch {
	case s.Finished() < s.Jobs:
		s.State = koophone.TaskRunning
	case s.Failed > 0:
		s.State = koophone.TaskFailed
	default:
		s.State = koophone.TaskSuccessful
	}
	return s
}

// setResultValues writes results, their counts and the outcome into state.
func setResultValues(state map[string]attr.Value, results map[string]phoneResult) {
	elems := make(map[string]attr.Value, len(results))
	for id, r := range results {
		status := types.Int64Null()
		if r.Status != nil {
			status = types.Int64Value(*r.Status)
		}
		elems[id] = types.ObjectValueMust(jobAttrTypes, map[string]attr.Value{
			"job_id":      types.StringValue(r.JobID),
			"status":      status,
			"state":       types.StringValue(r.State),
			"error_code":  types.StringValue(r.ErrorCode),
			"error_msg":   types.StringValue(r.ErrorMsg),
			"execute_msg": types.StringValue(r.ExecuteMsg),
		})
	}
	state["results"] = types.MapValueMust(jobObjectType, elems)
	sum := summarize(results)
	state["state"] = types.StringValue(string(sum.State))
	setCountValues(state, sum)
}

// resultsFromState reads results back from state.
func resultsFromState(state map[string]attr.Value) map[string]phoneResult {
	m := attrOf[types.Map](state, "results")
	results := make(map[string]phoneResult, len(m.Elements()))
	for id, v := range m.Elements() {
		o := valueAs[types.Object]("results", v).Attributes()
		r := phoneResult{
			JobID: attrOf[types.String](o, "job_id").ValueString(),
			State: attrOf[types.String](o, "state").ValueString(),
		}
		if s := attrOf[types.Int64](o, "status"); !s.IsNull() && !s.IsUnknown() {
			v := s.ValueInt64()
			r.Status = &v
		}
		r.ErrorCode = attrOf[types.String](o, "error_code").ValueString()
		r.ErrorMsg = attrOf[types.String](o, "error_msg").ValueString()
		r.ExecuteMsg = attrOf[types.String](o, "execute_msg").ValueString()
		results[id] = r
	}
	return results
}

// stringsOf returns the elements of a known set or list of strings.
func stringsOf(v interface{ Elements() []attr.Value }) []string {
	elems := v.Elements()
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		if s, ok := e.(types.String); ok {
			out = append(out, s.ValueString())
		}
	}
	sort.Strings(out)
	return out
}

// resourceWaitSettings are a resource's wait arguments, resolved, with the
// create or update timeout.
func resourceWaitSettings(values map[string]attr.Value, timeout time.Duration) waitSettings {
	s := waitSettings{
		Wait:             attrOf[types.Bool](values, "wait_for_completion").ValueBool(),
		FailOnJobFailure: attrOf[types.Bool](values, "fail_on_job_failure").ValueBool(),
		PollInterval:     taskwait.DefaultPollInterval,
		Timeout:          timeout,
	}
	// Checked at plan time (durationAtLeast); the default is set by the schema.
	if d, err := time.ParseDuration(attrOf[types.String](values, "poll_interval").ValueString()); err == nil {
		s.PollInterval = d
	}
	return s
}

func (r *taskResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan types.Object
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !clientReady(r.data, &resp.Diagnostics) {
		return
	}
	values := plan.Attributes()
	timeout, diags := attrOf[timeouts.Value](values, "timeouts").Create(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = withSecretsMasked(ctx, r.data.secrets)
	ctx, cancel := clockctx.WithTimeout(ctx, r.data.clock, timeout)
	defer cancel()

	instanceIDs := stringsOf(attrOf[types.Set](values, "instance_ids"))
	sub, err := r.kind.submit(ctx, r.data.client, values, instanceIDs)
	if err != nil {
		resp.Diagnostics.Append(r.submitDiagnostic(err, len(instanceIDs)))
		return
	}
	tflog.Info(ctx, "Submitted KooPhone "+r.kind.noun, map[string]any{
		"task_id": sub.TaskID, "request_id": sub.RequestID, "phones": len(instanceIDs), "jobs": len(sub.Jobs),
	})

	// From here on the task exists: whatever happens, state keeps it.
	state := make(map[string]attr.Value, len(values))
	for name, v := range values {
		state[name] = v
	}
	state["id"] = types.StringValue(sub.TaskID)
	state["task_id"] = types.StringValue(sub.TaskID)
	state["request_id"] = types.StringValue(sub.RequestID)
	results := resultsOf(sub, instanceIDs)
	setResultValues(state, results)
	r.setState(ctx, &resp.State, state, &resp.Diagnostics)

	settings := resourceWaitSettings(values, timeout)
	if !settings.Wait {
		return
	}
	r.waitAndReport(ctx, sub.TaskID, results, settings, true, state, &resp.State, &resp.Diagnostics)
}

// waitAndReport waits for the task, records what it saw in state, and
// reports a failed wait or (with fail_on_job_failure) a failed phone as an
// error. In a create, Terraform keeps the resource tainted after the error.
func (r *taskResource) waitAndReport(ctx context.Context, taskID string, results map[string]phoneResult, s waitSettings,
	creating bool, state map[string]attr.Value, st *tfsdk.State, diags *diag.Diagnostics,
) {
	res := taskwait.Read(ctx, r.data.client, []string{taskID}, taskwait.Options{
		Clock:        r.data.clock,
		Wait:         true,
		PollInterval: s.PollInterval,
		Observer:     tflogObserver{},
	})[0]
	if res.Observed {
		if n := applyTask(results, res.Task); n > 0 {
			tflog.Warn(ctx, "KooPhone task has jobs that the submit's answer did not list; they are left out of results",
				map[string]any{"task_id": taskID, "jobs": n})
		}
		setResultValues(state, results)
		r.setState(ctx, st, state, diags)
	}
	if res.Err != nil {
		diags.Append(r.waitDiagnostic(taskID, res, results, s.Timeout, creating))
		return
	}
	if s.FailOnJobFailure && summarize(results).State == koophone.TaskFailed {
		diags.Append(r.failedPhonesDiagnostic(taskID, results, creating))
	}
}

func (r *taskResource) setState(ctx context.Context, st *tfsdk.State, state map[string]attr.Value, diags *diag.Diagnostics) {
	diags.Append(st.Set(ctx, types.ObjectValueMust(r.attrType.AttrTypes, state))...)
}

// Read refreshes a running task with one read. A finished task is never
// read again, so a refresh of many finished resources costs no request;
// a task the API has forgotten stays in state.
func (r *taskResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var current types.Object
	resp.Diagnostics.Append(req.State.Get(ctx, &current)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state := current.Attributes()
	if attrOf[types.String](state, "state").ValueString() != string(koophone.TaskRunning) {
		return
	}
	if !clientReady(r.data, &resp.Diagnostics) {
		return
	}
	ctx = withSecretsMasked(ctx, r.data.secrets)
	taskID := attrOf[types.String](state, "task_id").ValueString()
	task, err := r.data.client.GetTask(ctx, taskID)
	switch {
	case errors.Is(err, koophone.ErrTaskNotFound):
		resp.Diagnostics.AddWarning("KooPhone task no longer known",
			fmt.Sprintf("The KooPhone API no longer knows task %q of this %s (%s). It is kept in state as last seen (state %q), "+
				"not removed: removing it would make the next apply submit the %s again. To run it again on purpose, "+
				"change triggers or use terraform apply -replace.",
				taskID, r.kind.noun, apiRef(err), attrOf[types.String](state, "state").ValueString(), r.kind.noun))
		return
	case err != nil:
		summary, detail := describeReadFailure(readFailure{TaskID: taskID, Err: err, Endpoint: r.data.client.Endpoint(), Auth: r.data.auth})
		resp.Diagnostics.AddError(summary, detail)
		return
	}
	results := resultsFromState(state)
	applyTask(results, task)
	setResultValues(state, results)
	r.setState(ctx, &resp.State, state, &resp.Diagnostics)
}

// Update changes only the wait arguments and timeouts (every other
// argument replaces the resource); when waiting is asked for and the task
// still runs, it waits.
func (r *taskResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior types.Object
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	values := plan.Attributes()
	timeout, diags := attrOf[timeouts.Value](values, "timeouts").Update(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	state := make(map[string]attr.Value, len(values))
	for name, v := range prior.Attributes() {
		state[name] = v
	}
	for _, name := range []string{"wait_for_completion", "poll_interval", "fail_on_job_failure", "timeouts"} {
		state[name] = values[name]
	}
	r.setState(ctx, &resp.State, state, &resp.Diagnostics)
	settings := resourceWaitSettings(values, timeout)
	results := resultsFromState(state)
	outcome := summarize(results).State
	switch {
	case settings.Wait && outcome == koophone.TaskRunning:
		if !clientReady(r.data, &resp.Diagnostics) {
			return
		}
		ctx = withSecretsMasked(ctx, r.data.secrets)
		ctx, cancel := clockctx.WithTimeout(ctx, r.data.clock, timeout)
		defer cancel()
		taskID := attrOf[types.String](state, "task_id").ValueString()
		r.waitAndReport(ctx, taskID, results, settings, false, state, &resp.State, &resp.Diagnostics)
	case settings.FailOnJobFailure && outcome == koophone.TaskFailed && !attrOf[types.Bool](prior.Attributes(), "fail_on_job_failure").ValueBool():
		// fail_on_job_failure was just turned on for a task that failed.
		resp.Diagnostics.Append(r.failedPhonesDiagnostic(attrOf[types.String](state, "task_id").ValueString(), results, false))
	}
}

// Delete forgets the resource: a command that ran cannot be undone, and an
// app stays installed.
func (r *taskResource) Delete(ctx context.Context, _ resource.DeleteRequest, _ *resource.DeleteResponse) {
	tflog.Info(ctx, "Removing KooPhone "+r.kind.noun+" from state; nothing is undone on the phones")
}

func (r *taskResource) ImportState(_ context.Context, _ resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.AddError("Import not supported",
		fmt.Sprintf("A koophone%s cannot be imported: the task query does not say which phones the jobs ran on or what was submitted, "+
			"which this resource records. To follow a task submitted elsewhere, read it with the koophone_instance_task data source "+
			"(task_id = \"...\"), optionally with wait_for_completion = true.", r.kind.typeSuffix))
}

// submitDiagnostic explains a submit that did not give a task.
func (r *taskResource) submitDiagnostic(err error, phones int) diag.Diagnostic {
	var unknown *koophone.OutcomeUnknownError
	what := fmt.Sprintf("The %s to %d phone(s)", r.kind.noun, phones)
	if errors.As(err, &unknown) {
		return diag.NewErrorDiagnostic("Outcome of the KooPhone "+r.kind.noun+" unknown", fmt.Sprintf(
			"%s was sent, but no answer says whether the API accepted it: %v.\n\n"+
				"The task may exist and be running. The provider does not send it again, because a second submit would run it twice "+
				"on every phone, and nothing was saved in state. Look for the task in the KooPhone console, or ask KooPhone support "+
				"about request id %s. If it was created, follow it with the koophone_instance_task data source; if not, run terraform apply again.",
			what, unknown.Err, unknown.RequestID))
	}
	// The client turns every failure after which the API may have acted
	// into an OutcomeUnknownError: this one was refused, or never sent.
	summary, detail := describeAPIFailure(what, err, r.data.client.Endpoint(), r.data.auth)
	return diag.NewErrorDiagnostic(summary, detail+"\n\nNothing was submitted.")
}

// keptNote tells what became of a resource whose apply failed after its
// task was created.
func keptNote(creating bool) string {
	if creating {
		return "The task id and the results so far are saved in state, and Terraform marks the resource tainted: the next apply " +
			"submits again to every phone. To accept this outcome instead, run terraform untaint on the resource."
	}
	return "The task id and the results so far are saved in state."
}

// waitDiagnostic explains a wait that ended without an outcome.
func (r *taskResource) waitDiagnostic(taskID string, res taskwait.Result, results map[string]phoneResult, timeout time.Duration, creating bool) diag.Diagnostic {
	var stop *taskwait.StopError
	timeoutName := "timeouts.create"
	if !creating {
		timeoutName = "timeouts.update"
	}
	sum := summarize(results)
	switch {
	case errors.As(res.Err, &stop) && stop.Reason == taskwait.StopTimeout:
		var b strings.Builder
		fmt.Fprintf(&b, "Task %q is still running after %s (%s is %s). %s\n", taskID, stop.Elapsed.Round(time.Second), timeoutName, timeout, progressSentence(sum))
		writePhones(&b, results, func(p phoneResult) bool { return !finishedPhone(p) }, "Not finished")
		if stop.LastErr != nil {
			fmt.Fprintf(&b, "\nThe last poll failed: %v.\n", stop.LastErr)
		}
		fmt.Fprintf(&b, "\n%s Raise %s if the %s needs longer.", keptNote(creating), timeoutName, r.kind.noun)
		return diag.NewErrorDiagnostic("Timed out waiting for KooPhone "+r.kind.noun, b.String())
	case errors.As(res.Err, &stop):
		return diag.NewErrorDiagnostic("Wait for KooPhone "+r.kind.noun+" interrupted", fmt.Sprintf(
			"The wait for task %q was interrupted after %s. %s\n\n%s", taskID, stop.Elapsed.Round(time.Millisecond), progressSentence(sum), keptNote(creating)))
	}
	summary, detail := describeReadFailure(readFailure{TaskID: taskID, Err: res.Err, Endpoint: r.data.client.Endpoint(), Waiting: true, Auth: r.data.auth})
	return diag.NewErrorDiagnostic(summary, detail+"\n\n"+keptNote(creating))
}

// failedPhonesDiagnostic is the error of fail_on_job_failure: every failed
// phone with what the API said about it.
func (r *taskResource) failedPhonesDiagnostic(taskID string, results map[string]phoneResult, creating bool) diag.Diagnostic {
	sum := summarize(results)
	var b strings.Builder
	fmt.Fprintf(&b, "The %s (task %q) failed on %d of %d phones, and fail_on_job_failure is true.\n", r.kind.noun, taskID, sum.Failed, sum.Jobs)
	writePhones(&b, results, func(p phoneResult) bool {
		return p.State == string(koophone.JobFailed) || p.State == phoneMissing
	}, "Failed")
	fmt.Fprintf(&b, "\n%s To record failures without failing the apply, set fail_on_job_failure = false and gate on state or failed_count.", keptNote(creating))
	return diag.NewErrorDiagnostic(fmt.Sprintf("KooPhone %s failed on %d phone(s)", r.kind.noun, sum.Failed), b.String())
}

func finishedPhone(p phoneResult) bool {
	switch p.State {
	case string(koophone.JobSuccessful), string(koophone.JobFailed), phoneMissing:
		return true
	}
	return false
}

// writePhones lists the phones that match, in instance id order, at most
// maxListedFailedJobs of them.
func writePhones(b *strings.Builder, results map[string]phoneResult, match func(phoneResult) bool, title string) {
	ids := make([]string, 0, len(results))
	for id, p := range results {
		if match(p) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	fmt.Fprintf(b, "\n%s:\n", title)
	for i, id := range ids {
		if i == maxListedFailedJobs {
			fmt.Fprintf(b, "  ... and %d more (see results in state)\n", len(ids)-i)
			break
		}
		p := results[id]
		if p.State == phoneMissing {
			fmt.Fprintf(b, "  - %s: missing from the submit's answer (no job was created for it)\n", id)
			continue
		}
		status := "not read yet"
		if p.Status != nil {
			status = fmt.Sprintf("status %d", *p.Status)
		}
		fmt.Fprintf(b, "  - %s: %s (%s), error_code %q, error_msg %q, execute_msg %q\n", id, p.State, status, p.ErrorCode, p.ErrorMsg, p.ExecuteMsg)
	}
}
