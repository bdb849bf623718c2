package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// This file serves the phone operations: POST /v1/instances/reboot,
// /v1/instances/batch-reset and /v1/instances/batch-query-status. The
// emulator keeps each phone's current status, which the status query and
// the listing's running_status report:
//
//   - a phone of Options.Phones, Seed.Phones or AddPhones starts at its
//     RunningStatus, as added. Left out, that is 0 (unknown), as the listing
//     has always reported it: the emulator cannot tell a running_status left
//     out from one set to 0, and changing what the listing answers for
//     phones seeded without it would change what existing seeds and tests
//     see. Such a phone is not running, so a reboot refuses it: seed
//     "running_status": 2 for a phone to reboot;
//   - a phone known only by Options.Instances (or any id, when neither
//     Instances nor Phones is set) is running (2);
//   - a reboot or a reset makes the phone starting (4) at once, then, once
//     its time has passed (Options.JobDuration, or a rule's After), running
//     (2) after success or stopped (1) after failure, or the status a rule
//     says (Rule.PhoneStatus); a rule with status 1 leaves it starting.
//
// Reset forgets the reboots and resets: the phones are back at their
// status as added.

// Phone status values as POST /v1/instances/batch-query-status reports
// them (and the listing's running_status): the values the Huawei SDK
// documents. The API's enum is open; a seeded phone may have any number.
const (
	PhoneStatusUnknown      = 0
	PhoneStatusStopped      = 1
	PhoneStatusRunning      = 2
	PhoneStatusGoingOffline = 3
	PhoneStatusStarting     = 4
	PhoneStatusShutDown     = 5
)

// phoneStatusNames name the documented statuses in error messages.
var phoneStatusNames = map[int]string{
	PhoneStatusUnknown: "unknown", PhoneStatusStopped: "stopped", PhoneStatusRunning: "running",
	PhoneStatusGoingOffline: "going offline", PhoneStatusStarting: "starting", PhoneStatusShutDown: "shut down",
}

// phoneOp is the last reboot or reset of a phone: the phone is starting
// from start until after has passed (for ever when never), then final.
type phoneOp struct {
	start time.Time
	after time.Duration
	never bool
	final int
}

func (op phoneOp) statusAt(now time.Time) int {
	if op.never || now.Sub(op.start) < op.after {
		return PhoneStatusStarting
	}
	return op.final
}

// statusOf returns the current status of the phone id, and false when no
// such phone exists. The caller holds e.mu.
func (e *Emulator) statusOf(id string, now time.Time) (int, bool) {
	if op, ok := e.phoneOps[id]; ok {
		return op.statusAt(now), true
	}
	if i, ok := e.phoneAt[id]; ok {
		return e.phones[i].RunningStatus, true
	}
	if e.instances == nil || e.instances[id] {
		return PhoneStatusRunning, true
	}
	return 0, false
}

// listed is p as the listing shows it, with its current running_status.
// The caller holds e.mu.
func (e *Emulator) listed(p Phone) wirePhone {
	w := p.wire()
	if op, ok := e.phoneOps[p.InstanceID]; ok {
		w.RunningStatus = op.statusAt(e.now())
	}
	return w
}

// PhoneStatus returns the current status of a phone, as POST
// /v1/instances/batch-query-status would report it, and false when no such
// phone exists, so tests can follow a reboot or reset without a request.
func (e *Emulator) PhoneStatus(instanceID string) (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statusOf(instanceID, e.now())
}

// phoneOpFor is the phone's side of a reboot or reset that ends, as its
// job would, with status (2, -1 or 1, see Rule.Status) after after; r is
// the rule that decided, nil for none.
func phoneOpFor(now time.Time, after time.Duration, status int, r *rule) phoneOp {
	op := phoneOp{start: now, after: after, final: PhoneStatusRunning}
	switch {
	case status == StatusRunning:
		op.never = true
	case r != nil && r.PhoneStatus != nil:
		op.final = *r.PhoneStatus
	case status != StatusSucceeded:
		op.final = PhoneStatusStopped
	}
	return op
}

// phoneIDsRequest is the body of the three phone operations.
type phoneIDsRequest struct {
	InstanceIDs []string `json:"instance_ids"`
}

type wireStatusResult struct {
	InstanceID string `json:"instance_id"`
	Status     int    `json:"status"`
}

type wireStatusData struct {
	StatusResults []wireStatusResult `json:"status_results"`
}

// readPhoneIDs reads and checks the body {instance_ids}: 1 to 100 ids of 1
// to 32 characters, each once, else KOOPHONE.API.1000 (HTTP 400).
func readPhoneIDs(w http.ResponseWriter, r *http.Request, respID string) ([]string, bool) {
	var req phoneIDsRequest
	if !readRequest(w, r, respID, &req) {
		return nil, false
	}
	if err := validateInstanceIDs("instance_ids", req.InstanceIDs); err != nil {
		writeParamError(w, err.Error())
		return nil, false
	}
	return req.InstanceIDs, true
}

// writeNoPermission answers KOOPHONE.API.1001 for phones that do not
// exist, with HTTP 400, as the newer per-API error lists have it (an older
// table says 401, which a client would take for a credential problem).
func writeNoPermission(w http.ResponseWriter, missing []string) {
	writeJSON(w, http.StatusBadRequest, envelope{
		ErrorCode: "KOOPHONE.API.1001",
		ErrorMsg:  "No permission to operate the instance: " + strings.Join(missing, ", "),
	})
}

// missingPhones returns the ids of ids that name no phone. The caller
// holds e.mu.
func (e *Emulator) missingPhones(ids []string, now time.Time) []string {
	var missing []string
	for _, id := range ids {
		if _, ok := e.statusOf(id, now); !ok {
			missing = append(missing, id)
		}
	}
	return missing
}

// handleQueryStatus serves POST /v1/instances/batch-query-status: the
// current status of each phone, in the order asked; a phone that does not
// exist makes the whole request KOOPHONE.API.1001.
func (e *Emulator) handleQueryStatus(w http.ResponseWriter, r *http.Request, respID string) {
	ids, ok := readPhoneIDs(w, r, respID)
	if !ok {
		return
	}
	e.mu.Lock()
	now := e.now()
	missing := e.missingPhones(ids, now)
	data := wireStatusData{StatusResults: make([]wireStatusResult, len(ids))}
	for i, id := range ids {
		data.StatusResults[i].InstanceID = id
		data.StatusResults[i].Status, _ = e.statusOf(id, now)
	}
	e.mu.Unlock()
	if missing != nil {
		writeNoPermission(w, missing)
		return
	}
	writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "ok", Data: data})
}

// handleReboot serves POST /v1/instances/reboot: all the phones reboot, or,
// when one does not exist (KOOPHONE.API.1001) or is not running
// (KOOPHONE.API.5005, HTTP 400 as the reboot page lists it), none does.
// The answer has no data.
func (e *Emulator) handleReboot(w http.ResponseWriter, r *http.Request, respID string) {
	ids, ok := readPhoneIDs(w, r, respID)
	if !ok {
		return
	}
	missing, notRunning := e.reboot(ids)
	switch {
	case missing != nil:
		writeNoPermission(w, missing)
	case notRunning != nil:
		writeJSON(w, http.StatusBadRequest, envelope{
			ErrorCode: "KOOPHONE.API.5005",
			ErrorMsg:  "Not all instances are running: " + strings.Join(notRunning, ", "),
		})
	default:
		writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "OK"})
	}
}

// reboot reboots the phones ids, or none of them when some do not exist
// (missing) or are not running (notRunning: each "id is status (name)").
// The answer is written after e.mu is released: writing it records the
// request, which takes e.mu.
func (e *Emulator) reboot(ids []string) (missing, notRunning []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	if missing := e.missingPhones(ids, now); missing != nil {
		return missing, nil
	}
	for _, id := range ids {
		if st, _ := e.statusOf(id, now); st != PhoneStatusRunning {
			notRunning = append(notRunning, fmt.Sprintf("%s is %d (%s)", id, st, statusName(st)))
		}
	}
	if notRunning != nil {
		return nil, notRunning
	}
	s := submission{kind: RuleReboot}
	for _, id := range ids {
		after, status := e.jobDuration, StatusSucceeded
		rl, _ := e.ruleFor(s, id)
		if rl != nil {
			status = *rl.Status
			if rl.After != nil {
				after = time.Duration(*rl.After)
			}
		}
		e.phoneOps[id] = phoneOpFor(now, after, status, rl)
	}
	return nil, nil
}

func statusName(st int) string {
	if name, ok := phoneStatusNames[st]; ok {
		return name
	}
	return "undocumented"
}

// handleReset serves POST /v1/instances/batch-reset: a task of one job per
// phone, decided as a command's are (rules of kind reset, CPS0005 for a
// phone that does not exist), answered as data {task_id: "RM_" + 32 hex,
// cmd_jobs}, or without data with Options.ResetResponse "none" (no task is
// kept then). Each existing phone is starting until its job ends, then
// running or stopped (see phoneOpFor).
func (e *Emulator) handleReset(w http.ResponseWriter, r *http.Request, respID string) {
	ids, ok := readPhoneIDs(w, r, respID)
	if !ok {
		return
	}
	if data, task := e.reset(ids); task {
		writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "OK", Data: data})
		return
	}
	writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "OK"})
}

// reset resets the phones ids and returns the answer's data, and whether
// there is a task to answer with.
func (e *Emulator) reset(ids []string) (wireSubmitData, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	spec, data, rules := e.jobsFor(submission{kind: RuleReset}, ids)
	for i, j := range spec.Jobs {
		if _, exists := e.statusOf(j.InstanceID, now); exists {
			e.phoneOps[j.InstanceID] = phoneOpFor(now, time.Duration(j.After), j.Status, rules[i])
		}
	}
	if e.resetNoTask {
		return data, false
	}
	e.storeSubmitted(newResetTaskID, &spec, &data, now)
	return data, true
}
