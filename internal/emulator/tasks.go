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
	// this much emulator time has passed since AddTask, to model eventual
	// consistency after a submit.
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
	// After: the job is not final until this much emulator time has
	// passed since AddTask.
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
}

// task is a stored task with its progress counters.
type task struct {
	spec     TaskSpec
	created  time.Time
	attempts int // GETs that reached the handler, visible or not
	reads    int // GETs that returned the task
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
// returns its id. Its timers (After, VisibleAfter) start now on the
// emulator clock. It fails for an invalid or duplicate task id, invalid or
// duplicate job ids, or negative delays/poll counts.
func (e *Emulator) AddTask(spec TaskSpec) (string, error) {
	spec.Jobs = append([]JobSpec(nil), spec.Jobs...)
	if spec.TaskID == "" {
		spec.TaskID = newTaskID()
	} else if err := validTaskID(spec.TaskID); err != nil {
		return "", fmt.Errorf("emulator: task_id %q: %w", spec.TaskID, err)
	}
	if spec.VisibleAfter < 0 {
		return "", fmt.Errorf("emulator: task %s: visible_after must not be negative", spec.TaskID)
	}
	if spec.VisibleAfterPolls < 0 {
		return "", fmt.Errorf("emulator: task %s: visible_after_polls must not be negative", spec.TaskID)
	}
	seen := make(map[string]int, len(spec.Jobs))
	for i := range spec.Jobs {
		j := &spec.Jobs[i]
		if j.JobID == "" {
			j.JobID = newJobID()
		}
		if len(j.JobID) > maxIDLen || !utf8.ValidString(j.JobID) {
			return "", fmt.Errorf("emulator: task %s: jobs[%d].job_id must be valid UTF-8 of at most %d bytes", spec.TaskID, i, maxIDLen)
		}
		if prev, dup := seen[j.JobID]; dup {
			return "", fmt.Errorf("emulator: task %s: jobs[%d].job_id %q duplicates jobs[%d]", spec.TaskID, i, j.JobID, prev)
		}
		seen[j.JobID] = i
		if j.After < 0 || j.AfterPolls < 0 || j.StartAfter < 0 || j.StartAfterPolls < 0 {
			return "", fmt.Errorf("emulator: task %s: jobs[%d]: after, after_polls, start_after and start_after_polls must not be negative", spec.TaskID, i)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.tasks[spec.TaskID]; dup {
		return "", fmt.Errorf("emulator: task %s already exists", spec.TaskID)
	}
	e.storeTask(spec.TaskID, &task{spec: spec, created: e.clock.Now()})
	return spec.TaskID, nil
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
	elapsed := e.clock.Now().Sub(t.created)
	if t.attempts <= t.spec.VisibleAfterPolls || elapsed < time.Duration(t.spec.VisibleAfter) {
		return nil, false
	}
	t.reads++
	k := t.reads
	jobs := make([]wireJob, 0, len(t.spec.Jobs))
	for _, j := range t.spec.Jobs {
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

// Seed is the format of the program's -seed file: phones to list, tasks
// to create and faults to queue at start-up, so a script or demo can start
// the emulator in a known state.
type Seed struct {
	// Phones are added with AddPhones: the tenant's phones, in listing
	// order, and (with Options.Instances) the ids that exist for jobs.
	Phones []Phone    `json:"phones"`
	Tasks  []TaskSpec `json:"tasks"`
	Faults []Fault    `json:"faults"`
}

// ApplySeed adds the seed's phones (all of them, or none when one is
// invalid), then its tasks (in order) and then its faults, and returns the
// task ids. It stops at the first invalid entry, reporting its index;
// entries before it stay applied.
func (e *Emulator) ApplySeed(s Seed) ([]string, error) {
	if err := e.AddPhones(s.Phones...); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(s.Tasks))
	for i, spec := range s.Tasks {
		id, err := e.AddTask(spec)
		if err != nil {
			return ids, fmt.Errorf("tasks[%d]: %w", i, err)
		}
		ids = append(ids, id)
	}
	for i, f := range s.Faults {
		if err := e.AddFault(f); err != nil {
			return ids, fmt.Errorf("faults[%d]: %w", i, err)
		}
	}
	return ids, nil
}

// ParseSeed decodes a seed file strictly (unknown fields are errors, so a
// typo in a hand-written seed file is reported instead of ignored). It does
// not validate the entries; ApplySeed does.
func ParseSeed(data []byte) (Seed, error) {
	var s Seed
	if err := decodeStrict(data, &s); err != nil {
		return Seed{}, err
	}
	return s, nil
}
