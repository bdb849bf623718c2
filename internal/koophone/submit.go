package koophone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Submitting work: POST /v1/instances/async-command and
// POST /v1/instances/app/install. Neither is idempotent (the API takes no
// idempotency key), so a submit is sent again only when the API certainly
// did not act on it: after a throttling answer (the gateway refused it) or
// a failure before the request left (no connection). After anything else
// that leaves the outcome open (a 5xx, a timeout, a connection lost once
// the request was out, an unreadable answer) the caller gets an
// *OutcomeUnknownError instead of a second command on every phone.

// SubmittedJob links a phone to its job in a submitted task: the submit's
// answer is the only place that does (the task query returns jobs without
// instance ids).
type SubmittedJob struct {
	InstanceID string
	JobID      string
}

// Submission is the API's answer to a submit.
type Submission struct {
	// TaskID identifies the task, for GetTask.
	TaskID string
	// Jobs are the answer's cmd_jobs, in its order.
	Jobs []SubmittedJob
	// RequestID identifies the submit request.
	RequestID string
}

// InstallAppRequest is the body of POST /v1/instances/app/install, with the
// API's field names in its JSON tags.
type InstallAppRequest struct {
	// ObjectName is the package name, such as com.tencent.mm.
	ObjectName string `json:"object_name"`
	// FileName is the package's file name with its suffix, such as app.apk.
	FileName string `json:"file_name"`
	// ObjectVersion is the package version, such as 8.0.58.
	ObjectVersion string `json:"object_version"`
	// ObjectSize is the package size in MB, as a string of digits.
	ObjectSize string `json:"object_size"`
	// BizType is the package type; the API accepts only "apk".
	BizType string `json:"biz_type"`
	// ContentType is the download type, such as application/octet-stream.
	ContentType string `json:"content_type"`
	// ContentMD5 is the package's MD5 digest; empty is left out.
	ContentMD5 string `json:"content_md5,omitempty"`
	// InstallPackageURL is where the phones download the package (OBS).
	InstallPackageURL string `json:"install_package_url"`
	// FastInstall is sent as "1" (quick install) or "0" (normal).
	FastInstall bool `json:"-"`
	// InstanceIDs are the phones to install on (instance_id_list).
	InstanceIDs []string `json:"instance_id_list"`
}

// MarshalJSON writes fast_install as the API's "0"/"1" string.
func (r InstallAppRequest) MarshalJSON() ([]byte, error) {
	type plain InstallAppRequest
	fast := "0"
	if r.FastInstall {
		fast = "1"
	}
	return json.Marshal(struct {
		plain
		FastInstall string `json:"fast_install"`
	}{plain(r), fast})
}

// SubmitCommand runs an adb shell command on phones:
// POST /v1/instances/async-command. The command is sent as written.
func (c *Client) SubmitCommand(ctx context.Context, command string, instanceIDs []string) (Submission, error) {
	body, err := json.Marshal(struct {
		Command     string   `json:"command"`
		InstanceIDs []string `json:"instance_ids"`
	}{command, instanceIDs})
	if err != nil {
		return Submission{}, err
	}
	return c.submit(ctx, body, "v1", "instances", "async-command")
}

// InstallApp installs an app on phones: POST /v1/instances/app/install.
func (c *Client) InstallApp(ctx context.Context, req InstallAppRequest) (Submission, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Submission{}, err
	}
	return c.submit(ctx, body, "v1", "instances", "app", "install")
}

func (c *Client) submit(ctx context.Context, body []byte, path ...string) (Submission, error) {
	var sub Submission
	reqID, err := c.do(ctx, call{
		method: http.MethodPost, path: path, body: body, submit: true,
		// An answer that says "0" (accepted) but cannot be read is a task
		// whose id is lost: an error here makes the outcome unknown.
		data: func(raw json.RawMessage) (err error) {
			sub, err = decodeSubmission(raw)
			return err
		},
	}, c.maxRetries)
	sub.RequestID = reqID
	return sub, err
}

// wireSubmission is the data of a submit's answer. The install API has
// answered in two shapes: {task_id, cmd_jobs} (Huawei's SDK since 3.1.207)
// and {data: {task_id, cmd_jobs}} (3.1.164 to 3.1.206).
type wireSubmission struct {
	TaskID  Text `json:"task_id"`
	CmdJobs []struct {
		InstanceID Text `json:"instance_id"`
		JobID      Text `json:"job_id"`
	} `json:"cmd_jobs"`
	Data *wireSubmission `json:"data"`
}

func decodeSubmission(data json.RawMessage) (Submission, error) {
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return Submission{}, errors.New("the answer has no data, so no task id")
	}
	var w wireSubmission
	if err := json.Unmarshal(data, &w); err != nil {
		return Submission{}, fmt.Errorf("cannot decode data: %v", err)
	}
	if w.TaskID == "" && w.Data != nil {
		w = *w.Data
	}
	if w.TaskID == "" {
		return Submission{}, errors.New("the answer's data has no task_id")
	}
	sub := Submission{TaskID: string(w.TaskID), Jobs: make([]SubmittedJob, 0, len(w.CmdJobs))}
	for _, j := range w.CmdJobs {
		sub.Jobs = append(sub.Jobs, SubmittedJob{InstanceID: string(j.InstanceID), JobID: string(j.JobID)})
	}
	return sub, nil
}
