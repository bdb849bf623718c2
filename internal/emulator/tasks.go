package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("5s", "250ms"), so seed files and admin calls stay readable.
// JSON null and "" mean zero.
type Duration time.Duration

// String formats the duration the way time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as a Go duration string (and therefore
// as a JSON string).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string; "" is zero.
func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want a Go duration such as \"5s\" or \"250ms\")", b)
	}
	*d = Duration(v)
	return nil
}

// TaskSpec describes a task to seed directly, bypassing the POST APIs, so
// tests can script exactly what the task query returns and when.
type TaskSpec struct {
	// TaskID is the id to query it by; "" generates 32 lowercase hex
	// chars. It must be 1..64 of [A-Za-z0-9_.-] (it appears in a URL path).
	TaskID string `json:"task_id"`
	// Jobs are reported in this order. A task may have no jobs.
	Jobs []JobSpec `json:"jobs"`
	// VisibleAfter: GET answers "task not found" (KOOPHONE.API.1323) until
	// this much time has passed since AddTask, to model eventual consistency
	// after a submit.
	VisibleAfter Duration `json:"visible_after"`
	// VisibleAfterPolls: GET also answers "task not found" for the first
	// N GETs of this task that reach the handler (faulted requests do not
	// count). Both conditions must be met for the task to be visible.
	VisibleAfterPolls int `json:"visible_after_polls"`
}

// JobSpec describes one job of a seeded task and when it finishes.
type JobSpec struct {
	// JobID is the job's id; "" generates 32 lowercase hex chars. It must
	// be unique within the task.
	JobID string `json:"job_id"`
	// InstanceID is informational only: the real GET response carries no
	// instance id.
	InstanceID string `json:"instance_id"`
	// Status is the final status reported once the job is done:
	// StatusSucceeded, StatusFailed (commands), StatusInstallFailed (app
	// installs), StatusRunning (never finishes, for timeout tests),
	// StatusPending (never starts), or any other int, reported verbatim to
	// test how the client treats unknown statuses.
	Status int `json:"status"`
	// ErrorCode, ErrorMsg and ExecuteMsg are reported once the job is
	// final; nil becomes JSON null, so tests can cover null vs "".
	ErrorCode  *string `json:"error_code"`
	ErrorMsg   *string `json:"error_msg"`
	ExecuteMsg *string `json:"execute_msg"`
	// After: the job is not final until this much time has passed since
	// AddTask.
	After Duration `json:"after"`
	// AfterPolls: ...and until the task has been read this many times. The
	// job is final on read k (1-based, counting only GETs that returned the
	// task) when k > AfterPolls and the elapsed time >= After. Both zero
	// means final at once.
	AfterPolls int `json:"after_polls"`
	// StartAfter and StartAfterPolls: until both have passed (as After and
	// AfterPolls do), a job that is not final reports StatusPending (0),
	// as an app install that has not started does; then StatusRunning (1).
	// Both zero means the job reports StatusRunning until it is final.
	StartAfter      Duration `json:"start_after"`
	StartAfterPolls int      `json:"start_after_polls"`
	// ListedAfter and ListedAfterPolls: until both have passed (as After
	// and AfterPolls do: the job is listed on read k when k >
	// ListedAfterPolls and the elapsed time >= ListedAfter), the task's
	// GET answer leaves the job out entirely, as the real API can list
	// the jobs of a new task late: the submit's cmd_jobs names a job that
	// the task query does not list yet. A very long ListedAfter makes a
	// job that is never listed. Both zero means listed at once.
	ListedAfter      Duration `json:"listed_after"`
	ListedAfterPolls int      `json:"listed_after_polls"`
}

// task is a stored task with its progress counters.
type task struct {
	spec     TaskSpec
	created  time.Time
	attempts int // GETs that reached the handler, visible or not
	reads    int // GETs that returned the task
	// app is what the task's successful jobs install, for an app install
	// submitted through the API; nil for other tasks.
	app *App
}

const maxIDLen = 64

func validTaskID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("must be 1 to %d characters, got %d", maxIDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return fmt.Errorf("character %q at byte %d is not allowed (allowed: letters, digits, _ . -)", c, i)
		}
	}
	if id == "." || id == ".." {
		return errors.New("must not be a dot path segment")
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// AddTask stores a task so GET /v1/instances/tasks/{id} can return it, and
// returns its id. Its timers (VisibleAfter, and After, StartAfter and
// ListedAfter of its jobs) start now. It fails for an invalid or duplicate
// task id, invalid or duplicate job ids, or negative delays/poll counts.
func (e *Emulator) AddTask(spec TaskSpec) (string, error) {
	id, err := e.addTask(spec)
	if err != nil {
		return "", fmt.Errorf("emulator: %w", err)
	}
	return id, nil
}

// addTask is AddTask with errors that name the field (see fieldError).
func (e *Emulator) addTask(spec TaskSpec) (string, error) {
	spec.Jobs = append([]JobSpec(nil), spec.Jobs...)
	if err := validateTask(&spec); err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.tasks[spec.TaskID]; dup {
		return "", fieldErr("task_id", "a task %q already exists", spec.TaskID)
	}
	e.storeTask(spec.TaskID, &task{spec: spec, created: e.now()})
	return spec.TaskID, nil
}

// validateTask checks spec and fills in the ids it leaves empty.
func validateTask(spec *TaskSpec) error {
	if spec.TaskID == "" {
		spec.TaskID = newTaskID()
	} else if err := validTaskID(spec.TaskID); err != nil {
		return fieldErr("task_id", "%q: %v", spec.TaskID, err)
	}
	if spec.VisibleAfter < 0 {
		return fieldErr("visible_after", "must not be negative, got %s", spec.VisibleAfter)
	}
	if spec.VisibleAfterPolls < 0 {
		return fieldErr("visible_after_polls", "must not be negative, got %d", spec.VisibleAfterPolls)
	}
	seen := make(map[string]int, len(spec.Jobs))
	for i := range spec.Jobs {
		j := &spec.Jobs[i]
		if j.JobID == "" {
			j.JobID = newJobID()
		}
		if len(j.JobID) > maxIDLen || !utf8.ValidString(j.JobID) {
			return fieldErr(fmt.Sprintf("jobs[%d].job_id", i), "must be valid UTF-8 of at most %d bytes", maxIDLen)
		}
		if prev, dup := seen[j.JobID]; dup {
			return fieldErr(fmt.Sprintf("jobs[%d].job_id", i), "%q duplicates jobs[%d]", j.JobID, prev)
		}
		seen[j.JobID] = i
		for _, d := range []struct {
			name  string
			value int64
		}{{"after", int64(j.After)}, {"after_polls", int64(j.AfterPolls)}, {"start_after", int64(j.StartAfter)}, {"start_after_polls", int64(j.StartAfterPolls)},
			{"listed_after", int64(j.ListedAfter)}, {"listed_after_polls", int64(j.ListedAfterPolls)}} {
			if d.value < 0 {
				return fieldErr(fmt.Sprintf("jobs[%d].%s", i, d.name), "must not be negative")
			}
		}
	}
	return nil
}

// Reads returns how many GETs returned the task (visible, successful
// reads, including ones whose response a truncate or wrong_content_type
// fault then mangled), so tests can assert the poller's read count.
func (e *Emulator) Reads(taskID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.tasks[taskID]; t != nil {
		return t.reads
	}
	return 0
}

// TaskInstances returns the instance ids of a task's jobs, in job order
// (the submit's phones, for a task created by a submit), so tests can see
// which phones a submit went to; nil for an unknown task.
func (e *Emulator) TaskInstances(taskID string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tasks[taskID]
	if t == nil {
		return nil
	}
	ids := make([]string, len(t.spec.Jobs))
	for i, j := range t.spec.Jobs {
		ids[i] = j.InstanceID
	}
	return ids
}

func (e *Emulator) handleGetTask(w http.ResponseWriter, taskID string) {
	jobs, ok := e.readTask(taskID)
	if !ok {
		writeJSON(w, http.StatusBadRequest, envelope{
			ErrorCode: "KOOPHONE.API.1323",
			ErrorMsg:  "The app installation task does not exist.",
		})
		return
	}
	writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "ok", Data: wireJobsData{Jobs: jobs}})
}

// readTask performs one GET of a task: it counts the attempt, checks
// visibility, counts the read and renders the jobs as of now.
func (e *Emulator) readTask(taskID string) ([]wireJob, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tasks[taskID]
	if t == nil {
		return nil, false
	}
	t.attempts++
	elapsed := e.now().Sub(t.created)
	if t.attempts <= t.spec.VisibleAfterPolls || elapsed < time.Duration(t.spec.VisibleAfter) {
		return nil, false
	}
	t.reads++
	k := t.reads
	jobs := make([]wireJob, 0, len(t.spec.Jobs))
	for _, j := range t.spec.Jobs {
		if k <= j.ListedAfterPolls || elapsed < time.Duration(j.ListedAfter) {
			continue // not listed yet
		}
		final := k > j.AfterPolls && elapsed >= time.Duration(j.After)
		started := k > j.StartAfterPolls && elapsed >= time.Duration(j.StartAfter)
		switch {
		case !final && !started:
			jobs = append(jobs, wireJob{JobID: j.JobID, Status: StatusPending, ErrorCode: strPtr(""), ErrorMsg: strPtr("")})
			continue
		case !final || j.Status == StatusRunning:
			jobs = append(jobs, wireJob{JobID: j.JobID, Status: StatusRunning, ErrorCode: strPtr(""), ErrorMsg: strPtr("")})
			continue
		}
		jobs = append(jobs, wireJob{JobID: j.JobID, Status: j.Status, ErrorCode: j.ErrorCode, ErrorMsg: j.ErrorMsg, ExecuteMsg: j.ExecuteMsg})
	}
	return jobs, true
}
