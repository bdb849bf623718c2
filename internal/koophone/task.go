package koophone

import (
	"strings"
)

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

// JobState is the meaning of a job's numeric status.
type JobState string

// The states a job can be in. A status the API has not documented is kept
// as returned and reported as JobUnknown, never mistaken for an outcome:
// an unknown job counts as not finished.
const (
	JobPending    JobState = "pending"
	JobRunning    JobState = "running"
	JobSuccessful JobState = "successful"
	JobFailed     JobState = "failed"
	JobUnknown    JobState = "unknown"
)

// TaskState is the aggregate state of all jobs of a task.
type TaskState string

// The states a task can be in.
const (
	// TaskRunning: some job is pending, running or in an unknown state,
	// or the task has no job yet.
	TaskRunning TaskState = "running"
	// TaskSuccessful: every job succeeded.
	TaskSuccessful TaskState = "successful"
	// TaskFailed: every job has finished and at least one failed.
	TaskFailed TaskState = "failed"
)

// Task types, derived from the task id.
const (
	TaskTypeAppInstall = "app_install"
	TaskTypeCommand    = "command"
)

// Task is one asynchronous KooPhone task: one job per cloud phone.
type Task struct {
	// ID is the task id that was asked for.
	ID string
	// Jobs are the task's jobs in the order the API returned them.
	Jobs []Job
	// RequestID identifies the request that read the task.
	RequestID string
}

// Job is the work of a task on one cloud phone.
type Job struct {
	// JobID identifies the job; the submit call maps it to an instance id.
	JobID string
	// Status is the numeric status as returned (see the Status constants).
	Status int64
	// ErrorCode is the job's error code (for example CPS0005), or "".
	ErrorCode string
	// ErrorMsg describes the job's error, or "".
	ErrorMsg string
	// ExecuteMsg is the command output (at most 1,024 bytes), or "".
	ExecuteMsg string
}

// State maps the job's numeric status to its meaning.
func (j Job) State() JobState {
	switch j.Status {
	case StatusPending:
		return JobPending
	case StatusRunning:
		return JobRunning
	case StatusSucceeded:
		return JobSuccessful
	case StatusFailed, StatusInstallFailed:
		return JobFailed
	default:
		return JobUnknown
	}
}

// Summary counts a task's jobs by state and derives the task's state.
type Summary struct {
	Jobs       int
	Pending    int
	Running    int
	Successful int
	Failed     int
	Unknown    int
	State      TaskState
}

// Done reports whether every job has finished (and there is at least one).
func (s Summary) Done() bool { return s.State != TaskRunning }

// Finished is the number of jobs that reached a final state.
func (s Summary) Finished() int { return s.Successful + s.Failed }

// add counts one more job in the state given.
func (s *Summary) add(state JobState) {
	s.Jobs++
	switch state {
	case JobPending:
		s.Pending++
	case JobRunning:
		s.Running++
	case JobSuccessful:
		s.Successful++
	case JobFailed:
		s.Failed++
	default:
		s.Unknown++
	}
}

// Summary counts the task's jobs and derives its state.
func (t Task) Summary() Summary {
	var s Summary
	for _, j := range t.Jobs {
		s.add(j.State())
	}
	switch {
	case s.Jobs == 0 || s.Finished() < s.Jobs:
		s.State = TaskRunning
	case s.Failed > 0:
		s.State = TaskFailed
	default:
		s.State = TaskSuccessful
	}
	return s
}

// FailedJobs returns the jobs whose state is failed, in API order.
func (t Task) FailedJobs() []Job {
	var failed []Job
	for _, j := range t.Jobs {
		if j.State() == JobFailed {
			failed = append(failed, j)
		}
	}
	return failed
}

// TaskTypeOf derives a task's type from its id: app installs carry a ZGCA
// or FULFILL prefix, async commands do not.
func TaskTypeOf(taskID string) string {
	if strings.HasPrefix(taskID, "ZGCA") || strings.HasPrefix(taskID, "FULFILL") {
		return TaskTypeAppInstall
	}
	return TaskTypeCommand
}
