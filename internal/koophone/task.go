package koophone

import (
	"strings"
)

// Job status values as the API returns them in jobs[].status.
const (
	StatusRunning   = 1
	StatusSucceeded = 2
	StatusFailed    = -1
)

// JobState is the meaning of a job's numeric status.
type JobState string

// The states a job can be in. Any status other than 1, 2 and -1 is kept as
// returned and reported as JobUnknown, so a new value added by KooPhone is
// never mistaken for success.
const (
	JobRunning    JobState = "running"
	JobSuccessful JobState = "successful"
	JobFailed     JobState = "failed"
	JobUnknown    JobState = "unknown"
)

// TaskState is the aggregate state of all jobs of a task.
type TaskState string

// The states a task can be in.
const (
	// TaskRunning: some job is running or in an unknown state, or the task
	// has no job yet.
	TaskRunning TaskState = "running"
	// TaskSuccessful: every job succeeded.
	TaskSuccessful TaskState = "successful"
	// TaskFailed: no job is running and at least one failed.
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
	// Status is the numeric status as returned: 1 running, 2 succeeded,
	// -1 failed, anything else unknown.
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
	case StatusRunning:
		return JobRunning
	case StatusSucceeded:
		return JobSuccessful
	case StatusFailed:
		return JobFailed
	default:
		return JobUnknown
	}
}

// Summary counts a task's jobs by state and derives the task's state.
type Summary struct {
	Jobs       int
	Running    int
	Successful int
	Failed     int
	Unknown    int
	State      TaskState
}

// Done reports whether no job is left running (or in an unknown state).
func (s Summary) Done() bool { return s.State != TaskRunning }

// Finished is the number of jobs that reached a final state.
func (s Summary) Finished() int { return s.Successful + s.Failed }

// Summary counts the task's jobs and derives its state.
func (t Task) Summary() Summary {
	s := Summary{Jobs: len(t.Jobs)}
	for _, j := range t.Jobs {
		switch j.State() {
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
	switch {
	case s.Jobs == 0 || s.Running > 0 || s.Unknown > 0:
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
