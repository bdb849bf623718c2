package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// A reboot answers with no task, and a reset with one only since SDK
// 3.1.198 (and the task query may not know its RM_ ids): their outcome
// shows in the phones' status (POST /v1/instances/batch-query-status). So
// that they go through the same wave engine and wait engine as the
// submits, phoneStatusReader reads such a wave as if it were a task: one
// job per phone, whose status it derives from the phone's.
//
// A phone has finished once it reports running after it was seen in
// another state (it went down and came back), or reports running once
// statusSettle has passed since the request (it came back before the
// first poll). It has failed once it reports stopped or shut down after it
// was seen starting, or still does statusGiveUp after the request: it did
// not come back. Any other status keeps it running until the invocation's
// timeout, which names its last status.

const (
	// statusSettle is how long after a reboot or reset a phone that never
	// reported another status than running counts as back.
	statusSettle = 30 * time.Second
	// statusGiveUp is how long a phone may report stopped or shut down,
	// which it passes through while it goes down, before it has failed.
	statusGiveUp = 5 * time.Minute
)

// syntheticTaskPrefix marks the key of a wave that has no task.
const syntheticTaskPrefix = "request "

// phoneStatusReader is a taskwait.Reader: it reads real tasks through the
// client, and the waves registered with it through the phones' status.
type phoneStatusReader struct {
	client *koophone.Client

	mu    sync.Mutex
	waves map[string]*statusWave // by task id, real or synthetic
}

// statusWave is a wave followed through its phones' status.
type statusWave struct {
	since    time.Time
	jobs     map[string]string // instance id -> job id
	byStatus bool              // false while its real task can be read
	phones   map[string]*phoneWatch
}

// phoneWatch is what the polls have seen of one phone.
type phoneWatch struct {
	left, starting bool
	done           *koophone.Job // once it has finished
}

// noTask registers the wave of a request that answered with no task, and
// returns its submission: a key of its own, and a job per phone.
func (r *phoneStatusReader) noTask(requestID string, instanceIDs []string) koophone.Submission {
	sub := koophone.Submission{TaskID: syntheticTaskPrefix + requestID, RequestID: requestID}
	for _, id := range instanceIDs {
		sub.Jobs = append(sub.Jobs, koophone.SubmittedJob{InstanceID: id, JobID: id})
	}
	r.register(sub, true)
	return sub
}

// withTask registers the wave of a request that answered with a task, to
// fall back on its phones' status if the task query does not know it.
func (r *phoneStatusReader) withTask(sub koophone.Submission) {
	r.register(sub, false)
}

func (r *phoneStatusReader) register(sub koophone.Submission, byStatus bool) {
	w := &statusWave{since: time.Now(), jobs: map[string]string{}, byStatus: byStatus, phones: map[string]*phoneWatch{}}
	for _, j := range sub.Jobs {
		w.jobs[j.InstanceID] = j.JobID
		w.phones[j.InstanceID] = &phoneWatch{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waves == nil {
		r.waves = map[string]*statusWave{}
	}
	r.waves[sub.TaskID] = w
}

// byStatus reports whether the wave keyed taskID has no task to read.
func (r *phoneStatusReader) byStatus(taskID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.waves[taskID]
	return ok && w.byStatus
}

func (r *phoneStatusReader) GetTask(ctx context.Context, taskID string) (koophone.Task, error) {
	return r.read(ctx, taskID, r.client.GetTask)
}

func (r *phoneStatusReader) GetTaskOnce(ctx context.Context, taskID string) (koophone.Task, error) {
	return r.read(ctx, taskID, r.client.GetTaskOnce)
}

func (r *phoneStatusReader) read(ctx context.Context, taskID string, get func(context.Context, string) (koophone.Task, error)) (koophone.Task, error) {
	r.mu.Lock()
	w := r.waves[taskID]
	byStatus := w != nil && w.byStatus
	r.mu.Unlock()
	if w == nil {
		return get(ctx, taskID)
	}
	if !byStatus {
		t, err := get(ctx, taskID)
		if !errors.Is(err, koophone.ErrTaskNotFound) {
			return t, err
		}
		tflog.Warn(ctx, "The KooPhone task query does not know this task; following its phones' status instead", map[string]any{"task_id": taskID})
		r.mu.Lock()
		w.byStatus = true
		r.mu.Unlock()
	}
	ids := slices.Sorted(maps.Keys(w.jobs))
	statuses, err := r.client.InstanceStatuses(ctx, ids)
	if err != nil {
		return koophone.Task{}, err
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	task := koophone.Task{ID: taskID}
	for _, id := range ids {
		status, listed := statuses[id]
		task.Jobs = append(task.Jobs, w.phones[id].observe(w.jobs[id], status, listed, now.Sub(w.since)))
	}
	return task, nil
}

// observe records one poll of a phone and returns its job as the wave's
// task would list it.
func (p *phoneWatch) observe(jobID string, status int64, listed bool, since time.Duration) koophone.Job {
	if p.done != nil {
		return *p.done
	}
	word := phoneStatusWord(status)
	job := koophone.Job{JobID: jobID, Status: koophone.StatusRunning, ExecuteMsg: "phone status: " + word}
	switch {
	case !listed:
		job.ExecuteMsg = "not in the phone status answer"
	case status == koophone.PhoneStatusRunning && (p.left || since >= statusSettle):
		job.Status = koophone.StatusSucceeded
		p.done = &job
	case status == koophone.PhoneStatusRunning:
	case (status == koophone.PhoneStatusStopped || status == koophone.PhoneStatusShutDown) && (p.starting || since >= statusGiveUp):
		job.Status = koophone.StatusFailed
		job.ErrorMsg = fmt.Sprintf("The phone reported %s %s after the request: it did not come back.", word, since.Round(time.Second))
		if p.starting {
			job.ErrorMsg = fmt.Sprintf("The phone was starting, then reported %s: it did not come back.", word)
		}
		p.done = &job
	default:
		p.left = true
		p.starting = p.starting || status == koophone.PhoneStatusStarting
	}
	return job
}

// phoneStatusWord names a phone status with koophone_instances' word for
// it (the status query and the listing's running_status share their
// values), such as "starting (4)"; any other number as is.
func phoneStatusWord(status int64) string {
	if status >= 0 && status < int64(len(runningStates)) {
		return fmt.Sprintf("%s (%d)", runningStates[status], status)
	}
	return fmt.Sprintf("status %d", status)
}

var _ taskwait.Reader = (*phoneStatusReader)(nil)
