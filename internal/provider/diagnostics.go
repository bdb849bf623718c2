package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/rollout"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// The diagnostics of the data sources and resources: a short summary, and
// a detail that says what happened, what the API said (code, message,
// request id) and what to do.

// Limits on how much a diagnostic lists, so that it stays readable.
const (
	maxListedTasks      = 20
	maxListedFailures   = 5
	maxListedFailedJobs = 50
)

// describeAPIFailure explains a failed call; what is the call, such as
// `Reading task "x"`. Callers handle the failures that mean something of
// their own first.
func describeAPIFailure(what string, err error, pd *providerData) (string, string) {
	var (
		apiErr   *koophone.APIError
		respErr  *koophone.ResponseError
		transErr *koophone.TransportError
		retryErr *koophone.RetryError
		redirect *koophone.RedirectError
		stopped  *koophone.StoppedError
	)
	switch {
	case errors.As(err, &stopped):
		detail := fmt.Sprintf("%s stopped: %s.", what, stopReason(stopped.Cause))
		if stopped.Last != nil {
			detail += fmt.Sprintf(" The attempt before failed: %v.", stopped.Last)
		}
		return "KooPhone request stopped", detail
	case errors.As(err, &redirect):
		return "KooPhone API answered with a redirect", fmt.Sprintf(
			"%s failed: %v.\n\nNothing was sent to the redirect's target. Check the endpoint (%s): it should be the KooPhone API "+
				"itself, such as %q, not an address that forwards to it.", what, redirect, pd.endpoint, koophone.DefaultEndpoint)
	case errors.Is(err, koophone.ErrUnauthorized):
		return "KooPhone rejected the credentials", fmt.Sprintf(
			"%s was refused by the KooPhone API gateway (%s).\n\n%s", what, apiRef(err), pd.auth.rejectionAdvice())
	case errors.As(err, &apiErr) && apiErr.Code == koophone.CodeGatewayNotFound:
		return "KooPhone API not found at this endpoint", fmt.Sprintf(
			"%s failed: the API gateway at %s does not know the API (%s).\n\n"+
				"Check the provider's endpoint argument or the KOOPHONE_ENDPOINT environment variable: it should be the base URL of the "+
				"KooPhone API, such as %q, without the /v1/... path.", what, pd.endpoint, apiRef(err), koophone.DefaultEndpoint)
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
			what, respErr, pd.endpoint)
	case errors.As(err, &transErr) && koophone.IsCertificateError(err):
		return "KooPhone endpoint's TLS certificate is not trusted", fmt.Sprintf(
			"%s failed: %v.\n\nIf the endpoint (%s) is behind a proxy or a private CA, set ca_cert_pem or ca_cert_file "+
				"to the CA certificate that signed it.", what, transErr, pd.endpoint)
	case errors.As(err, &transErr):
		return "Cannot reach the KooPhone API", fmt.Sprintf(
			"%s failed: %v.\n\nCheck the endpoint (%s), the network and any proxy (HTTPS_PROXY); raise request_timeout if the API is slow.",
			what, transErr, pd.endpoint)
	default:
		return "KooPhone request failed", fmt.Sprintf("%s failed: %v.", what, err)
	}
}

// apiRef is what KooPhone support needs of an API error.
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

// progressSentence says how far a task, or a resource's phones, got.
func progressSentence(t koophone.Tally) string {
	if t.Total == 0 {
		return "The task has no job yet."
	}
	msg := fmt.Sprintf("%d of %d jobs done (%d successful, %d failed), %d still running", t.Finished(), t.Total, t.Successful, t.Failed, t.Running)
	if t.Pending > 0 {
		msg += fmt.Sprintf(", %d not started", t.Pending)
	}
	if t.Unknown > 0 {
		msg += fmt.Sprintf(", %d in an unknown state", t.Unknown)
	}
	return msg + "."
}

// describeReadFailure explains a failed read of one task.
func describeReadFailure(res taskwait.Result, ws waitSettings, pd *providerData) (string, string) {
	var stop *taskwait.StopError
	switch {
	case errors.As(res.Err, &stop) && stop.TimedOut() && ws.Wait:
		var b strings.Builder
		if res.Observed {
			t := res.Task.Tally()
			fmt.Fprintf(&b, "Task %q is still running after %s (%s is %s): %s. %s Last state: %s, after %d polls.",
				res.TaskID, stop.Elapsed.Round(time.Second), ws.TimeoutName, ws.Timeout, stopReason(stop.Cause),
				progressSentence(t), t.Outcome(), stop.Polls)
		} else {
			fmt.Fprintf(&b, "Task %q could not be read successfully within %s (%s), after %d polls.", res.TaskID, ws.TimeoutName, ws.Timeout, stop.Polls)
		}
		if stop.LastErr != nil {
			fmt.Fprintf(&b, " The last poll failed: %v.", stop.LastErr)
		}
		b.WriteString("\n\nRaise timeouts.read (for example timeouts = { read = \"45m\" }) if the task needs longer, " +
			"or set wait_for_completion = false to read the task without waiting.")
		return "Timed out waiting for KooPhone task", b.String()
	case errors.As(res.Err, &stop) && stop.TimedOut():
		detail := fmt.Sprintf("Reading task %q did not finish within %s (%s)", res.TaskID, ws.TimeoutName, ws.Timeout)
		if stop.LastErr != nil {
			detail += fmt.Sprintf(": %v", stop.LastErr)
		}
		return "Timed out reading KooPhone task", detail + ".\n\nRaise timeouts.read, or check the endpoint and network."
	case errors.As(res.Err, &stop):
		detail := fmt.Sprintf("The read of task %q was interrupted after %s: %s.", res.TaskID, stop.Elapsed.Round(time.Millisecond), stopReason(stop.Cause))
		if res.Observed {
			detail += " " + progressSentence(res.Task.Tally())
		}
		return "Wait for KooPhone task interrupted", detail
	case errors.Is(res.Err, koophone.ErrTaskNotFound):
		detail := fmt.Sprintf("The KooPhone API has no task with the id %q (%s).\n\n"+
			"Check task_id: it must be the task_id returned by an asynchronous KooPhone request (async-command or app install) "+
			"made with the same account and project. Old tasks may no longer be kept.",
			res.TaskID, apiRef(res.Err))
		if ws.Wait {
			detail += fmt.Sprintf(" The task stayed invisible for the %s grace period that a wait allows after its first poll.", taskwait.NotFoundGrace)
		} else {
			detail += fmt.Sprintf(" A task that was just submitted can take a few seconds to appear: set wait_for_completion = true to allow it %s.", taskwait.NotFoundGrace)
		}
		return "KooPhone task not found", detail
	default:
		return describeAPIFailure(fmt.Sprintf("Reading task %q", res.TaskID), res.Err, pd)
	}
}

func taskReadDiagnostic(res taskwait.Result, ws waitSettings, pd *providerData) diag.Diagnostic {
	summary, detail := describeReadFailure(res, ws, pd)
	return diag.NewErrorDiagnostic(summary, detail)
}

// tasksReadDiagnostics reports the failed reads of many tasks: one error
// per task that failed for its own reason (up to a few), one listing those
// still running at the deadline, one for an interrupted wait. Tasks
// abandoned because another one failed are not reported: that failure is.
func tasksReadDiagnostics(results []taskwait.Result, ws waitSettings, pd *providerData) diag.Diagnostics {
	var diags diag.Diagnostics
	var failed, timedOut, canceled []taskwait.Result
	for _, r := range results {
		var stop *taskwait.StopError
		switch {
		case r.Err == nil:
		case !errors.As(r.Err, &stop):
			failed = append(failed, r)
		case stop.TimedOut():
			timedOut = append(timedOut, r)
		case !errors.Is(stop.Cause, taskwait.ErrAbandoned):
			canceled = append(canceled, r)
		}
	}
	for i, r := range failed {
		if i == maxListedFailures {
			diags.AddError("More KooPhone tasks could not be read",
				fmt.Sprintf("%d more of the %d tasks could not be read; the errors above show the first %d.", len(failed)-i, len(results), i))
			break
		}
		diags.Append(taskReadDiagnostic(r, ws, pd))
	}
	if len(timedOut) > 0 {
		diags.Append(tasksTimeoutDiagnostic(results, timedOut, ws))
	}
	if len(canceled) > 0 {
		detail := fmt.Sprintf("The read of %d KooPhone tasks was interrupted", len(results))
		var stop *taskwait.StopError
		if errors.As(canceled[0].Err, &stop) {
			detail += fmt.Sprintf(" after %s (%s)", stop.Elapsed.Round(time.Millisecond), stopReason(stop.Cause))
		}
		diags.AddError("Wait for KooPhone tasks interrupted", detail+fmt.Sprintf(", with %d of them not finished.", len(canceled)))
	}
	return diags
}

// tasksTimeoutDiagnostic lists the tasks not finished, or not read, at the
// deadline, with how far each got.
func tasksTimeoutDiagnostic(all, timedOut []taskwait.Result, ws waitSettings) diag.Diagnostic {
	var b strings.Builder
	elapsed := ws.Timeout
	var stop *taskwait.StopError
	if errors.As(timedOut[0].Err, &stop) {
		elapsed = stop.Elapsed
	}
	summary := "Timed out waiting for KooPhone tasks"
	if ws.Wait {
		fmt.Fprintf(&b, "%d of %d tasks are still running after %s (%s is %s):\n",
			len(timedOut), len(all), elapsed.Round(time.Second), ws.TimeoutName, ws.Timeout)
	} else {
		summary = "Timed out reading KooPhone tasks"
		fmt.Fprintf(&b, "%d of %d tasks could not be read within %s (%s):\n", len(timedOut), len(all), ws.TimeoutName, ws.Timeout)
	}
	for i, r := range timedOut {
		if i == maxListedTasks {
			fmt.Fprintf(&b, "\n  ... and %d more.", len(timedOut)-i)
			break
		}
		progress := progressSentence(r.Task.Tally())
		if !r.Observed {
			progress = fmt.Sprintf("not read successfully in %d polls", r.Polls)
			if errors.As(r.Err, &stop) && stop.LastErr != nil {
				progress += fmt.Sprintf("; the last poll failed: %v", stop.LastErr)
			}
			progress += "."
		}
		fmt.Fprintf(&b, "\n  - %q: %s", r.TaskID, progress)
	}
	var done koophone.Tally
	for _, r := range all {
		if t := r.Task.Tally(); r.Err == nil && t.Outcome() != koophone.Running {
			done.Add(t.Outcome())
		}
	}
	if done.Total > 0 {
		fmt.Fprintf(&b, "\n\nThe other %d tasks have finished: %d successful, %d failed.", done.Total, done.Successful, done.Failed)
	}
	b.WriteString("\n\nRaise timeouts.read (for example timeouts = { read = \"45m\" }) if the tasks need longer")
	if ws.Wait {
		b.WriteString(", or raise (or unset) the provider's rate_limit if it holds back the polls of many tasks and the API allows more requests")
	}
	return diag.NewErrorDiagnostic(summary, b.String()+".")
}

// failedTasksDiagnostic is the error of fail_on_job_failure for a read of
// total tasks: the failed jobs, task by task.
func failedTasksDiagnostic(failed []koophone.Task, total int) diag.Diagnostic {
	var b strings.Builder
	summary, subject := "KooPhone tasks failed", "the tasks"
	if total == 1 {
		summary, subject = "KooPhone task failed", "the task"
		t := failed[0].Tally()
		fmt.Fprintf(&b, "%d of %d jobs of task %q failed, and fail_on_job_failure is true:\n", t.Failed, t.Total, failed[0].ID)
	} else {
		fmt.Fprintf(&b, "%d of %d tasks finished with failed jobs, and fail_on_job_failure is true:\n", len(failed), total)
	}
	listed, unlisted := 0, 0
	for _, task := range failed {
		if total > 1 && listed < maxListedFailedJobs {
			fmt.Fprintf(&b, "\n  task %q: %d of %d jobs failed", task.ID, task.Tally().Failed, len(task.Jobs))
		}
		for _, j := range task.Jobs {
			if j.State() != koophone.Failed {
				continue
			}
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
	fmt.Fprintf(&b, "\n\nSet fail_on_job_failure = false to read %s anyway and gate on the state and jobs yourself.", subject)
	return diag.NewErrorDiagnostic(summary, b.String())
}

// describeListFailure explains a failed listing; list is what the pages
// before the first one not read gave.
func describeListFailure(err error, list koophone.InstanceList, filter koophone.InstanceFilter, pd *providerData) (string, string) {
	failed := list.FailedPage
	if failed == 0 {
		failed = list.Pages + 1
	}
	where := fmt.Sprintf("page %d", failed)
	if list.Pages > 0 {
		where += fmt.Sprintf(", after %d pages and %d phones", list.Pages, len(list.Instances))
	}
	what := fmt.Sprintf("Listing phones (GET /v1/instances/batch-query, %s) on %s", describeFilter(filter), where)
	var stopped *koophone.StoppedError
	switch {
	case errors.As(err, &stopped) && errors.Is(stopped.Cause, context.DeadlineExceeded):
		return "Timed out listing KooPhone phones", fmt.Sprintf("%s did not finish: %s.\n\n"+
			"Raise timeouts.read (for example timeouts = { read = \"30m\" }), or list fewer phones with a filter.", what, stopReason(stopped.Cause))
	case errors.As(err, &stopped):
		return "Listing KooPhone phones interrupted", fmt.Sprintf("%s was interrupted: %s.", what, stopReason(stopped.Cause))
	}
	return describeAPIFailure(what, err, pd)
}

// submitDiagnostic explains a submit that did not give a task: what
// names it, such as "The adb command to 3 phone(s)"; after says what
// became of the rollout, or "" when nothing was submitted at all.
func submitDiagnostic(noun string, err error, what, after string, pd *providerData) diag.Diagnostic {
	unknown, isUnknown := errors.AsType[*koophone.OutcomeUnknownError](err)
	stopped, isStopped := errors.AsType[*koophone.StoppedError](err)
	switch {
	case isUnknown:
		cause := unknown.Err.Error()
		if isStopped {
			cause = stopReason(stopped.Cause) + " while the submit was in flight"
		}
		next := "Nothing was saved in state. Look for the task in the KooPhone console, or ask KooPhone support about request id " +
			unknown.RequestID + ". If it was created, follow it with the koophone_instance_task data source; if not, run terraform apply again."
		if after != "" {
			next = "Its phones' state is submit_unknown: ask KooPhone support about request id " + unknown.RequestID +
				" to learn whether the task exists. " + after
		}
		return diag.NewErrorDiagnostic("Outcome of the KooPhone "+noun+" unknown", fmt.Sprintf(
			"%s was sent, but no answer says whether the API accepted it: %s.\n\n"+
				"The task may exist and be running. The provider does not send it again, because a second submit would run it twice "+
				"on every phone. %s", what, cause, next))
	case isStopped:
		return diag.NewErrorDiagnostic("KooPhone "+noun+" not submitted", fmt.Sprintf(
			"%s was not sent: %s before the submit was sent. Nothing was submitted to its phones.%s", what, stopReason(stopped.Cause), spaced(after)))
	}
	// The client turns every failure after which the API may have acted
	// into an OutcomeUnknownError: this one was refused, or never sent.
	summary, detail := describeAPIFailure(what, err, pd)
	return diag.NewErrorDiagnostic(summary, detail+"\n\nNothing was submitted to its phones."+spaced(after))
}

func spaced(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// refreshDiagnostic explains a failed refresh of a resource's task; one
// the API no longer knows stays in state, with a warning.
func refreshDiagnostic(noun, taskID, state string, err error, pd *providerData) diag.Diagnostic {
	if errors.Is(err, koophone.ErrTaskNotFound) {
		return diag.NewWarningDiagnostic("KooPhone task no longer known",
			fmt.Sprintf("The KooPhone API no longer knows task %q of this %s (%s). It is kept in state as last seen (state %q), "+
				"not removed: removing it would make the next apply submit the %s again. To run it again on purpose, "+
				"change triggers or use terraform apply -replace.", taskID, noun, apiRef(err), state, noun))
	}
	return taskReadDiagnostic(taskwait.Result{TaskID: taskID, Err: err}, waitSettings{}, pd)
}

// epilogue is how an error about a rollout ends: what was kept of it (a
// resource's state, an action's tasks) and how to let failures pass; and
// how a warning about failures that pass ends.
type epilogue struct{ kept, accept, passing string }

// resourceEpilogue is a submit resource's: state keeps what happened.
func resourceEpilogue(creating bool) epilogue {
	e := epilogue{
		kept: "The task ids and the results so far are saved in state.",
		accept: "To record failures without failing the apply, set fail_on_job_failure = false and gate on state or failed_count; " +
			"to let a few phones fail, raise max_failed_phones.",
		passing: "so the apply goes on: gate on state, failed_count or not_submitted_count.",
	}
	if creating {
		e.kept = "The task ids and the results so far are saved in state, and Terraform marks the resource tainted: the next apply " +
			"rolls out again to every phone. To accept this outcome instead, run terraform untaint on the resource."
	}
	return e
}

// untriedNote says which waves of a rollout were never submitted.
func untriedNote(out rollout.Result) string {
	untried := out.Untried()
	if len(untried) == 0 {
		return ""
	}
	phones := 0
	for _, w := range untried {
		phones += len(w.InstanceIDs)
	}
	waves := fmt.Sprintf("wave %d", untried[0].Number)
	if n := len(untried); n > 1 {
		waves = fmt.Sprintf("waves %d to %d", untried[0].Number, untried[n-1].Number)
	}
	return fmt.Sprintf("The rollout stopped: %s of %d (%s) %s not submitted; %s state is not_submitted.",
		waves, len(out.Waves), nPhones(phones), plural(len(untried), "was", "were"), plural(phones, "its", "their"))
}

// nPhones is "1 phone", "2 phones".
func nPhones(n int) string { return fmt.Sprintf("%d %s", n, plural(n, "phone", "phones")) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// rolloutDiagnostics explains a rollout that did not end well: a submit
// that failed, a wait that failed or was stopped, more failed phones than
// the budget (an error with fail_on_job_failure, else a warning when it
// stopped the rollout).
func rolloutDiagnostics(noun string, out rollout.Result, results phones, ws waitSettings, budget int, end epilogue,
	elapsed time.Duration, pd *providerData,
) diag.Diagnostics {
	var diags diag.Diagnostics
	untried := untriedNote(out)
	stop, overBudget := errors.AsType[*rollout.BudgetError](out.Stop)
	switch {
	case out.Stop == nil || overBudget:
		if ws.FailOnJobFailure && (out.Failed > budget || overBudget && stop.Canary) {
			why := overBudgetNote(budget)
			if out.Failed <= budget {
				why = ", in the canary (wave 1),"
			}
			diags.AddError(failedPhones(noun, results, why+" and fail_on_job_failure is true", untried, end.kept+" "+end.accept))
		} else if overBudget && untried != "" {
			diags.AddWarning("KooPhone rollout stopped by its failures", fmt.Sprintf("%s. %s fail_on_job_failure is false, %s",
				capitalize(out.Stop.Error()), untried, end.passing))
		}
		return diags
	}
	for _, w := range out.Waves {
		if w.SubmitErr != nil && w.SubmitErr == out.Stop {
			what := fmt.Sprintf("Wave %d of %d of the %s (%s)", w.Number, len(out.Waves), noun, nPhones(len(w.InstanceIDs)))
			diags.Append(submitDiagnostic(noun, w.SubmitErr, what, strings.TrimSpace(untried+" "+end.kept), pd))
			return diags
		}
	}
	var reads []taskwait.Result
	for _, w := range out.Waves {
		if w.Submitted {
			reads = append(reads, w.Wait)
		}
	}
	diags.Append(waitDiagnostic(noun, out.Stop, reads, results, ws, end.kept, elapsed, untried, pd))
	return diags
}

// waitDiagnostic explains a wait for a resource's phones that ended
// before each had finished: one read failed for good, or cause (the
// timeout, Ctrl-C) stopped them.
func waitDiagnostic(noun string, cause error, reads []taskwait.Result, results phones, ws waitSettings, kept string,
	elapsed time.Duration, untried string, pd *providerData,
) diag.Diagnostic {
	var stoppedTasks []string
	var lastErr error
	unlisted := map[string]bool{}
	for _, res := range reads {
		stop, isStop := errors.AsType[*taskwait.StopError](res.Err)
		switch {
		case res.Err == nil:
			continue
		case !isStop:
			summary, detail := describeReadFailure(res, waitSettings{Wait: true}, pd)
			return diag.NewErrorDiagnostic(summary, detail+"\n\n"+strings.TrimSpace(untried+" "+kept))
		case errors.Is(stop.Cause, taskwait.ErrAbandoned):
			continue
		}
		stoppedTasks = append(stoppedTasks, fmt.Sprintf("%q", res.TaskID))
		cause = stop.Cause
		if stop.LastErr != nil {
			lastErr = stop.LastErr
		}
		for _, id := range res.Unlisted {
			unlisted[id] = true
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s", capitalize(stopReason(cause)))
	switch len(stoppedTasks) {
	case 0:
		b.WriteString(" between two waves")
	case 1:
		fmt.Fprintf(&b, " while waiting for task %s", stoppedTasks[0])
	default:
		fmt.Fprintf(&b, " while waiting for tasks %s", strings.Join(stoppedTasks, ", "))
	}
	fmt.Fprintf(&b, ", after %s. %s\n", elapsed.Round(time.Second), progressSentence(results.tally()))
	writePhones(&b, results, func(p phoneModel) bool {
		switch koophone.State(p.State) {
		case koophone.Pending, koophone.Running, koophone.Unknown:
			return true
		}
		return false
	}, unlisted, "Not finished")
	if lastErr != nil {
		fmt.Fprintf(&b, "\nThe last poll failed: %v.\n", lastErr)
	}
	if untried != "" {
		fmt.Fprintf(&b, "\n%s\n", untried)
	}
	_, timedOut := errors.AsType[timeoutExpired](cause)
	if !timedOut && !errors.Is(cause, context.DeadlineExceeded) {
		return diag.NewErrorDiagnostic("Wait for KooPhone "+noun+" interrupted", b.String()+"\n"+kept)
	}
	fmt.Fprintf(&b, "\n%s Raise %s if the %s needs longer.", kept, ws.TimeoutName, noun)
	return diag.NewErrorDiagnostic("Timed out waiting for KooPhone "+noun, b.String())
}

// overBudgetNote says, in a sentence on failed phones, that they exceed a
// budget above 0.
func overBudgetNote(budget int) string {
	if budget == 0 {
		return ","
	}
	return fmt.Sprintf(", more than max_failed_phones (%d),", budget)
}

// failedPhones explains failed phones, as an error's or a warning's
// summary and detail: why says what made them matter (see
// overBudgetNote), tail ends the text.
func failedPhones(noun string, results phones, why, untried, tail string) (summary, detail string) {
	t := results.tally()
	var b strings.Builder
	fmt.Fprintf(&b, "The %s failed on %d of %d phones%s.\n", noun, t.Failed, t.Total, why)
	writePhones(&b, results, func(p phoneModel) bool {
		return p.State == string(koophone.Failed) || p.State == string(koophone.Missing)
	}, nil, "Failed")
	if untried != "" {
		fmt.Fprintf(&b, "\n%s\n", untried)
	}
	b.WriteString("\n" + tail)
	return fmt.Sprintf("KooPhone %s failed on %d phone(s)", noun, t.Failed), b.String()
}

// writePhones lists the phones that match; unlisted are the job ids the
// task did not list.
func writePhones(b *strings.Builder, results phones, match func(phoneModel) bool, unlisted map[string]bool, title string) {
	ids := results.instanceIDs(match)
	fmt.Fprintf(b, "\n%s:\n", title)
	for i, id := range ids {
		if i == maxListedFailedJobs {
			fmt.Fprintf(b, "  ... and %d more (see results in state)\n", len(ids)-i)
			break
		}
		p := results[id]
		switch {
		case p.State == string(koophone.Missing):
			fmt.Fprintf(b, "  - %s: missing from the submit's answer (no job was created for it)\n", id)
		case p.JobID == "":
			fmt.Fprintf(b, "  - %s: %s: %s\n", id, p.State, strings.TrimSuffix(p.ErrorMsg, "."))
		case unlisted[p.JobID]:
			fmt.Fprintf(b, "  - %s: job %s not listed by the task yet\n", id, p.JobID)
		case p.Status == nil:
			fmt.Fprintf(b, "  - %s: %s (not read yet)\n", id, p.State)
		default:
			fmt.Fprintf(b, "  - %s: %s (status %d), error_code %q, error_msg %q, execute_msg %q\n", id, p.State, *p.Status, p.ErrorCode, p.ErrorMsg, p.ExecuteMsg)
		}
	}
}
