package koophone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Submits (POST /v1/instances/async-command and /v1/instances/app/install)
// are not idempotent and the API takes no idempotency key: a submit is sent
// again only when the API certainly did not act on it, else the caller gets
// an *OutcomeUnknownError rather than a second command on every phone.

// SubmittedJob links a phone to its job: only the submit's answer does (the
// task query lists jobs without instance ids).
type SubmittedJob struct {
	InstanceID string
	JobID      string
}

// Submission is the API's answer to a submit.
type Submission struct {
	TaskID    string
	Jobs      []SubmittedJob // the answer's cmd_jobs, in its order
	RequestID string
}

// InstallAppRequest is the body of POST /v1/instances/app/install.
type InstallAppRequest struct {
	ObjectName    string `json:"object_name"`    // the package name, such as com.tencent.mm
	FileName      string `json:"file_name"`      // such as app.apk
	ObjectVersion string `json:"object_version"` // such as 8.0.58
	ObjectSize    string `json:"object_size"`    // in MB, as digits
	BizType       string `json:"biz_type"`       // only "apk"
	// ContentType is the download type, such as application/octet-stream.
	ContentType       string   `json:"content_type"`
	ContentMD5        string   `json:"content_md5,omitempty"`
	InstallPackageURL string   `json:"install_package_url"` // where the phones download it (OBS)
	FastInstall       bool     `json:"-"`                   // sent as fast_install "1", else "0"
	InstanceIDs       []string `json:"instance_id_list"`
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

// SubmitCommand runs an adb shell command, as written, on phones:
// POST /v1/instances/async-command.
func (c *Client) SubmitCommand(ctx context.Context, command string, instanceIDs []string) (Submission, error) {
	return c.submit(ctx, struct {
		Command     string   `json:"command"`
		InstanceIDs []string `json:"instance_ids"`
	}{command, instanceIDs}, decodeSubmission, "v1", "instances", "async-command")
}

// InstallApp installs an app on phones: POST /v1/instances/app/install.
func (c *Client) InstallApp(ctx context.Context, req InstallAppRequest) (Submission, error) {
	return c.submit(ctx, req, decodeSubmission, "v1", "instances", "app", "install")
}

// submit posts request, as JSON, to path as a submit and reads the
// answer's data with decode. RequestID is always set.
func (c *Client) submit(ctx context.Context, request any, decode func(json.RawMessage) (Submission, error), path ...string) (Submission, error) {
	body, err := json.Marshal(request)
	if err != nil {
		return Submission{}, err
	}
	var sub Submission
	reqID, err := c.do(ctx, call{
		method: http.MethodPost, path: path, body: body, submit: true,
		// An accepted answer with a task that cannot be read is a task
		// whose id is lost: the error makes the outcome unknown.
		data: func(raw json.RawMessage) (err error) {
			sub, err = decode(raw)
			return err
		},
	}, c.cfg.MaxRetries)
	sub.RequestID = reqID
	return sub, err
}

// wireSubmission is the data of a submit's answer. The install API has
// answered {task_id, cmd_jobs} (Huawei's SDK since 3.1.207) and
// {data: {task_id, cmd_jobs}} (3.1.164 to 3.1.206).
type wireSubmission struct {
	TaskID  Text `json:"task_id"`
	CmdJobs []struct {
		InstanceID Text `json:"instance_id"`
		JobID      Text `json:"job_id"`
	} `json:"cmd_jobs"`
	Data *wireSubmission `json:"data"`
}

func decodeSubmission(data json.RawMessage) (Submission, error) {
	if isNull(data) {
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
