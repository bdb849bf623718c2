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
	env, reqID, err := c.send(ctx, request{
		method: http.MethodPost, target: c.resolve(path...), body: body, submit: true,
	}, c.maxRetries)
	if err != nil {
		return Submission{}, err
	}
	sub, err := decodeSubmission(env.Data)
	if err != nil {
		// The API said "0" (accepted) but its answer cannot be read: the
		// task exists, and its id is lost.
		return Submission{}, &OutcomeUnknownError{
			RequestID: reqID,
			Err:       &ResponseError{HTTPStatus: http.StatusOK, Reason: err.Error(), RequestID: reqID},
		}
	}
	sub.RequestID = reqID
	return sub, nil
}

// wireSubmission is the data of a submit's answer. The install API has
// answered in two shapes: {task_id, cmd_jobs} (Huawei's SDK since 3.1.207)
// and {data: {task_id, cmd_jobs}} (3.1.164 to 3.1.206).
type wireSubmission struct {
	TaskID  flexString `json:"task_id"`
	CmdJobs []struct {
		InstanceID flexString `json:"instance_id"`
		JobID      flexString `json:"job_id"`
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

// OutcomeUnknownError is a submit that may have reached the API without an
// answer saying what it did: after a 5xx, a timeout, a connection lost once
// the request was out, or an answer that cannot be read. The work may be
// running; the client does not send it again.
type OutcomeUnknownError struct {
	// RequestID is the x-request-id of the last attempt, for KooPhone
	// support and for finding the task in the console.
	RequestID string
	// Err is what went wrong.
	Err error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("the outcome of the submit is unknown (it may have created a task) [request id %s]: %v", e.RequestID, e.Err)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Transient is false: sending a submit again could run it twice.
func (e *OutcomeUnknownError) Transient() bool { return false }

// retryable reports whether a failed attempt may be sent again: any
// transient failure for a read, only a certainly-refused one for a submit.
func retryable(r request, err error) bool {
	if !IsTransient(err) {
		return false
	}
	return !r.submit || IsThrottled(err) || !mayHaveActed(err)
}

// mayHaveActed reports whether the API may have acted on a request that
// failed with err.
func mayHaveActed(err error) bool {
	var (
		gaveUp  *gaveUpError
		stopped *waitStopped
		notSent *notSentError
		tErr    *TransportError
		apiErr  *APIError
		respErr *ResponseError
	)
	switch {
	case errors.As(err, &gaveUp):
		return mayHaveActed(gaveUp.last)
	case errors.As(err, &stopped), errors.As(err, &notSent):
		// Stopped before sending, or while waiting to send again after an
		// attempt that was retried because it certainly did nothing.
		return false
	case errors.As(err, &tErr):
		return !tErr.NotSent
	case errors.As(err, &apiErr):
		// A throttling answer, a 4xx or a business error under HTTP 200 is
		// a refusal; a 5xx or KooPhone's internal error may come after the
		// work started.
		if apiErr.Throttled() {
			return false
		}
		return apiErr.HTTPStatus >= 500 || apiErr.Code == CodeInternalError
	case errors.As(err, &respErr):
		return respErr.HTTPStatus < 300 || respErr.HTTPStatus >= 500
	}
	// The caller's context ended while the request was out.
	return true
}

// notSentError is a failure before the request could reach the API: no
// connection, no turn among the requests in flight, credentials that could
// not be applied.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// waitStopped is a request whose context ended while it waited to be sent
// again after a transient failure (last).
type waitStopped struct{ stop, last error }

func (e *waitStopped) Error() string {
	return fmt.Sprintf("%v (while waiting to retry after: %v)", e.stop, e.last)
}
func (e *waitStopped) Unwrap() error { return e.stop }

// gaveUpError is a request whose context ended while an attempt was out;
// last is that attempt's error.
type gaveUpError struct{ ctxErr, last error }

func (e *gaveUpError) Error() string {
	return fmt.Sprintf("%v (last attempt: %v)", e.ctxErr, e.last)
}
func (e *gaveUpError) Unwrap() error { return e.ctxErr }
