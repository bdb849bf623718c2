package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
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

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// The submit-and-wait lifecycle that koophone_instance_command and
// koophone_instance_app_install share; each one's own file holds its
// arguments, model and submit call.
//
// A submit is not idempotent, hence: plan never calls the API; Create
// submits once and saves the task id before it waits, so a failed or
// interrupted wait leaves a tainted resource that still knows its task;
// Read never polls a finished task and never removes one; Update only
// waits; Delete calls nothing.

const (
	defaultApplyTimeout = 20 * time.Minute
	maxSubmitInstances  = 100 // the API's limit on the phones of one submit
)

// submitModel is what both resources hold besides their own arguments.
type submitModel struct {
	InstanceIDs       types.Set      `tfsdk:"instance_ids"`
	Triggers          types.Map      `tfsdk:"triggers"`
	WaitForCompletion types.Bool     `tfsdk:"wait_for_completion"`
	PollInterval      types.String   `tfsdk:"poll_interval"`
	FailOnJobFailure  types.Bool     `tfsdk:"fail_on_job_failure"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
	ID                types.String   `tfsdk:"id"`
	TaskID            types.String   `tfsdk:"task_id"`
	RequestID         types.String   `tfsdk:"request_id"`
	State             types.String   `tfsdk:"state"`
	Results           types.Map      `tfsdk:"results"`
	countsModel
}

// phoneModel is what happened on one phone: an element of results.
type phoneModel struct {
	JobID      string `tfsdk:"job_id"`
	Status     *int64 `tfsdk:"status"` // nil until read, and for a missing phone
	State      string `tfsdk:"state"`
	ErrorCode  string `tfsdk:"error_code"`
	ErrorMsg   string `tfsdk:"error_msg"`
	ExecuteMsg string `tfsdk:"execute_msg"`
}

// submitter is a resource's model: a pointer to a struct that embeds
// submitModel, with the resource's own arguments and submit call.
type submitter interface {
	shared() *submitModel
	submit(ctx context.Context, client *koophone.Client, instanceIDs []string) (koophone.Submission, error)
}

// submitResource is a resource that submits work to phones and follows its
// task.
type submitResource struct {
	typeSuffix  string           // after the provider's name, such as "_instance_command"
	noun        string           // names the work in messages, such as "adb command"
	onPhones    string           // for the docs, such as "run the command on"
	description string           // the resource's MarkdownDescription
	newModel    func() submitter // a new, empty model
	// arguments are the resource's own; changing any replaces it.
	arguments map[string]schema.Attribute
	data      *providerData
}

var _ resource.ResourceWithImportState = (*submitResource)(nil)

func (r *submitResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + r.typeSuffix
}

func (r *submitResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *submitResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	attrs := map[string]schema.Attribute{
		"instance_ids": schema.SetAttribute{
			MarkdownDescription: "The cloud phones (instance ids) to " + r.onPhones + ": 1 to 100 ids of 1 to 32 characters. " +
				"Order does not matter. Changing the set replaces the resource, which submits again to every phone.",
			ElementType:   types.StringType,
			Required:      true,
			PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()},
			Validators: []validator.Set{
				setvalidator.SizeBetween(1, maxSubmitInstances),
				setvalidator.ValueStringsAre(stringvalidator.UTF8LengthBetween(1, 32)),
			},
		},
		"triggers": schema.MapAttribute{
			MarkdownDescription: "Arbitrary strings; changing any of them replaces the resource, which submits the " + r.noun +
				" again. Use it to run again when something else changes, such as a build number.",
			ElementType:   types.StringType,
			Optional:      true,
			PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
		},
		"wait_for_completion": schema.BoolAttribute{
			MarkdownDescription: "When `true`, apply waits until every phone it submitted to has finished (or `timeouts.create` " +
				"passes), so everything that depends on this resource runs after the " + r.noun + ". The wait follows the " +
				"phones' own jobs, from the submit's answer: a job the task lists late is waited for. When `false`, apply returns " +
				"once the task is submitted: `state` is `running` and each phone's `state` is `unknown` until a later refresh " +
				"reads the task. Defaults to `true`.",
			Optional: true,
			Computed: true,
			Default:  booldefault.StaticBool(true),
		},
		"poll_interval": schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("The longest pause between two polls of the task while waiting, as a Go duration such as `\"10s\"`. "+
				"Polling starts at once, then backs off from %s, doubling up to this value. At least `%s`. Defaults to `%s`.",
				taskwait.FirstPause, taskwait.MinPollInterval, taskwait.DefaultPollInterval),
			Optional:   true,
			Computed:   true,
			Default:    stringdefault.StaticString(taskwait.DefaultPollInterval.String()),
			Validators: []validator.String{durationAtLeast(taskwait.MinPollInterval)},
		},
		"fail_on_job_failure": schema.BoolAttribute{
			MarkdownDescription: "When `true`, a phone on which the " + r.noun + " failed fails the apply, with an error that lists " +
				"each failed phone's instance id, error code, message and output; Terraform then keeps the resource tainted, so the next " +
				"apply submits again (`terraform untaint` accepts the outcome instead). When `false`, the apply succeeds and `state`, " +
				"`failed_count` and `results` record the failures for you to gate on. Defaults to `true`.",
			Optional: true,
			Computed: true,
			Default:  booldefault.StaticBool(true),
		},
		"timeouts": timeouts.Attributes(ctx, timeouts.Opts{
			Create:            true,
			Update:            true,
			CreateDescription: "How long create may take, submit and wait included, such as `\"45m\"`. Defaults to `20m`.",
			UpdateDescription: "How long an update may wait for a running task, such as `\"45m\"`. Defaults to `20m`.",
		}),
		"id": schema.StringAttribute{MarkdownDescription: "The task id.", Computed: true, PlanModifiers: keep},
		"task_id": schema.StringAttribute{
			MarkdownDescription: "The id of the task the submit created; read it elsewhere with the `koophone_instance_task` data source.",
			Computed:            true,
			PlanModifiers:       keep,
		},
		"request_id": schema.StringAttribute{
			MarkdownDescription: "The `x-request-id` of the submit, for KooPhone support.",
			Computed:            true,
			PlanModifiers:       keep,
		},
		"state": schema.StringAttribute{
			MarkdownDescription: "The outcome on all phones: `running` while any phone is pending, running or unknown; `failed` once " +
				"every phone has finished and at least one failed (or is `missing`); `successful` once every phone succeeded. Gate on this.",
			Computed: true,
		},
		"results": schema.MapNestedAttribute{
			MarkdownDescription: "What happened on each phone, keyed by instance id: the submit's `cmd_jobs` joined to the task's jobs by " +
				"`job_id`. A phone of `instance_ids` that the submit's answer did not list is reported with `state` `missing`, not dropped.",
			Computed:     true,
			NestedObject: schema.NestedAttributeObject{Attributes: phoneAttributes()},
		},
	}
	for name, desc := range map[string]string{
		"job_count":        "Number of phones in `results`.",
		"pending_count":    "Number of phones whose job has not started yet (`status` 0, app installs).",
		"running_count":    "Number of phones whose job is still running (`status` 1).",
		"successful_count": "Number of phones whose job succeeded (`status` 2).",
		"failed_count":     "Number of phones whose job failed (`status` 3 or -1), plus phones `missing` from the submit's answer.",
		"unknown_count":    "Number of phones whose job has not been read yet or has a `status` none of 0, 1, 2, 3 and -1.",
	} {
		attrs[name] = schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
	}
	for name, a := range r.arguments {
		attrs[name] = a
	}
	resp.Schema = schema.Schema{MarkdownDescription: r.description, Attributes: attrs}
}

func phoneAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"job_id": schema.StringAttribute{MarkdownDescription: "The phone's job id, from the submit's `cmd_jobs`; empty for a `missing` phone.", Computed: true},
		"status": schema.Int64Attribute{MarkdownDescription: jobDescriptions["status"] + " Null until the task has been read, and for a `missing` phone.", Computed: true},
		"state": schema.StringAttribute{
			MarkdownDescription: "Meaning of `status`: `pending`, `running`, `successful`, `failed`, `unknown` (not read yet, or a " +
				"`status` not documented), or `missing` (the submit's answer had no job for this phone, so nothing runs there).",
			Computed: true,
		},
		"error_code":  schema.StringAttribute{MarkdownDescription: jobDescriptions["error_code"], Computed: true},
		"error_msg":   schema.StringAttribute{MarkdownDescription: jobDescriptions["error_msg"], Computed: true},
		"execute_msg": schema.StringAttribute{MarkdownDescription: jobDescriptions["execute_msg"], Computed: true},
	}
}

// phones is what happened on each phone of a resource, by instance id.
type phones map[string]phoneModel

// phonesOf starts the results of a submission: one per phone of
// instanceIDs, plus any phone the answer names beyond them.
func phonesOf(sub koophone.Submission, instanceIDs []string) phones {
	p := make(phones, len(instanceIDs))
	for _, j := range sub.Jobs {
		p[j.InstanceID] = phoneModel{JobID: j.JobID, State: string(koophone.Unknown)}
	}
	for _, id := range instanceIDs {
		if _, ok := p[id]; !ok {
			p[id] = phoneModel{State: string(koophone.Missing)}
		}
	}
	return p
}

// apply records a read of the task, joining its jobs to the phones by job
// id. It returns how many jobs belong to no phone.
func (p phones) apply(task koophone.Task) (unmatched int) {
	byJob := make(map[string]string, len(p))
	for id, r := range p {
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
		p[id] = phoneModel{JobID: j.JobID, Status: &status, State: string(j.State()), ErrorCode: j.ErrorCode, ErrorMsg: j.ErrorMsg, ExecuteMsg: j.ExecuteMsg}
	}
	return unmatched
}

func (p phones) tally() koophone.Tally {
	var t koophone.Tally
	for _, r := range p {
		t.Add(koophone.State(r.State))
	}
	return t
}

// jobIDs are the jobs the phones wait for, in instance id order.
func (p phones) jobIDs() []string {
	ids := make([]string, 0, len(p))
	for _, id := range p.instanceIDs(nil) {
		if j := p[id].JobID; j != "" {
			ids = append(ids, j)
		}
	}
	return ids
}

// instanceIDs lists the phones that match (all when match is nil), in
// instance id order.
func (p phones) instanceIDs(match func(phoneModel) bool) []string {
	ids := make([]string, 0, len(p))
	for id, r := range p {
		if match == nil || match(r) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// setPhones writes results, their counts and the outcome.
func (s *submitModel) setPhones(ctx context.Context, p phones) diag.Diagnostics {
	results, diags := types.MapValueFrom(ctx, phoneType, map[string]phoneModel(p))
	s.Results = results
	t := p.tally()
	s.State = types.StringValue(string(t.Outcome()))
	s.countsModel = countsOf(t)
	return diags
}

func (s *submitModel) phones(ctx context.Context) (phones, diag.Diagnostics) {
	p := phones{}
	diags := s.Results.ElementsAs(ctx, (*map[string]phoneModel)(&p), false)
	return p, diags
}

var phoneType = schema.NestedAttributeObject{Attributes: phoneAttributes()}.Type()

func (r *submitResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	m := r.newModel()
	resp.Diagnostics.Append(req.Plan.Get(ctx, m)...)
	if resp.Diagnostics.HasError() || !clientReady(r.data, &resp.Diagnostics) {
		return
	}
	s := m.shared()
	ws, diags := s.settings(ctx, true)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = withSecretsMasked(ctx, r.data.secrets)
	ctx, cancel := withTimeout(ctx, ws.TimeoutName, ws.Timeout)
	defer cancel()

	var instanceIDs []string
	if resp.Diagnostics.Append(s.InstanceIDs.ElementsAs(ctx, &instanceIDs, false)...); resp.Diagnostics.HasError() {
		return
	}
	sort.Strings(instanceIDs)
	sub, err := m.submit(ctx, r.data.client, instanceIDs)
	if err != nil {
		resp.Diagnostics.Append(submitDiagnostic(r.noun, err, len(instanceIDs), r.data))
		return
	}
	tflog.Info(ctx, "Submitted KooPhone "+r.noun, map[string]any{
		"task_id": sub.TaskID, "request_id": sub.RequestID, "phones": len(instanceIDs), "jobs": len(sub.Jobs),
	})

	// From here on the task exists: whatever happens, state keeps it.
	s.ID, s.TaskID, s.RequestID = types.StringValue(sub.TaskID), types.StringValue(sub.TaskID), types.StringValue(sub.RequestID)
	results := phonesOf(sub, instanceIDs)
	saveState(ctx, m, results, &resp.State, &resp.Diagnostics)
	if ws.Wait {
		r.waitAndReport(ctx, m, results, ws, true, &resp.State, &resp.Diagnostics)
	}
}

// settings resolves the wait arguments of a create or an update.
func (s *submitModel) settings(ctx context.Context, creating bool) (waitSettings, diag.Diagnostics) {
	ws := waitSettings{
		Wait: s.WaitForCompletion.ValueBool(), FailOnJobFailure: s.FailOnJobFailure.ValueBool(),
		PollInterval: pollInterval(s.PollInterval), TimeoutName: "timeouts.update",
	}
	var diags diag.Diagnostics
	if creating {
		ws.TimeoutName = "timeouts.create"
		ws.Timeout, diags = s.Timeouts.Create(ctx, defaultApplyTimeout)
	} else {
		ws.Timeout, diags = s.Timeouts.Update(ctx, defaultApplyTimeout)
	}
	return ws, diags
}

// saveState writes the phones' results, and the rest of m, into state.
func saveState(ctx context.Context, m submitter, results phones, state *tfsdk.State, diags *diag.Diagnostics) {
	diags.Append(m.shared().setPhones(ctx, results)...)
	diags.Append(state.Set(ctx, m)...)
}

// waitAndReport waits until every phone's job has finished, saves what it
// saw, and reports a failed wait or, with fail_on_job_failure, a failed
// phone. After an error in a create, Terraform keeps the resource tainted.
func (r *submitResource) waitAndReport(ctx context.Context, m submitter, results phones, ws waitSettings, creating bool,
	state *tfsdk.State, diags *diag.Diagnostics,
) {
	taskID := m.shared().TaskID.ValueString()
	// With every phone missing there is no job to poll: the outcome is known.
	if jobIDs := results.jobIDs(); len(jobIDs) > 0 {
		res := taskwait.Read(ctx, r.data.client, []taskwait.Target{{TaskID: taskID, JobIDs: jobIDs}}, taskwait.Options{
			Wait: true, PollInterval: ws.PollInterval, Observer: tflogObserver{},
		})[0]
		if res.Observed {
			if n := results.apply(res.Task); n > 0 {
				tflog.Warn(ctx, "KooPhone task has jobs that the submit's answer did not list; they are left out of results",
					map[string]any{"task_id": taskID, "jobs": n})
			}
			saveState(ctx, m, results, state, diags)
		}
		if res.Err != nil {
			diags.Append(resourceWaitDiagnostic(r.noun, taskID, res, results, ws, creating, r.data))
			return
		}
	}
	if ws.FailOnJobFailure && results.tally().Outcome() == koophone.Failed {
		diags.Append(failedPhonesDiagnostic(r.noun, taskID, results, creating))
	}
}

// Read refreshes a running task with one read. A finished task is never
// read again, so a refresh of many finished resources costs no request;
// a task the API has forgotten stays in state.
func (r *submitResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	m := r.newModel()
	resp.Diagnostics.Append(req.State.Get(ctx, m)...)
	s := m.shared()
	if resp.Diagnostics.HasError() || s.State.ValueString() != string(koophone.Running) || !clientReady(r.data, &resp.Diagnostics) {
		return
	}
	ctx = withSecretsMasked(ctx, r.data.secrets)
	task, err := r.data.client.GetTask(ctx, s.TaskID.ValueString())
	if err != nil {
		resp.Diagnostics.Append(refreshDiagnostic(r.noun, s.TaskID.ValueString(), s.State.ValueString(), err, r.data))
		return
	}
	results, diags := s.phones(ctx)
	resp.Diagnostics.Append(diags...)
	results.apply(task)
	saveState(ctx, m, results, &resp.State, &resp.Diagnostics)
}

// Update changes only the wait arguments and timeouts (every other
// argument replaces the resource); when waiting is asked for and the task
// still runs, it waits.
func (r *submitResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	m, prior := r.newModel(), r.newModel()
	resp.Diagnostics.Append(req.Plan.Get(ctx, m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, was := m.shared(), prior.shared()
	ws, diags := s.settings(ctx, false)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	s.ID, s.TaskID, s.RequestID, s.State, s.Results, s.countsModel = was.ID, was.TaskID, was.RequestID, was.State, was.Results, was.countsModel
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
	results, diags := s.phones(ctx)
	resp.Diagnostics.Append(diags...)
	switch outcome := results.tally().Outcome(); {
	case ws.Wait && outcome == koophone.Running:
		if !clientReady(r.data, &resp.Diagnostics) {
			return
		}
		ctx = withSecretsMasked(ctx, r.data.secrets)
		ctx, cancel := withTimeout(ctx, ws.TimeoutName, ws.Timeout)
		defer cancel()
		r.waitAndReport(ctx, m, results, ws, false, &resp.State, &resp.Diagnostics)
	case ws.FailOnJobFailure && outcome == koophone.Failed && !was.FailOnJobFailure.ValueBool():
		// fail_on_job_failure was just turned on for a task that failed.
		resp.Diagnostics.Append(failedPhonesDiagnostic(r.noun, s.TaskID.ValueString(), results, false))
	}
}

// Delete forgets the resource: a command that ran cannot be undone, and an
// app stays installed.
func (r *submitResource) Delete(ctx context.Context, _ resource.DeleteRequest, _ *resource.DeleteResponse) {
	tflog.Info(ctx, "Removing KooPhone "+r.noun+" from state; nothing is undone on the phones")
}

func (r *submitResource) ImportState(_ context.Context, _ resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.AddError("Import not supported",
		fmt.Sprintf("A koophone%s cannot be imported: the task query does not say which phones the jobs ran on or what was submitted, "+
			"which this resource records. To follow a task submitted elsewhere, read it with the koophone_instance_task data source "+
			"(task_id = \"...\"), optionally with wait_for_completion = true.", r.typeSuffix))
}
