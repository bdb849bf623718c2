package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/rollout"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// The lifecycle that the four actions share; each one's own file holds its
// arguments and its submit.
//
// An action (Terraform 1.14) runs when it is invoked and keeps nothing in
// state. Invoke rolls the operation out in waves with the resources' wave
// engine (package rollout) and the same argument rules, waits on the
// phones it was sent to, streams progress, and ends with the outcome:
// an error that names every failed phone, or one line of counts. Plan
// never calls the API: the framework validates the configuration, and
// there is nothing else to plan.

// defaultActionTimeout is the one deadline of an invocation; a shorter
// one than minActionTimeout could not see a single wave through.
const (
	defaultActionTimeout = 20 * time.Minute
	minActionTimeout     = 10 * time.Second
)

// progressEvery is how often a waiting action repeats its progress when
// nothing changed, so that a long invocation never looks hung.
const progressEvery = time.Minute

// actionModel is what every action takes besides its own arguments.
type actionModel struct {
	rolloutArgs
	Timeout types.String `tfsdk:"timeout"`
}

// operation is an action's model: a pointer to a struct that embeds
// actionModel, with the action's own arguments and submit.
type operation interface {
	common() *actionModel
	// submit sends the operation to one wave's phones. An operation whose
	// outcome shows only in the phones' status registers the wave with
	// phones (see phoneStatusReader).
	submit(ctx context.Context, client *koophone.Client, status *phoneStatusReader, instanceIDs []string) (koophone.Submission, error)
}

// phoneAction is an action that runs an operation on phones.
type phoneAction struct {
	typeSuffix  string // after the provider's name, such as "_instance_reboot"
	noun        string // names the operation in messages, such as "reboot"
	description string
	waitDesc    string // what wait_for_completion waits for
	arguments   map[string]schema.Attribute
	newModel    func() operation
	data        *providerData
}

var _ action.ActionWithConfigure = (*phoneAction)(nil)

func (a *phoneAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + a.typeSuffix
}

func (a *phoneAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (a *phoneAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"instance_ids": schema.ListAttribute{
			MarkdownDescription: "The cloud phones (instance ids): one or more ids of 1 to 32 characters, any number of them. It is a list " +
				"used as a set: an id listed twice counts once; the phones are sorted and sent the " + a.noun + " in that order, in waves " +
				"(see `wave_size`). A set (`toset(...)`) works as well.",
			ElementType: types.StringType,
			Required:    true,
			Validators:  instanceIDsRules,
		},
		"wave_size": schema.Int64Attribute{
			MarkdownDescription: fmt.Sprintf("How many phones one request takes: 1 to %d, the API's limit. Defaults to `%d`.",
				rollout.MaxWaveSize, rollout.MaxWaveSize),
			Optional:   true,
			Validators: waveSizeRules,
		},
		"canary_size": schema.Int64Attribute{
			MarkdownDescription: fmt.Sprintf("When above 0, the first wave has this many phones and runs alone; a failure on any of them "+
				"stops the invocation, whatever `max_failed_phones` allows. 0 to %d. Defaults to `0`, no canary.", rollout.MaxWaveSize),
			Optional:   true,
			Validators: canarySizeRules,
		},
		"max_failed_phones": schema.Int64Attribute{
			MarkdownDescription: "The failure budget: once more phones than this have failed, no further wave is sent. At least 0. " +
				"Defaults to `0`: the first failure stops the next waves.",
			Optional:   true,
			Validators: maxFailedPhonesRules,
		},
		"parallel_waves": schema.Int64Attribute{
			MarkdownDescription: fmt.Sprintf("How many waves run at once, after the canary: 1 to %d. With `1`, a wave is sent only once "+
				"the one before it has finished, so the budget stops the invocation before the next wave. Defaults to `1`.", maxParallelWaves),
			Optional:   true,
			Validators: parallelWavesRules,
		},
		"wait_for_completion": schema.BoolAttribute{
			MarkdownDescription: "When `true`, the invocation " + a.waitDesc + ", with progress as it goes, and reports each phone's " +
				"outcome. When `false`, every wave is sent at once and the invocation ends once they are. Defaults to `true`.",
			Optional: true,
		},
		"poll_interval": schema.StringAttribute{
			MarkdownDescription: pollIntervalDescription("one wave's task (or, for a reboot or a reset without a task, its phones' status)"),
			Optional:            true,
			Validators:          pollIntervalRules,
		},
		"fail_on_job_failure": schema.BoolAttribute{
			MarkdownDescription: "When `true`, failed phones beyond `max_failed_phones` fail the invocation, with an error that lists each " +
				"one's instance id, error code, message and output. When `false`, they are reported in a warning. Defaults to `true`.",
			Optional: true,
		},
		"timeout": schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("The one deadline of the whole invocation, every wave's request and wait included, as a Go "+
				"duration such as `\"45m\"`. At least `%s`. Defaults to `%s`.", minActionTimeout, shortDuration(defaultActionTimeout)),
			Optional:   true,
			Validators: []validator.String{durationAtLeast(minActionTimeout)},
		},
	}
	for name, attr := range a.arguments {
		attrs[name] = attr
	}
	resp.Schema = schema.Schema{MarkdownDescription: a.description, Attributes: attrs}
}

// shortDuration writes 20m0s as 20m.
func shortDuration(d time.Duration) string { return strings.TrimSuffix(d.String(), "0s") }

// settings are the invocation's arguments, with their defaults.
func (m *actionModel) settings() (rollout.Options, waitSettings) {
	opts, ws := m.options()
	ws.Timeout, ws.TimeoutName = defaultActionTimeout, "timeout"
	if d, err := time.ParseDuration(m.Timeout.ValueString()); err == nil {
		ws.Timeout = d
	}
	return opts, ws
}

func (a *phoneAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	m := a.newModel()
	resp.Diagnostics.Append(req.Config.Get(ctx, m)...)
	if resp.Diagnostics.HasError() || !clientReady(a.data, &resp.Diagnostics) {
		return
	}
	instanceIDs, diags := idSet(ctx, m.common().InstanceIDs)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	opts, ws := m.common().settings()
	ctx = withSecretsMasked(ctx, a.data.secrets)
	ctx, cancel := withTimeout(ctx, ws.TimeoutName, ws.Timeout)
	defer cancel()

	client := a.data.client
	reader := &phoneStatusReader{client: client}
	progress := newProgressReport(len(instanceIDs), resp.SendProgress)
	if opts.Wait {
		defer progress.repeat(progressEvery)()
	}
	opts.Observer = progress
	opts.WaveContext = waveContext
	opts.Submitted = func(ctx context.Context, w *rollout.Wave) {
		progress.submitted(w, !reader.byStatus(w.Submission.TaskID))
		tflog.Info(ctx, "Sent KooPhone "+a.noun, map[string]any{
			"task_id": w.Submission.TaskID, "request_id": w.Submission.RequestID, "phones": len(w.InstanceIDs),
		})
	}
	start := time.Now()
	out := rollout.Run(ctx, reader, func(ctx context.Context, ids []string) (koophone.Submission, error) {
		return m.submit(ctx, client, reader, ids)
	}, instanceIDs, opts)

	results := phones{}
	for _, w := range out.Waves {
		results.addWave(w)
	}
	end := actionEpilogue(progress.taskIDs())
	if !out.Waves[0].Tried() { // stopped before the first request
		resp.Diagnostics.Append(submitDiagnostic(a.noun, context.Cause(ctx), fmt.Sprintf("The %s of %s", a.noun, nPhones(len(instanceIDs))), "", a.data))
		return
	}
	resp.Diagnostics.Append(rolloutDiagnostics(a.noun, out, results, ws, opts.MaxFailed, end, time.Since(start), a.data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if t := results.tally(); t.Failed > 0 {
		why := fmt.Sprintf(", within max_failed_phones (%d)", opts.MaxFailed)
		if !ws.FailOnJobFailure {
			why = " (fail_on_job_failure is false)"
		}
		resp.Diagnostics.AddWarning(failedPhones(a.noun, results, why, untriedNote(out), end.kept))
	}
	if !opts.Wait {
		progress.finish(func(_, tasks string) string {
			return fmt.Sprintf("Sent the %s to %s in %d %s; not waited for (wait_for_completion = false)%s.",
				a.noun, nPhones(len(instanceIDs)), len(out.Waves), plural(len(out.Waves), "wave", "waves"), tasks)
		})
		return
	}
	progress.finish(func(line, _ string) string { return "Done: " + line })
}

// actionEpilogue ends an action's errors: an action keeps nothing, so the
// error gives the tasks to read.
func actionEpilogue(taskIDs []string) epilogue {
	e := epilogue{
		kept: "An action keeps nothing in state.",
		accept: "To report failures without failing the invocation, set fail_on_job_failure = false; to let a few phones fail, " +
			"raise max_failed_phones.",
		passing: "so the invocation goes on; the failed phones are listed in the next warning.",
	}
	if len(taskIDs) > 0 {
		e.kept += fmt.Sprintf(" Read its tasks with the koophone_instance_tasks data source: task_ids = [%s].", quoteAll(taskIDs))
	}
	return e
}

func quoteAll(ids []string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(quoted, ", ")
}

// progressReport turns the waves' polls into progress events: one whenever
// the counts change, and one every progressEvery while nothing does.
type progressReport struct {
	sendEvent func(action.InvokeProgressEvent)
	tflogObserver

	mu      sync.Mutex
	total   int                       // the phones of the invocation
	sent    int                       // the phones of the waves sent so far
	tallies map[string]koophone.Tally // the last poll of each wave, by its task id
	tasks   []string                  // the real tasks, in submit order
	last    string
}

func newProgressReport(total int, send func(action.InvokeProgressEvent)) *progressReport {
	if send == nil {
		send = func(action.InvokeProgressEvent) {}
	}
	return &progressReport{sendEvent: send, tflogObserver: tflogObserver{many: true}, total: total, tallies: map[string]koophone.Tally{}}
}

// submitted records a wave that was sent, and its task if it has one.
func (p *progressReport) submitted(w *rollout.Wave, hasTask bool) {
	p.mu.Lock()
	p.sent += len(w.InstanceIDs)
	if hasTask {
		p.tasks = append(p.tasks, w.Submission.TaskID)
	}
	p.mu.Unlock()
}

func (p *progressReport) Polled(ctx context.Context, poll taskwait.Poll) {
	p.tflogObserver.Polled(ctx, poll)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tallies[poll.TaskID] = poll.Tally
	if line := p.lineLocked(); line != p.last {
		p.sendLocked(line)
	}
}

// lineLocked is the progress sentence; p.mu is held.
func (p *progressReport) lineLocked() string {
	var successful, failed int
	for _, t := range p.tallies {
		successful += t.Successful
		failed += t.Failed
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d phones finished (%d successful, %d failed), %d running", successful+failed, p.total, successful, failed,
		p.sent-successful-failed)
	if waiting := p.total - p.sent; waiting > 0 {
		fmt.Fprintf(&b, ", %d not sent yet", waiting)
	}
	b.WriteString(p.tasksSuffixLocked())
	return b.String()
}

// tasksSuffixLocked names the real tasks; p.mu is held.
func (p *progressReport) tasksSuffixLocked() string {
	if len(p.tasks) == 0 {
		return ""
	}
	return "; tasks: " + strings.Join(p.tasks, ", ")
}

func (p *progressReport) taskIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.tasks...)
}

// finish sends the last event, which msg makes of the progress line and
// the tasks' suffix.
func (p *progressReport) finish(msg func(line, tasks string) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendLocked(msg(p.lineLocked(), p.tasksSuffixLocked()))
}

// sendLocked sends msg with p.mu held, so that events go one at a time and
// in order.
func (p *progressReport) sendLocked(msg string) {
	p.last = msg
	p.sendEvent(action.InvokeProgressEvent{Message: msg})
}

// repeat sends the current line every interval until the returned function
// is called, which waits for the last event: the framework reads events
// only until Invoke returns.
func (p *progressReport) repeat(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.mu.Lock()
				p.sendLocked(p.lineLocked())
				p.mu.Unlock()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
