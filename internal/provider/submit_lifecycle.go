package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/rollout"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// The rollout lifecycle that koophone_instance_command and
// koophone_instance_app_install share; each one's own file holds its
// arguments, model and submit call.
//
// A submit is not idempotent, hence: plan never calls the API; Create
// rolls the work out once, in waves (package rollout), and keeps every
// task id it got, so a failed or interrupted rollout leaves a tainted
// resource that still knows its tasks; Read never polls a finished task
// and never removes one; Update submits only to the phones added to
// instance_ids, and otherwise only waits; Delete calls nothing.

const defaultApplyTimeout = 20 * time.Minute

// The rules of the rollout arguments, which the submit resources and the
// actions share, so that both refuse the same values at plan time.
var (
	// instance_ids is a list used as a set, read with idSet, which says why.
	instanceIDsRules = []validator.List{
		listvalidator.SizeAtLeast(1),
		listvalidator.ValueStringsAre(instanceIDRule),
	}
	waveSizeRules        = []validator.Int64{int64validator.Between(1, rollout.MaxWaveSize)}
	canarySizeRules      = []validator.Int64{int64validator.Between(0, rollout.MaxWaveSize)}
	maxFailedPhonesRules = []validator.Int64{int64validator.AtLeast(0)}
	parallelWavesRules   = []validator.Int64{int64validator.Between(1, maxParallelWaves)}
	pollIntervalRules    = []validator.String{durationAtLeast(taskwait.MinPollInterval)}
)

// rolloutArgs are the arguments of a rollout, which the submit resources
// and the actions share. A resource's schema gives each a default; an
// action's cannot, so options fills in the same defaults for a null.
type rolloutArgs struct {
	InstanceIDs       types.List   `tfsdk:"instance_ids"`
	WaveSize          types.Int64  `tfsdk:"wave_size"`
	CanarySize        types.Int64  `tfsdk:"canary_size"`
	MaxFailedPhones   types.Int64  `tfsdk:"max_failed_phones"`
	ParallelWaves     types.Int64  `tfsdk:"parallel_waves"`
	WaitForCompletion types.Bool   `tfsdk:"wait_for_completion"`
	PollInterval      types.String `tfsdk:"poll_interval"`
	FailOnJobFailure  types.Bool   `tfsdk:"fail_on_job_failure"`
}

// options are the rollout's options, and the wait's settings but for its
// timeout.
func (a *rolloutArgs) options() (rollout.Options, waitSettings) {
	intOr := func(v types.Int64, def int) int {
		if v.IsNull() {
			return def
		}
		return int(v.ValueInt64())
	}
	boolOr := func(v types.Bool, def bool) bool {
		if v.IsNull() {
			return def
		}
		return v.ValueBool()
	}
	o := rollout.Options{
		WaveSize: intOr(a.WaveSize, rollout.MaxWaveSize), CanarySize: intOr(a.CanarySize, 0),
		MaxFailed: intOr(a.MaxFailedPhones, 0), ParallelWaves: intOr(a.ParallelWaves, 1),
		Wait: boolOr(a.WaitForCompletion, true), PollInterval: pollInterval(a.PollInterval),
	}
	return o, waitSettings{Wait: o.Wait, PollInterval: o.PollInterval, FailOnJobFailure: boolOr(a.FailOnJobFailure, true)}
}

// submitModel is what both resources hold besides their own arguments.
type submitModel struct {
	rolloutArgs
	Triggers          types.Map      `tfsdk:"triggers"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
	ID                types.String   `tfsdk:"id"`
	TaskID            types.String   `tfsdk:"task_id"`
	TaskIDs           types.List     `tfsdk:"task_ids"`
	RequestID         types.String   `tfsdk:"request_id"`
	State             types.String   `tfsdk:"state"`
	Results           types.Map      `tfsdk:"results"`
	NotSubmittedCount types.Int64    `tfsdk:"not_submitted_count"`
	countsModel
}

// phoneModel is what happened on one phone: an element of results.
type phoneModel struct {
	TaskID     string `tfsdk:"task_id"`
	JobID      string `tfsdk:"job_id"`
	Status     *int64 `tfsdk:"status"` // nil until read, and for a phone without a job
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

// submitResource is a resource that rolls work out to phones and follows
// its tasks.
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

var (
	_ resource.ResourceWithImportState = (*submitResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*submitResource)(nil)
)

func (r *submitResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + r.typeSuffix
}

func (r *submitResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *submitResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	attrs := map[string]schema.Attribute{
		// A list used as a set, read with idSet, which says why.
		"instance_ids": schema.ListAttribute{
			MarkdownDescription: "The cloud phones (instance ids) to " + r.onPhones + ": one or more ids of 1 to 32 characters, any number of them. " +
				"It is a list used as a set: an id listed twice counts once, and the order does not matter to the work: the phones are " +
				"sorted, and submitted to in that order, in waves (see `wave_size`). A set (`toset(...)`) works as well. " +
				"Changing the phones updates the resource in place: phones added are submitted to in the update, in waves with the same " +
				"failure budget; phones removed leave `results`, and nothing is undone on them; phones that stay are not touched. " +
				"A change of order alone shows as an update that sends nothing; `sort()` a list whose order may change.",
			ElementType: types.StringType,
			Required:    true,
			Validators:  instanceIDsRules,
		},
		"wave_size": schema.Int64Attribute{
			MarkdownDescription: fmt.Sprintf("How many phones one submit (one task) takes: 1 to %d, the API's limit. Defaults to `%d`.",
				rollout.MaxWaveSize, rollout.MaxWaveSize),
			Optional:   true,
			Computed:   true,
			Default:    int64default.StaticInt64(rollout.MaxWaveSize),
			Validators: waveSizeRules,
		},
		"canary_size": schema.Int64Attribute{
			MarkdownDescription: fmt.Sprintf("When above 0, the first wave has this many phones (the first ones in sorted order) and runs alone: "+
				"no other wave is submitted before it has finished, even with `parallel_waves`. A failure on any canary phone stops "+
				"the rollout, whatever `max_failed_phones` allows (and fails the apply with `fail_on_job_failure`); its failures "+
				"count against the budget too. 0 to %d. Defaults to `0`, no canary.", rollout.MaxWaveSize),
			Optional:   true,
			Computed:   true,
			Default:    int64default.StaticInt64(0),
			Validators: canarySizeRules,
		},
		"max_failed_phones": schema.Int64Attribute{
			MarkdownDescription: "The failure budget of a rollout (a create, or the phones an update adds): once more phones than this " +
				"have failed (`failed` or `missing`), no further wave is submitted, and the phones never submitted are recorded in " +
				"`results` with `state` `not_submitted`. With `fail_on_job_failure`, the apply fails once the rollout's failed phones " +
				"exceed it; failures within the budget do not fail it, and `state` and `failed_count` still record them. " +
				"At least 0. Defaults to `0`: the first failure stops the rollout.",
			Optional:   true,
			Computed:   true,
			Default:    int64default.StaticInt64(0),
			Validators: maxFailedPhonesRules,
		},
		"parallel_waves": schema.Int64Attribute{
			MarkdownDescription: fmt.Sprintf("How many waves run at once, after the canary: 1 to %d. With `1`, a wave is submitted only once "+
				"the one before it has finished, so the failure budget stops the rollout before the next wave; more trade that safety "+
				"for speed: the waves already running when the budget is exceeded still run. Defaults to `1`.", maxParallelWaves),
			Optional:   true,
			Computed:   true,
			Default:    int64default.StaticInt64(1),
			Validators: parallelWavesRules,
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
				"phones' own jobs, from the submits' answers: a job a task lists late is waited for. When `false`, there is nothing " +
				"to gate the waves on: every wave is submitted at once, apply returns once they are, `state` is `running` and each " +
				"phone's `state` is `unknown` until a later refresh reads the tasks. Defaults to `true`.",
			Optional: true,
			Computed: true,
			Default:  booldefault.StaticBool(true),
		},
		"poll_interval": schema.StringAttribute{
			MarkdownDescription: pollIntervalDescription("one wave's task"),
			Optional:            true,
			Computed:            true,
			Default:             stringdefault.StaticString(taskwait.DefaultPollInterval.String()),
			Validators:          pollIntervalRules,
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
			CreateDescription: "How long create may take, every wave's submit and wait included, such as `\"45m\"`. Defaults to `20m`.",
			UpdateDescription: "How long an update may take: the waves of the phones it adds, and the wait for tasks still running, " +
				"such as `\"45m\"`. Defaults to `20m`.",
		}),
		"id": schema.StringAttribute{MarkdownDescription: "The first task's id.", Computed: true, PlanModifiers: keep},
		"task_id": schema.StringAttribute{
			MarkdownDescription: "The id of the first task the rollout created (its first wave's); `task_ids` lists them all.",
			Computed:            true,
			PlanModifiers:       keep,
		},
		"task_ids": schema.ListAttribute{
			MarkdownDescription: "The id of every task, one per wave, in submit order; an update that adds phones appends its own. " +
				"Read them elsewhere with the `koophone_instance_tasks` data source.",
			ElementType: types.StringType,
			Computed:    true,
		},
		"request_id": schema.StringAttribute{
			MarkdownDescription: "The `x-request-id` of the first task's submit, for KooPhone support.",
			Computed:            true,
			PlanModifiers:       keep,
		},
		"state": schema.StringAttribute{
			MarkdownDescription: "The outcome on all phones: `running` while any phone is pending, running or unknown; `failed` once " +
				"every phone has ended and at least one failed or was not submitted to (`missing`, `not_submitted`, `submit_unknown`); " +
				"`successful` once every phone succeeded. Gate on this.",
			Computed: true,
		},
		"results": schema.MapNestedAttribute{
			MarkdownDescription: "What happened on each phone, keyed by instance id: its wave's submit answer (`cmd_jobs`) joined to the " +
				"task's jobs by `job_id`. Every phone of `instance_ids` is here: one that the submit's answer did not list is `missing`, " +
				"one the rollout never sent the work to is `not_submitted`, not dropped.",
			Computed:     true,
			NestedObject: schema.NestedAttributeObject{Attributes: phoneAttributes()},
		},
	}
	for name, desc := range map[string]string{
		"job_count":        "Number of phones in `results`.",
		"pending_count":    "Number of phones whose job has not started yet (`status` 0, app installs).",
		"running_count":    "Number of phones whose job is still running (`status` 1).",
		"successful_count": "Number of phones whose job succeeded (`status` 2).",
		"failed_count":     "Number of phones whose job failed (`status` 3 or -1), plus phones `missing` from their submit's answer.",
		"unknown_count":    "Number of phones whose job has not been read yet or has a `status` none of 0, 1, 2, 3 and -1.",
		"not_submitted_count": "Number of phones the rollout sent nothing to that is known to run: `not_submitted` (the rollout " +
			"stopped before their wave, or their wave's submit was refused) and `submit_unknown` phones.",
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
		"task_id": schema.StringAttribute{MarkdownDescription: "The task of the phone's wave; empty when its wave was not submitted.", Computed: true},
		"job_id": schema.StringAttribute{
			MarkdownDescription: "The phone's job id, from its submit's `cmd_jobs`; empty for a phone without a job.",
			Computed:            true,
		},
		"status": schema.Int64Attribute{MarkdownDescription: jobDescriptions["status"] + " Null until the task has been read, and for a phone without a job.", Computed: true},
		"state": schema.StringAttribute{
			MarkdownDescription: "Meaning of `status`: `pending`, `running`, `successful`, `failed`, `unknown` (not read yet, or a " +
				"`status` not documented); or, for a phone without a job: `missing` (its submit's answer had no job for it, so " +
				"nothing runs there), `not_submitted` (the rollout stopped before its wave, or its wave's submit was refused: " +
				"`error_msg` says which), `submit_unknown` (its wave's submit got no answer that says whether it was accepted: the " +
				"work may run there, and is never sent again).",
			Computed: true,
		},
		"error_code":  schema.StringAttribute{MarkdownDescription: jobDescriptions["error_code"], Computed: true},
		"error_msg":   schema.StringAttribute{MarkdownDescription: jobDescriptions["error_msg"], Computed: true},
		"execute_msg": schema.StringAttribute{MarkdownDescription: jobDescriptions["execute_msg"], Computed: true},
	}
}

// maxParallelWaves bounds parallel_waves: more waves at once than this
// would only queue on the provider's rate limiter.
const maxParallelWaves = 50

// phones is what happened on each phone of a resource, by instance id.
type phones map[string]phoneModel

// addWave records the phones of a wave of a rollout.
func (p phones) addWave(w *rollout.Wave) {
	if w.Submitted {
		for _, ph := range w.Phones() {
			if ph.Job != nil {
				p[ph.InstanceID] = jobResult(w.Submission.TaskID, *ph.Job)
			} else {
				p[ph.InstanceID] = phoneModel{TaskID: w.Submission.TaskID, JobID: ph.JobID, State: string(ph.State)}
			}
		}
		return
	}
	r := phoneModel{State: string(koophone.NotSubmitted), ErrorMsg: fmt.Sprintf("The rollout stopped before wave %d.", w.Number)}
	if unknown, ok := errors.AsType[*koophone.OutcomeUnknownError](w.SubmitErr); ok {
		r.State = string(koophone.SubmitUnknown)
		r.ErrorMsg = fmt.Sprintf("No answer said whether the submit of wave %d was accepted (request id %s): the work may run here.",
			w.Number, unknown.RequestID)
	} else if w.SubmitErr != nil {
		r.ErrorMsg = fmt.Sprintf("The submit of wave %d was refused: %v", w.Number, w.SubmitErr)
		if apiErr, ok := errors.AsType[*koophone.APIError](w.SubmitErr); ok {
			r.ErrorCode = apiErr.Code
		}
	}
	for _, id := range w.InstanceIDs {
		p[id] = r
	}
}

// apply records a read of a task, joining its jobs to its phones by job
// id.
func (p phones) apply(task koophone.Task) {
	read := task.JobsByID()
	for id, r := range p {
		if j, ok := read[r.JobID]; ok && r.TaskID == task.ID {
			p[id] = jobResult(task.ID, j)
		}
	}
}

// jobResult is a phone's result from a read of its job.
func jobResult(taskID string, j koophone.Job) phoneModel {
	return phoneModel{TaskID: taskID, JobID: j.JobID, Status: &j.Status, State: string(j.State()),
		ErrorCode: j.ErrorCode, ErrorMsg: j.ErrorMsg, ExecuteMsg: j.ExecuteMsg}
}

func (p phones) tally() koophone.Tally {
	var t koophone.Tally
	for _, r := range p {
		t.Add(koophone.State(r.State))
	}
	return t
}

// unfinished reports whether the phone has a job that has not finished.
func (p phoneModel) unfinished() bool {
	switch koophone.State(p.State) {
	case koophone.Pending, koophone.Running, koophone.Unknown:
		return p.TaskID != "" && p.JobID != ""
	}
	return false
}

// unfinished are the tasks of the phones whose job has not finished, each
// with those phones' jobs, in task id order.
func (p phones) unfinished() []taskwait.Target {
	jobs := map[string][]string{}
	for _, id := range p.instanceIDs(nil) {
		if r := p[id]; r.unfinished() {
			jobs[r.TaskID] = append(jobs[r.TaskID], r.JobID)
		}
	}
	targets := make([]taskwait.Target, 0, len(jobs))
	for _, task := range slices.Sorted(maps.Keys(jobs)) {
		targets = append(targets, taskwait.Target{TaskID: task, JobIDs: jobs[task]})
	}
	return targets
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
	s.NotSubmittedCount = types.Int64Value(int64(t.NotSubmitted))
	return diags
}

func (s *submitModel) phones(ctx context.Context) (phones, diag.Diagnostics) {
	p := phones{}
	diags := s.Results.ElementsAs(ctx, (*map[string]phoneModel)(&p), false)
	return p, diags
}

var (
	phoneAttrTypes = attrTypesOf(phoneAttributes())
	phoneType      = types.ObjectType{AttrTypes: phoneAttrTypes}
)

func attrTypesOf(attrs map[string]schema.Attribute) map[string]attr.Type {
	types := make(map[string]attr.Type, len(attrs))
	for name, a := range attrs {
		types[name] = a.GetType()
	}
	return types
}

// ModifyPlan makes the plan of an update show the phones it touches: the
// phones that stay keep their results, unless the update will wait for
// them; those added are known after apply; the outcome, counts and task
// ids stay known when nothing is submitted or waited for.
func (r *submitResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || len(resp.RequiresReplace) > 0 {
		return // a create, a destroy or a replace: nothing is kept
	}
	m, prior := r.newModel(), r.newModel()
	resp.Diagnostics.Append(req.Plan.Get(ctx, m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, prior)...)
	s, was := m.shared(), prior.shared()
	if resp.Diagnostics.HasError() || s.InstanceIDs.IsUnknown() || slices.ContainsFunc(s.InstanceIDs.Elements(), attr.Value.IsUnknown) ||
		s.WaitForCompletion.IsUnknown() {
		return
	}
	results, diags := was.phones(ctx)
	instanceIDs, moreDiags := idSet(ctx, s.InstanceIDs)
	diags.Append(moreDiags...)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	kept, planned := phones{}, make(map[string]attr.Value, len(instanceIDs))
	added, waited := false, false
	for _, id := range instanceIDs {
		p, ok := results[id]
		if !ok || s.WaitForCompletion.ValueBool() && p.unfinished() {
			added, waited = added || !ok, waited || ok
			planned[id] = types.ObjectUnknown(phoneAttrTypes)
			continue
		}
		kept[id] = p
		v, d := types.ObjectValueFrom(ctx, phoneAttrTypes, p)
		resp.Diagnostics.Append(d...)
		planned[id] = v
	}
	if resp.Diagnostics.HasError() {
		return
	}
	s.Results = types.MapValueMust(phoneType, planned)
	if !added {
		s.TaskIDs = was.TaskIDs
		if !waited {
			resp.Diagnostics.Append(s.setPhones(ctx, kept)...)
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, m)...)
}

// settings resolves the arguments of a create or an update.
func (s *submitModel) settings(ctx context.Context, creating bool) (rollout.Options, waitSettings, diag.Diagnostics) {
	opts, ws := s.options()
	ws.TimeoutName = "timeouts.update"
	var diags diag.Diagnostics
	if creating {
		ws.TimeoutName = "timeouts.create"
		ws.Timeout, diags = s.Timeouts.Create(ctx, defaultApplyTimeout)
	} else {
		ws.Timeout, diags = s.Timeouts.Update(ctx, defaultApplyTimeout)
	}
	return opts, ws, diags
}

// rollOut submits the work to instanceIDs in waves, records every phone
// in results and every task in the model, and explains a rollout that
// did not end well. It reports whether any wave was submitted.
func (r *submitResource) rollOut(ctx context.Context, m submitter, instanceIDs []string, results phones, opts rollout.Options,
	ws waitSettings, creating bool, diags *diag.Diagnostics,
) bool {
	s := m.shared()
	start := time.Now()
	opts.Observer = tflogObserver{}
	opts.WaveContext = waveContext
	opts.Submitted = func(ctx context.Context, w *rollout.Wave) {
		tflog.Info(ctx, "Submitted KooPhone "+r.noun, map[string]any{
			"task_id": w.Submission.TaskID, "request_id": w.Submission.RequestID,
			"phones": len(w.InstanceIDs), "jobs": len(w.Submission.Jobs),
		})
	}
	out := rollout.Run(ctx, r.data.client, func(ctx context.Context, ids []string) (koophone.Submission, error) {
		return m.submit(ctx, r.data.client, ids)
	}, instanceIDs, opts)
	taskIDs := taskIDsOf(ctx, s.TaskIDs)
	submitted := false
	for _, w := range out.Waves {
		results.addWave(w)
		if w.Submitted {
			if s.TaskID.IsUnknown() || s.TaskID.IsNull() {
				s.ID, s.TaskID, s.RequestID = types.StringValue(w.Submission.TaskID), types.StringValue(w.Submission.TaskID),
					types.StringValue(w.Submission.RequestID)
			}
			taskIDs, submitted = append(taskIDs, w.Submission.TaskID), true
		}
	}
	s.TaskIDs, _ = types.ListValueFrom(ctx, types.StringType, taskIDs)
	if !submitted && creating {
		// Nothing exists: the error says why, and nothing is kept.
		err := context.Cause(ctx)
		if tried := slices.IndexFunc(out.Waves, (*rollout.Wave).Tried); tried >= 0 {
			err = out.Waves[tried].SubmitErr
		}
		diags.Append(submitDiagnostic(r.noun, err, fmt.Sprintf("The %s to %d phone(s)", r.noun, len(instanceIDs)), "", r.data))
		return false
	}
	diags.Append(rolloutDiagnostics(r.noun, out, results, ws, opts.MaxFailed, resourceEpilogue(creating), time.Since(start), r.data)...)
	return submitted
}

// waveContext logs a wave's requests and polls with its number.
func waveContext(ctx context.Context, wave int) context.Context {
	return tflog.SetField(ctx, "wave", wave)
}

func taskIDsOf(ctx context.Context, l types.List) []string {
	var ids []string
	if !l.IsNull() && !l.IsUnknown() {
		l.ElementsAs(ctx, &ids, false)
	}
	return ids
}

func (r *submitResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	m := r.newModel()
	resp.Diagnostics.Append(req.Plan.Get(ctx, m)...)
	if resp.Diagnostics.HasError() || !clientReady(r.data, &resp.Diagnostics) {
		return
	}
	s := m.shared()
	opts, ws, diags := s.settings(ctx, true)
	resp.Diagnostics.Append(diags...)
	instanceIDs, diags := idSet(ctx, s.InstanceIDs)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	ctx = withSecretsMasked(ctx, r.data.secrets)
	ctx, cancel := withTimeout(ctx, ws.TimeoutName, ws.Timeout)
	defer cancel()

	results := phones{}
	if !r.rollOut(ctx, m, instanceIDs, results, opts, ws, true, &resp.Diagnostics) {
		return
	}
	// A task exists: whatever happened, state keeps it.
	saveState(ctx, m, results, &resp.State, &resp.Diagnostics)
}

// saveState writes the phones' results, and the rest of m, into state.
func saveState(ctx context.Context, m submitter, results phones, state *tfsdk.State, diags *diag.Diagnostics) {
	diags.Append(m.shared().setPhones(ctx, results)...)
	diags.Append(state.Set(ctx, m)...)
}

// wait waits until the phones of earlier rollouts still running have
// finished, and records what it saw. It reports whether the wait ended
// well.
func (r *submitResource) wait(ctx context.Context, results phones, ws waitSettings, diags *diag.Diagnostics) bool {
	targets := results.unfinished()
	if len(targets) == 0 {
		return true
	}
	start := time.Now()
	reads := taskwait.Read(ctx, r.data.client, targets, taskwait.Options{Wait: true, PollInterval: ws.PollInterval, Observer: tflogObserver{many: len(targets) > 1}})
	failed := false
	for _, res := range reads {
		if res.Observed {
			results.apply(res.Task)
		}
		failed = failed || res.Err != nil
	}
	if failed {
		diags.Append(waitDiagnostic(r.noun, context.Cause(ctx), reads, results, ws, resourceEpilogue(false).kept, time.Since(start), "", r.data))
	}
	return !failed
}

// Read refreshes the tasks that still have unfinished phones with one read
// each. A finished task is never read again, so a refresh of many
// finished resources costs no request; a task the API has forgotten stays
// in state.
func (r *submitResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	m := r.newModel()
	resp.Diagnostics.Append(req.State.Get(ctx, m)...)
	s := m.shared()
	if resp.Diagnostics.HasError() || s.State.ValueString() != string(koophone.Running) {
		return
	}
	results, diags := s.phones(ctx)
	resp.Diagnostics.Append(diags...)
	targets := results.unfinished()
	if resp.Diagnostics.HasError() || len(targets) == 0 || !clientReady(r.data, &resp.Diagnostics) {
		return
	}
	ctx = withSecretsMasked(ctx, r.data.secrets)
	for _, res := range taskwait.Read(ctx, r.data.client, targets, taskwait.Options{Observer: tflogObserver{many: len(targets) > 1}}) {
		if res.Observed {
			results.apply(res.Task)
		} else if res.Err != nil && !errors.Is(res.Err, taskwait.ErrAbandoned) {
			resp.Diagnostics.Append(refreshDiagnostic(r.noun, res.TaskID, s.State.ValueString(), res.Err, r.data))
		}
	}
	saveState(ctx, m, results, &resp.State, &resp.Diagnostics)
}

// Update submits to the phones added to instance_ids, drops the phones
// removed from it, and, when waiting is asked for, waits for the phones
// still running; every other argument that it may change only shapes
// later rollouts and waits.
func (r *submitResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	m, prior := r.newModel(), r.newModel()
	resp.Diagnostics.Append(req.Plan.Get(ctx, m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, was := m.shared(), prior.shared()
	opts, ws, diags := s.settings(ctx, false)
	resp.Diagnostics.Append(diags...)
	results, diags := was.phones(ctx)
	resp.Diagnostics.Append(diags...)
	instanceIDs, diags := idSet(ctx, s.InstanceIDs)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	s.ID, s.TaskID, s.RequestID, s.TaskIDs = was.ID, was.TaskID, was.RequestID, was.TaskIDs
	keep := make(map[string]bool, len(instanceIDs))
	var added []string
	for _, id := range instanceIDs {
		if keep[id] = true; results[id] == (phoneModel{}) {
			added = append(added, id)
		}
	}
	maps.DeleteFunc(results, func(id string, _ phoneModel) bool { return !keep[id] })
	defer saveState(ctx, m, results, &resp.State, &resp.Diagnostics)

	running := ws.Wait && len(results.unfinished()) > 0
	budget := opts.MaxFailed
	// A wait for earlier phones, or fail_on_job_failure turned on, judges
	// the phones already in results.
	judge := running || ws.FailOnJobFailure && !was.FailOnJobFailure.ValueBool()
	if running || len(added) > 0 {
		if !clientReady(r.data, &resp.Diagnostics) {
			return
		}
		ctx = withSecretsMasked(ctx, r.data.secrets)
		ctx, cancel := withTimeout(ctx, ws.TimeoutName, ws.Timeout)
		defer cancel()
		if running && !r.wait(ctx, results, ws, &resp.Diagnostics) {
			return
		}
		if len(added) > 0 {
			r.rollOut(ctx, m, added, results, opts, ws, false, &resp.Diagnostics)
		}
	}
	if judge && ws.FailOnJobFailure && !resp.Diagnostics.HasError() && results.tally().Failed > budget {
		end := resourceEpilogue(false)
		resp.Diagnostics.AddError(failedPhones(r.noun, results, overBudgetNote(budget)+" and fail_on_job_failure is true", "", end.kept+" "+end.accept))
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
