package provider

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// readFailure describes why reading a task did not give a usable result,
// for turning into a diagnostic.
type readFailure struct {
	TaskID   string
	Err      error
	Endpoint string
	// Waiting is true when the read was polling (wait_for_completion).
	Waiting bool
	// Timeout is the read's timeouts.read.
	Timeout time.Duration
	// Last is the last task observed, when Observed is true.
	Last     koophone.Task
	Observed bool
	// Auth is how the provider authenticated.
	Auth authSummary
}

// taskReadDiagnostic turns a failed read into an error diagnostic whose
// summary says what happened and whose detail says what the API answered
// and what to do about it.
func taskReadDiagnostic(f readFailure) diag.Diagnostic {
	summary, detail := describeReadFailure(f)
	return diag.NewErrorDiagnostic(summary, detail)
}

func describeReadFailure(f readFailure) (string, string) {
	var stop *taskwait.StopError
	switch {
	case errors.As(f.Err, &stop) && stop.Reason == taskwait.StopTimeout && f.Waiting:
		return "Timed out waiting for KooPhone task", timeoutDetail(f, stop)

	case errors.As(f.Err, &stop) && stop.Reason == taskwait.StopTimeout:
		detail := fmt.Sprintf("Reading task %q did not finish within timeouts.read (%s)", f.TaskID, f.Timeout)
		if stop.LastErr != nil {
			detail += fmt.Sprintf(": %v", stop.LastErr)
		}
		return "Timed out reading KooPhone task", detail + ".\n\nRaise timeouts.read, or check the endpoint and network."

	case errors.As(f.Err, &stop):
		detail := fmt.Sprintf("The read of task %q was interrupted after %s.", f.TaskID, stop.Elapsed.Round(time.Millisecond))
		if f.Observed {
			detail += " " + progressSentence(f.Last.Summary())
		}
		return "Wait for KooPhone task interrupted", detail

	case errors.Is(f.Err, koophone.ErrTaskNotFound):
		detail := fmt.Sprintf("The KooPhone API has no task with the id %q (%s).\n\n"+
			"Check task_id: it must be the task_id returned by an asynchronous KooPhone request (async-command or app install) "+
			"made with the same account and project. Old tasks may no longer be kept.",
			f.TaskID, apiRef(f.Err))
		if f.Waiting {
			detail += fmt.Sprintf(" The task stayed invisible for the %s grace period that a wait allows after its first poll.", taskwait.NotFoundGrace)
		} else {
			detail += fmt.Sprintf(" A task that was just submitted can take a few seconds to appear: set wait_for_completion = true to allow it %s.", taskwait.NotFoundGrace)
		}
		return "KooPhone task not found", detail

	default:
		return describeAPIFailure(fmt.Sprintf("Reading task %q", f.TaskID), f.Err, f.Endpoint, f.Auth)
	}
}

// describeAPIFailure explains a failed call to the API: a summary, and a
// detail that says what failed (what, such as `Reading task "x"`), what the
// API or the network said (code, message, request id) and what to do. Each
// caller handles the failures that mean something of their own first.
func describeAPIFailure(what string, err error, endpoint string, auth authSummary) (string, string) {
	var (
		apiErr   *koophone.APIError
		respErr  *koophone.ResponseError
		transErr *koophone.TransportError
		retryErr *koophone.RetryError
	)
	switch {
	case errors.Is(err, koophone.ErrUnauthorized):
		return "KooPhone rejected the credentials", fmt.Sprintf(
			"%s was refused by the KooPhone API gateway (%s).\n\n%s", what, apiRef(err), auth.rejectionAdvice())

	case errors.As(err, &apiErr) && apiErr.Code == koophone.CodeGatewayNotFound:
		return "KooPhone API not found at this endpoint", fmt.Sprintf(
			"%s failed: the API gateway at %s does not know the API (%s).\n\n"+
				"Check the provider's endpoint argument or the KOOPHONE_ENDPOINT environment variable: it should be the base URL of the "+
				"KooPhone API, such as %q, without the /v1/... path.", what, endpoint, apiRef(err), koophone.DefaultEndpoint)

	case errors.As(err, &retryErr):
		return "KooPhone API unavailable", fmt.Sprintf(
			"%s failed %d times in a row with transient errors; the last one was: %v.\n\n"+
				"The API may be overloaded or down. Try again later, or raise the provider's max_retries.",
			what, retryErr.Attempts, retryErr.Last)

	case errors.As(err, &apiErr):
		return "KooPhone API error", fmt.Sprintf("%s failed: the API answered %s.\n\n"+
			"Look the error code up in the KooPhone error codes (https://support.huaweicloud.com/intl/en-us/api-koophone/ErrorCode.html); "+
			"KooPhone support can trace the request by its id.", what, apiRef(err))

	case errors.As(err, &respErr):
		return "Unexpected response from the KooPhone API", fmt.Sprintf(
			"%s failed: %v.\n\nCheck that the endpoint (%s) is the KooPhone API and not a proxy or another service.",
			what, respErr, endpoint)

	case errors.As(err, &transErr) && koophone.IsCertificateError(err):
		return "KooPhone endpoint's TLS certificate is not trusted", fmt.Sprintf(
			"%s failed: %v.\n\nIf the endpoint (%s) is behind a proxy or a private CA, set ca_cert_pem or ca_cert_file "+
				"to the CA certificate that signed it.", what, transErr, endpoint)

	case errors.As(err, &transErr):
		return "Cannot reach the KooPhone API", fmt.Sprintf(
			"%s failed: %v.\n\nCheck the endpoint (%s), the network and any proxy (HTTPS_PROXY); raise request_timeout if the API is slow.",
			what, transErr, endpoint)

	default:
		return "KooPhone request failed", fmt.Sprintf("%s failed: %v.", what, err)
	}
}

// apiRef describes an API error by its code, HTTP status, message and
// request id: what KooPhone support needs.
func apiRef(err error) string {
	var apiErr *koophone.APIError
	if !errors.As(err, &apiErr) {
		return err.Error()
	}
	var parts []string
	if apiErr.Code != "" {
		parts = append(parts, "error code "+apiErr.Code)
	}
	parts = append(parts, fmt.Sprintf("HTTP %d", apiErr.HTTPStatus))
	if apiErr.Message != "" {
		parts = append(parts, fmt.Sprintf("message %q", apiErr.Message))
	}
	if apiErr.RequestID != "" {
		parts = append(parts, "request id "+apiErr.RequestID)
	}
	return strings.Join(parts, ", ")
}

func timeoutDetail(f readFailure, e *taskwait.StopError) string {
	var b strings.Builder
	if f.Observed {
		fmt.Fprintf(&b, "Task %q is still running after %s (timeouts.read is %s). %s",
			f.TaskID, e.Elapsed.Round(time.Second), f.Timeout, progressSentence(f.Last.Summary()))
		fmt.Fprintf(&b, " Last state: %s, after %d polls.", f.Last.Summary().State, e.Polls)
	} else {
		fmt.Fprintf(&b, "Task %q could not be read successfully within timeouts.read (%s), after %d polls.", f.TaskID, f.Timeout, e.Polls)
	}
	if e.LastErr != nil {
		fmt.Fprintf(&b, " The last poll failed: %v.", e.LastErr)
	}
	b.WriteString("\n\nRaise timeouts.read (for example timeouts = { read = \"45m\" }) if the task needs longer, " +
		"or set wait_for_completion = false to read the task without waiting.")
	return b.String()
}

// progressSentence says how far a task got, in one sentence.
func progressSentence(s koophone.Summary) string {
	msg := fmt.Sprintf("%d of %d jobs done (%d successful, %d failed), %d still running",
		s.Finished(), s.Jobs, s.Successful, s.Failed, s.Running)
	if s.Pending > 0 {
		msg += fmt.Sprintf(", %d not started", s.Pending)
	}
	if s.Unknown > 0 {
		msg += fmt.Sprintf(", %d in an unknown state", s.Unknown)
	}
	if s.Jobs == 0 {
		msg = "The task has no job yet"
	}
	return msg + "."
}

// failedJobsDiagnostic is the error of fail_on_job_failure: it lists every
// failed job with what the API said about it.
func failedJobsDiagnostic(task koophone.Task) diag.Diagnostic {
	failed := task.FailedJobs()
	s := task.Summary()
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d jobs of task %q failed, and fail_on_job_failure is true:\n", len(failed), s.Jobs, task.ID)
	for _, j := range failed {
		fmt.Fprintf(&b, "\n  - job_id %q: error_code %q, error_msg %q, execute_msg %q", j.JobID, j.ErrorCode, j.ErrorMsg, j.ExecuteMsg)
	}
	b.WriteString("\n\nSet fail_on_job_failure = false to read the task anyway and gate on its state and jobs yourself.")
	return diag.NewErrorDiagnostic("KooPhone task failed", b.String())
}
