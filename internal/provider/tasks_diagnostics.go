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

// Limits on how much a diagnostic about many tasks lists, so that a read of
// a thousand tasks gives an error a person can read.
const (
	maxListedTasks      = 20
	maxListedFailures   = 5
	maxListedFailedJobs = 50
)

// tasksReadDiagnostics turns the failed reads of a read of many tasks into
// diagnostics: one per task whose read failed for its own reason (up to a
// few), one listing the tasks still running when the time ran out, one for
// an interrupted wait. Tasks abandoned because another one failed are not
// reported: the failure that stopped them is.
func tasksReadDiagnostics(results []taskwait.Result, ws waitSettings, endpoint string, auth authSummary) diag.Diagnostics {
	var (
		diags                      diag.Diagnostics
		failed, timedOut, canceled []taskwait.Result
	)
	for _, r := range results {
		var stop *taskwait.StopError
		switch {
		case r.Err == nil:
		case !errors.As(r.Err, &stop):
			failed = append(failed, r)
		case stop.Reason == taskwait.StopTimeout:
			timedOut = append(timedOut, r)
		case stop.Reason == taskwait.StopCanceled:
			canceled = append(canceled, r)
		}
	}
	for i, r := range failed {
		if i == maxListedFailures {
			diags.AddError("More KooPhone tasks could not be read",
				fmt.Sprintf("%d more of the %d tasks could not be read; the errors above show the first %d.", len(failed)-i, len(results), i))
			break
		}
		diags.Append(taskReadDiagnostic(readFailure{
			TaskID: r.TaskID, Err: r.Err, Endpoint: endpoint,
			Waiting: ws.Wait, Timeout: ws.Timeout, Last: r.Task, Observed: r.Observed, Auth: auth,
		}))
	}
	if len(timedOut) > 0 {
		diags.Append(tasksTimeoutDiagnostic(results, timedOut, ws))
	}
	if len(canceled) > 0 {
		diags.Append(tasksInterruptedDiagnostic(results, canceled))
	}
	return diags
}

// tasksTimeoutDiagnostic lists the tasks that had not finished (or not been
// read) when timeouts.read passed, with how far each got.
func tasksTimeoutDiagnostic(all, timedOut []taskwait.Result, ws waitSettings) diag.Diagnostic {
	var b strings.Builder
	elapsed := ws.Timeout
	var stop *taskwait.StopError
	if errors.As(timedOut[0].Err, &stop) {
		elapsed = stop.Elapsed
	}
	summary := "Timed out waiting for KooPhone tasks"
	if ws.Wait {
		fmt.Fprintf(&b, "%d of %d tasks are still running after %s (timeouts.read is %s):\n",
			len(timedOut), len(all), elapsed.Round(time.Second), ws.Timeout)
	} else {
		summary = "Timed out reading KooPhone tasks"
		fmt.Fprintf(&b, "%d of %d tasks could not be read within timeouts.read (%s):\n", len(timedOut), len(all), ws.Timeout)
	}
	for i, r := range timedOut {
		if i == maxListedTasks {
			fmt.Fprintf(&b, "\n  ... and %d more.", len(timedOut)-i)
			break
		}
		fmt.Fprintf(&b, "\n  - %q: %s", r.TaskID, taskProgress(r))
	}
	var done fleetSummary
	for _, r := range all {
		if r.Err == nil && r.Task.Summary().Done() {
			done.add(r.Task.Summary())
		}
	}
	if done.Tasks > 0 {
		fmt.Fprintf(&b, "\n\nThe other %d tasks have finished: %d successful, %d failed.", done.Tasks, done.SuccessfulTasks, done.FailedTasks)
	}
	b.WriteString("\n\nRaise timeouts.read (for example timeouts = { read = \"45m\" }) if the tasks need longer")
	if ws.Wait {
		b.WriteString(", or raise (or unset) the provider's rate_limit if it holds back the polls of many tasks and the API allows more requests")
	}
	b.WriteString(".")
	return diag.NewErrorDiagnostic(summary, b.String())
}

// taskProgress says how far one task got, in one line.
func taskProgress(r taskwait.Result) string {
	var stop *taskwait.StopError
	if !r.Observed {
		msg := fmt.Sprintf("not read successfully in %d polls", r.Polls)
		if errors.As(r.Err, &stop) && stop.LastErr != nil {
			msg += fmt.Sprintf("; the last poll failed: %v", stop.LastErr)
		}
		return msg + "."
	}
	return progressSentence(r.Task.Summary())
}

func tasksInterruptedDiagnostic(all, canceled []taskwait.Result) diag.Diagnostic {
	detail := fmt.Sprintf("The read of %d KooPhone tasks was interrupted", len(all))
	var stop *taskwait.StopError
	if errors.As(canceled[0].Err, &stop) {
		detail += fmt.Sprintf(" after %s", stop.Elapsed.Round(time.Millisecond))
	}
	detail += fmt.Sprintf(", with %d of them not finished.", len(canceled))
	return diag.NewErrorDiagnostic("Wait for KooPhone tasks interrupted", detail)
}

// failedTasksDiagnostic is the error of fail_on_job_failure for many tasks:
// it lists the failed jobs task by task. It reports false when no task
// has failed.
func failedTasksDiagnostic(results []taskwait.Result) (diag.Diagnostic, bool) {
	var failed []koophone.Task
	for _, r := range results {
		if r.Task.Summary().State == koophone.TaskFailed {
			failed = append(failed, r.Task)
		}
	}
	if len(failed) == 0 {
		return nil, false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d tasks finished with failed jobs, and fail_on_job_failure is true:\n", len(failed), len(results))
	listed, unlisted := 0, 0
	for _, t := range failed {
		jobs := t.FailedJobs()
		if listed >= maxListedFailedJobs {
			unlisted += len(jobs)
			continue
		}
		fmt.Fprintf(&b, "\n  task %q: %d of %d jobs failed", t.ID, len(jobs), len(t.Jobs))
		for _, j := range jobs {
			if listed >= maxListedFailedJobs {
				unlisted++
				continue
			}
			fmt.Fprintf(&b, "\n    - job_id %q: error_code %q, error_msg %q, execute_msg %q", j.JobID, j.ErrorCode, j.ErrorMsg, j.ExecuteMsg)
			listed++
		}
	}
	if unlisted > 0 {
		fmt.Fprintf(&b, "\n\n  ... and %d more failed jobs.", unlisted)
	}
	b.WriteString("\n\nSet fail_on_job_failure = false to read the tasks anyway and gate on their state and jobs yourself.")
	return diag.NewErrorDiagnostic("KooPhone tasks failed", b.String()), true
}
