package koophone

import "strings"

// Job status values as the API returns them in jobs[].status. Command
// tasks (async-command) report 1, 2 and -1; app-install tasks report 0, 1,
// 2 and 3 (Huawei's SDK, JobDetail, since 3.1.164).
const (
	StatusPending       = 0
	StatusRunning       = 1
	StatusSucceeded     = 2
	StatusInstallFailed = 3
	StatusFailed        = -1
)

// State is where a job, a phone or a task stands: one type for all three,
// so that one rule (Tally.Outcome) decides every outcome. A job status the
// API has not documented is Unknown, which counts as not finished.
type State string

// The states; a task is only ever Running, Successful or Failed.
const (
	Pending    State = "pending"
	Running    State = "running"
	Successful State = "successful"
	Failed     State = "failed"
	Unknown    State = "unknown"
	// Missing is a phone that a submit's answer has no job for: nothing
	// runs there, so it counts as failed.
	Missing State = "missing"
	// NotSubmitted is a phone of a rollout that stopped before its wave,
	// or whose wave's submit was refused.
	NotSubmitted State = "not_submitted"
	// SubmitUnknown is a phone whose wave's submit got no answer saying
	// whether it was accepted: the work may run there.
	SubmitUnknown State = "submit_unknown"
)

// Task types, derived from the task id.
const (
	TaskTypeAppInstall = "app_install"
	TaskTypeCommand    = "command"
)

// Task is one asynchronous KooPhone task: one job per cloud phone, in the
// API's order.
type Task struct {
	ID        string
	Jobs      []Job
	RequestID string // of the request that read the task
}

// Job is the work of a task on one cloud phone; the submit's answer says
// which.
type Job struct {
	JobID      string
	Status     int64  // as returned: see the Status constants
	ErrorCode  string // such as CPS0005
	ErrorMsg   string
	ExecuteMsg string // the command's output
}

// State maps the job's numeric status to its meaning.
func (j Job) State() State {
	switch j.Status {
	case StatusPending:
		return Pending
	case StatusRunning:
		return Running
	case StatusSucceeded:
		return Successful
	case StatusFailed, StatusInstallFailed:
		return Failed
	default:
		return Unknown
	}
}

// Tally counts jobs, phones or tasks by state. Its Outcome decides every
// outcome the provider reports: of a task, a resource, or many tasks.
type Tally struct {
	Total, Pending, Running, Successful, Failed, Unknown int
	// NotSubmitted counts the phones that no job is known to run on:
	// NotSubmitted and SubmitUnknown. They have ended, unsuccessfully.
	NotSubmitted int
}

// Add counts one more item in state s.
func (t *Tally) Add(s State) {
	t.Total++
	switch s {
	case Pending:
		t.Pending++
	case Running:
		t.Running++
	case Successful:
		t.Successful++
	case Failed, Missing:
		t.Failed++
	case NotSubmitted, SubmitUnknown:
		t.NotSubmitted++
	default:
		t.Unknown++
	}
}

// Merge adds the counts of u.
func (t *Tally) Merge(u Tally) {
	t.Total += u.Total
	t.Pending += u.Pending
	t.Running += u.Running
	t.Successful += u.Successful
	t.Failed += u.Failed
	t.Unknown += u.Unknown
	t.NotSubmitted += u.NotSubmitted
}

// Finished is the number of items in a final state.
func (t Tally) Finished() int { return t.Successful + t.Failed + t.NotSubmitted }

// Outcome is Running while anything is unfinished, or while there is
// nothing yet (a task that lists no job has not finished); once everything
// has finished, Failed if anything failed or was not submitted, else
// Successful.
func (t Tally) Outcome() State {
	switch {
	case t.Total == 0 || t.Finished() < t.Total:
		return Running
	case t.Failed > 0 || t.NotSubmitted > 0:
		return Failed
	default:
		return Successful
	}
}

// Tally counts the task's jobs by state.
func (t Task) Tally() Tally {
	var s Tally
	for _, j := range t.Jobs {
		s.Add(j.State())
	}
	return s
}

// JobsByID indexes the task's jobs by job id.
func (t Task) JobsByID() map[string]Job {
	jobs := make(map[string]Job, len(t.Jobs))
	for _, j := range t.Jobs {
		jobs[j.JobID] = j
	}
	return jobs
}

// TaskTypeOf derives a task's type from its id: app installs carry a ZGCA
// or FULFILL prefix, async commands do not.
func TaskTypeOf(taskID string) string {
	if strings.HasPrefix(taskID, "ZGCA") || strings.HasPrefix(taskID, "FULFILL") {
		return TaskTypeAppInstall
	}
	return TaskTypeCommand
}
