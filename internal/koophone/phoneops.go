package koophone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// MaxInstancesPerRequest is the most instance ids one request takes, as the
// API documents for every call that names phones: submits, reboot, reset,
// status.
const MaxInstancesPerRequest = 100

// The documented values of PhoneStatus (Huawei SDK Javadoc of
// BatchShowInstance, and the summary line of the docs page). A newer docs
// table gives 0 to 7 other meanings, so callers must treat the enum as open:
// PhoneStatusRunning is the only value they can rely on.
const (
	PhoneStatusUnknown      = 0
	PhoneStatusStopped      = 1
	PhoneStatusRunning      = 2
	PhoneStatusGoingOffline = 3
	PhoneStatusStarting     = 4
	PhoneStatusShutDown     = 5
)

// RebootInstances reboots phones: POST /v1/instances/reboot
// {"instance_ids": [...]}, at most MaxInstancesPerRequest ids (the caller
// splits longer lists, as it alone knows how to report a partial success).
// The answer has no task and no per-phone result: completion shows only in
// the phones' status (InstanceStatuses). A reboot is not idempotent, so it
// is never sent again after a failure that leaves open whether the API
// acted (*OutcomeUnknownError). KOOPHONE.API.5005 (not all instances are
// running: nothing was rebooted) is an *APIError.
func (c *Client) RebootInstances(ctx context.Context, instanceIDs []string) (requestID string, err error) {
	body, err := instanceIDsBody(instanceIDs)
	if err != nil {
		return "", err
	}
	// No data function: the answer carries none, and one that did would
	// not change that the phones reboot.
	return c.do(ctx, call{
		method: http.MethodPost, path: []string{"v1", "instances", "reboot"}, body: body, submit: true,
	}, c.cfg.MaxRetries)
}

// ResetInstances re-initialises phones (their user data is probably wiped):
// POST /v1/instances/batch-reset {"instance_ids": [...]}, at most
// MaxInstancesPerRequest ids. It is not idempotent: never sent again after a
// failure that leaves open whether the API acted (*OutcomeUnknownError).
// Since Huawei SDK 3.1.198 the answer's data is {task_id, cmd_jobs}, a task
// for GetTask; older versions of the API answer without data (absent, null
// or empty), and then the Submission has TaskID "" and no Jobs, with no
// error: the caller follows the phones' status instead. RequestID is always
// set.
func (c *Client) ResetInstances(ctx context.Context, instanceIDs []string) (Submission, error) {
	body, err := instanceIDsBody(instanceIDs)
	if err != nil {
		return Submission{}, err
	}
	return c.submit(ctx, json.RawMessage(body), decodeResetData, "v1", "instances", "batch-reset")
}

// decodeResetData reads a reset answer's data: a submission, or, from an
// API older than SDK 3.1.198, nothing (absent, null, "" or {}).
func decodeResetData(raw json.RawMessage) (Submission, error) {
	trimmed := bytes.TrimSpace(raw)
	if isNull(trimmed) || bytes.Equal(trimmed, []byte(`""`)) {
		return Submission{}, nil
	}
	var w wireSubmission
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return Submission{}, fmt.Errorf("cannot decode data: %v", err)
	}
	if w.TaskID == "" && w.CmdJobs == nil && w.Data == nil {
		return Submission{}, nil
	}
	// Jobs without a task id are not "no task": the task is there, its id
	// lost, and decodeSubmission says so.
	return decodeSubmission(trimmed)
}

// InstanceStatuses reads the status of phones: POST
// /v1/instances/batch-query-status {"instance_ids": [...]}. The API takes
// at most MaxInstancesPerRequest ids, so a longer list is read in
// sequential requests of that many (each id once: duplicates are dropped
// first). It returns each phone's status number (see PhoneStatusRunning
// and the others; the enum is open, so any number is passed through); a
// phone the answer does not list, or that was not asked for, is absent
// from the map. No ids means no request and an empty map. On error, the
// map holds the statuses of the requests before the failing one.
//
// Although a POST, it is a read: it changes nothing on the phones, so a
// transient failure is retried like a GET's (the call is not marked as a
// submit) — resending it cannot do anything twice.
func (c *Client) InstanceStatuses(ctx context.Context, instanceIDs []string) (map[string]int64, error) {
	ids := uniqueIDs(instanceIDs)
	statuses := make(map[string]int64, len(ids))
	for from := 0; from < len(ids); from += MaxInstancesPerRequest {
		chunk := ids[from:min(from+MaxInstancesPerRequest, len(ids))]
		body, err := instanceIDsBody(chunk)
		if err != nil {
			return statuses, err
		}
		var results []wireStatus
		if _, err := c.do(ctx, call{
			method: http.MethodPost, path: []string{"v1", "instances", "batch-query-status"}, body: body,
			data: func(raw json.RawMessage) (err error) {
				results, err = decodeStatusData(raw)
				return err
			},
		}, c.cfg.MaxRetries); err != nil {
			return statuses, err
		}
		for _, r := range results {
			if id := string(r.InstanceID); slices.Contains(chunk, id) {
				statuses[id] = int64(r.Status)
			}
		}
	}
	return statuses, nil
}

// wireStatus is one item of a batch-query-status answer's status_results.
type wireStatus struct {
	InstanceID Text   `json:"instance_id"`
	Status     Number `json:"status"`
}

func decodeStatusData(raw json.RawMessage) ([]wireStatus, error) {
	if isNull(raw) {
		return nil, errors.New("the answer has no data, so no status")
	}
	var data struct {
		StatusResults []wireStatus `json:"status_results"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("the data member is not a list of phone statuses: %v", err)
	}
	return data.StatusResults, nil
}

// instanceIDsBody is the body {"instance_ids": [...]} of the phone
// operations. An empty or too long list is refused before anything is
// sent: the API would only answer KOOPHONE.API.1000.
func instanceIDsBody(instanceIDs []string) ([]byte, error) {
	switch n := len(instanceIDs); {
	case n == 0:
		return nil, errors.New("no instance ids given")
	case n > MaxInstancesPerRequest:
		return nil, fmt.Errorf("%d instance ids given; the API takes at most %d per request", n, MaxInstancesPerRequest)
	}
	return json.Marshal(struct {
		InstanceIDs []string `json:"instance_ids"`
	}{instanceIDs})
}

// uniqueIDs returns ids without repeats, in the order of first appearance
// (the API refuses a request that names a phone twice).
func uniqueIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
