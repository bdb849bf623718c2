package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// The two task data sources, koophone_instance_task and its plural
// koophone_instance_tasks, read tasks alike (task_read.go): their
// acceptance tests, the singular's first.

// readCase is one read of one seeded task through the real Terraform CLI:
// the data source's arguments, and either the state it must produce or the
// error it must fail with.
type readCase struct {
	name string
	// task is the task under test; its id is filled in when empty.
	task emulator.TaskSpec
	// noTask reads task_id without seeding it.
	noTask string
	// faults are programmed for the task under test.
	faults []emulator.Fault
	// provider holds extra provider arguments, args the data source's.
	provider, args string
	checks         []statecheck.StateCheck
	wantErr        []string
	// requests checks the emulator's requests for the task afterwards.
	requests func(e *accEnv, id string) error
}

func runReadCases(t *testing.T, cases []readCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAccEnv(t)
			id := c.noTask
			if id == "" {
				id = e.addTask(c.task)
			}
			for _, f := range c.faults {
				f.Match = id
				e.addFault(f)
			}
			step := resource.TestStep{
				Config:            e.providerBlock(c.provider) + taskBlock(id, c.args),
				ConfigStateChecks: c.checks,
			}
			if c.wantErr != nil {
				step.ExpectError = errRE(c.wantErr...)
			}
			if c.requests != nil {
				step.Check = func(*terraform.State) error { return c.requests(e, id) }
			}
			e.parallelTest(step)
			if c.requests != nil && c.wantErr != nil {
				if err := c.requests(e, id); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func jobObject(id string, status int64, state, code, msg, out string) knownvalue.Check {
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"job_id": knownvalue.StringExact(id), "status": knownvalue.Int64Exact(status), "state": knownvalue.StringExact(state),
		"error_code": knownvalue.StringExact(code), "error_msg": knownvalue.StringExact(msg), "execute_msg": knownvalue.StringExact(out),
	})
}

func TestAccInstanceTask_reads(t *testing.T) {
	const (
		installID = "ZGCA0123456789abcdef0123456789ab"
		jobA      = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01"
		jobB      = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02"
		jobC      = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03"
	)
	// Still running when the test ends, however slow the CLI under load.
	never := emulator.Duration(24 * time.Hour)
	reads := func(least int) func(e *accEnv, id string) error {
		return func(e *accEnv, id string) error {
			if n := e.emu.Reads(id); n < least {
				return fmt.Errorf("task was read %d times; the wait stopped early", n)
			}
			return nil
		}
	}
	runReadCases(t, []readCase{
		{
			// The example of the API reference: a failed job with a null
			// execute_msg. Read once, without waiting, with the defaults.
			name: "api reference example",
			task: emulator.TaskSpec{TaskID: "6837531fd3f54550927b930180a706bf", Jobs: []emulator.JobSpec{
				{JobID: "9a4d2bd5ba3a4a4a8d5e2bca0e3cbf01", Status: emulator.StatusSucceeded, ErrorCode: str(""), ErrorMsg: str(""), ExecuteMsg: str("total 0\ndrwxr-xr-x 2 root root 40 app")},
				{JobID: "1564567b8bab40f34711234cb80d0123", Status: emulator.StatusFailed, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
			}},
			checks: append(expectState("failed", 2, 0, 0, 1, 1, 0),
				expectAttr(at("id"), knownvalue.StringExact("6837531fd3f54550927b930180a706bf")),
				expectAttr(at("task_type"), knownvalue.StringExact("command")),
				expectAttr(at("wait_for_completion"), knownvalue.Bool(false)),
				expectAttr(at("fail_on_job_failure"), knownvalue.Bool(false)),
				expectAttr(at("poll_interval"), knownvalue.StringExact("10s")),
				expectAttr(at("jobs"), knownvalue.ListExact([]knownvalue.Check{
					jobObject("9a4d2bd5ba3a4a4a8d5e2bca0e3cbf01", 2, "successful", "", "", "total 0\ndrwxr-xr-x 2 root root 40 app"),
					jobObject("1564567b8bab40f34711234cb80d0123", -1, "failed", "CPS0005", "Phone not found.", ""),
				})),
			),
		},
		{
			// Without waiting, a running task is read as it is, and the
			// request carries the headers the API requires.
			name: "running, read once",
			task: emulator.TaskSpec{Jobs: []emulator.JobSpec{
				{Status: emulator.StatusSucceeded, After: never}, {Status: 7}, {Status: emulator.StatusSucceeded},
			}},
			checks: append(expectState("running", 3, 0, 1, 1, 0, 1),
				expectAttr(job(0, "state"), knownvalue.StringExact("running")),
				expectAttr(job(1, "status"), knownvalue.Int64Exact(7)),
				expectAttr(job(1, "state"), knownvalue.StringExact("unknown"))),
			requests: func(e *accEnv, _ string) error {
				for _, r := range e.emu.Requests() {
					if !r.HasToken || r.RequestID == "" || !strings.HasPrefix(r.UserAgent, "terraform-provider-koophone/acctest Terraform/") {
						return fmt.Errorf("request without the required headers: %+v", r)
					}
				}
				return nil
			},
		},
		{
			// A task with no job yet is running, and its jobs list is
			// empty, not null.
			name:   "no jobs yet",
			task:   emulator.TaskSpec{TaskID: installID, Jobs: []emulator.JobSpec{}},
			checks: append(expectState("running", 0), expectAttr(at("task_type"), knownvalue.StringExact("app_install")), expectAttr(at("jobs"), knownvalue.ListExact([]knownvalue.Check{}))),
		},
		{
			// An app install whose jobs have not started (status 0) is
			// pending, not unknown.
			name: "app install not started, read once",
			task: emulator.TaskSpec{TaskID: installID, Jobs: []emulator.JobSpec{
				{Status: emulator.StatusSucceeded, StartAfter: never, After: never},
				{Status: emulator.StatusSucceeded, After: never},
				{Status: emulator.StatusInstallFailed, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
			}},
			checks: append(expectState("running", 3, 1, 1, 0, 1, 0),
				expectAttr(job(0, "status"), knownvalue.Int64Exact(0)),
				expectAttr(job(0, "state"), knownvalue.StringExact("pending")),
				expectAttr(job(2, "status"), knownvalue.Int64Exact(3)),
				expectAttr(job(2, "state"), knownvalue.StringExact("failed"))),
		},
		{
			// Waiting polls until every job has finished. Progress is
			// programmed in polls, so the test does not depend on how long
			// Terraform takes to start.
			name: "wait until successful",
			task: emulator.TaskSpec{Jobs: []emulator.JobSpec{
				{Status: emulator.StatusSucceeded, AfterPolls: 3, ExecuteMsg: str("Success")},
				{Status: emulator.StatusSucceeded, AfterPolls: 6, ExecuteMsg: str("Success")},
			}},
			args: "wait_for_completion = true\n  poll_interval = \"5s\"",
			checks: append(expectState("successful", 2, 0, 0, 2, 0, 0),
				expectAttr(at("poll_interval"), knownvalue.StringExact("5s")),
				expectAttr(at("wait_for_completion"), knownvalue.Bool(true)),
				expectAttr(job(1, "execute_msg"), knownvalue.StringExact("Success"))),
			// The last job finishes on the seventh read.
			requests: reads(7),
		},
		{
			// An app install goes 0 -> 1 -> 2: the wait sees it through.
			name: "wait for an app install",
			task: emulator.TaskSpec{TaskID: installID, Jobs: []emulator.JobSpec{
				{Status: emulator.StatusSucceeded, StartAfterPolls: 2, AfterPolls: 4, ExecuteMsg: str("Success")},
				{Status: emulator.StatusSucceeded, StartAfterPolls: 1, AfterPolls: 3, ExecuteMsg: str("Success")},
			}},
			args:     "wait_for_completion = true",
			checks:   expectState("successful", 2, 0, 0, 2, 0, 0),
			requests: reads(5),
		},
		{
			// Waiting ends with a failed task when a job fails; without
			// fail_on_job_failure that is a result to gate on.
			name: "wait until failed",
			task: emulator.TaskSpec{Jobs: []emulator.JobSpec{
				{Status: emulator.StatusSucceeded, AfterPolls: 1},
				{Status: emulator.StatusFailed, AfterPolls: 2, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
			}},
			args:   "wait_for_completion = true",
			checks: append(expectState("failed", 2, 0, 0, 1, 1, 0), expectAttr(job(1, "error_code"), knownvalue.StringExact("CPS0005"))),
		},
		{
			// A failed app install (status 3) ends the wait as failed,
			// instead of running into timeouts.read.
			name: "wait until an app install failed",
			task: emulator.TaskSpec{TaskID: installID, Jobs: []emulator.JobSpec{
				{Status: emulator.StatusSucceeded, StartAfterPolls: 1, AfterPolls: 2},
				{Status: emulator.StatusInstallFailed, StartAfterPolls: 1, AfterPolls: 3, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
			}},
			args:     "wait_for_completion = true\n  timeouts = { read = \"10m\" }",
			checks:   append(expectState("failed", 2, 0, 0, 1, 1, 0), expectAttr(job(1, "state"), knownvalue.StringExact("failed"))),
			requests: reads(4),
		},
		{
			// fail_on_job_failure turns a failed task into an error listing
			// every failed job.
			name: "fail on job failure",
			task: emulator.TaskSpec{Jobs: []emulator.JobSpec{
				{JobID: jobA, Status: emulator.StatusFailed, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
				{JobID: jobB, Status: emulator.StatusSucceeded},
				{JobID: jobC, Status: emulator.StatusFailed, After: emulator.Duration(time.Second),
					ErrorCode: str("CPS0301"), ErrorMsg: str("Command timed out."), ExecuteMsg: str("partial output")},
			}},
			args: "wait_for_completion = true\n  fail_on_job_failure = true",
			wantErr: []string{"KooPhone task failed", "2 of 3 jobs of task", "failed",
				`job_id "` + jobA + `": error_code "CPS0005", error_msg "Phone not found.", execute_msg ""`,
				`job_id "` + jobC + `": error_code "CPS0301", error_msg "Command timed out.", execute_msg "partial output"`,
				"Set fail_on_job_failure = false"},
		},
		{
			name: "fail on a failed app install",
			task: emulator.TaskSpec{TaskID: installID, Jobs: []emulator.JobSpec{
				{JobID: jobA, Status: emulator.StatusInstallFailed, StartAfterPolls: 1, AfterPolls: 2, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
				{JobID: jobB, Status: emulator.StatusSucceeded, StartAfterPolls: 1, AfterPolls: 1},
			}},
			args: "wait_for_completion = true\n  fail_on_job_failure = true",
			wantErr: []string{"KooPhone task failed", `1 of 2 jobs of task "` + installID + `" failed`,
				`job_id "` + jobA + `": error_code "CPS0005", error_msg "Phone not found."`},
		},
		{
			// fail_on_job_failure does not fail a task that is only running.
			name:   "fail on job failure ignores a running task",
			task:   emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusFailed}, {Status: emulator.StatusRunning}}},
			args:   "fail_on_job_failure = true",
			checks: expectState("running", 2, 0, 1, 0, 1, 0),
		},
		{
			// A wait that reaches timeouts.read fails with the progress so far.
			name: "wait timeout",
			task: emulator.TaskSpec{Jobs: []emulator.JobSpec{
				{Status: emulator.StatusSucceeded}, {Status: emulator.StatusRunning}, {Status: emulator.StatusPending},
			}},
			args: "wait_for_completion = true\n  timeouts = { read = \"3s\" }",
			// The elapsed time is not asserted: it runs on the wall clock.
			wantErr: []string{"Timed out waiting for KooPhone task", `is still running after`, `(timeouts.read is 3s): timeouts.read (3s) ran out.`,
				"1 of 3 jobs done (1 successful, 0 failed), 1 still running, 1 not started.", "Last state: running", "Raise timeouts.read"},
		},
		{
			// Reading an unknown task without waiting is an immediate error.
			name:    "not found",
			noTask:  "0000000000000000000000000000dead",
			wantErr: []string{"KooPhone task not found", `no task with the id "0000000000000000000000000000dead"`, "error code KOOPHONE.API.1323, HTTP 400", "request id", "set wait_for_completion = true"},
			requests: func(e *accEnv, id string) error {
				if n := e.apiRequests("/" + id); n != 1 {
					return fmt.Errorf("not found was requested %d times, want once (no retry)", n)
				}
				return nil
			},
		},
		{
			// A wait tolerates "not found" for a grace period, then gives up.
			name:    "not found after the grace",
			noTask:  "0000000000000000000000000000beef",
			args:    "wait_for_completion = true",
			wantErr: []string{"KooPhone task not found", "invisible for the 30s grace period"},
			requests: func(e *accEnv, id string) error {
				if n := e.apiRequests("/" + id); n < 3 {
					return fmt.Errorf("a wait gave up on a missing task after %d polls", n)
				}
				return nil
			},
		},
		{
			// A task that appears a few polls after it was submitted is waited for.
			name:   "late task",
			task:   emulator.TaskSpec{VisibleAfterPolls: 3, Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1}}},
			args:   "wait_for_completion = true",
			checks: expectState("successful", 1, 0, 0, 1, 0, 0),
		},
		{
			// Transient faults are retried within max_retries when reading once.
			name: "read once retries transient faults",
			task: emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, ExecuteMsg: str("ok")}}},
			faults: []emulator.Fault{
				{Kind: emulator.FaultError, Status: 500, Code: "KOOPHONE.API.9999"},
				{Kind: emulator.FaultError, Status: 429, Code: "APIGW.0308", RetryAfter: "1"},
				{Kind: emulator.FaultHTML, Status: 502},
				{Kind: emulator.FaultDrop},
			},
			checks: append(expectState("successful", 1, 0, 0, 1, 0, 0), expectAttr(job(0, "execute_msg"), knownvalue.StringExact("ok"))),
			requests: func(e *accEnv, id string) error {
				if n := e.apiRequests("/" + id); n != 5 {
					return fmt.Errorf("%d requests, want 4 faulted and 1 clean", n)
				}
				return nil
			},
		},
		{
			// When every attempt fails transiently, the error says so; the
			// attempts are bounded by max_retries.
			name:     "read once exhausts max_retries",
			task:     emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}},
			faults:   []emulator.Fault{{Count: -1, Kind: emulator.FaultError, Status: 503, Code: "KOOPHONE.API.9999", Message: "service busy"}},
			provider: "max_retries = 2",
			wantErr:  []string{"KooPhone API unavailable", "failed 3 times in a row", "KOOPHONE.API.9999", "service busy", "raise the provider's max_retries"},
			requests: func(e *accEnv, id string) error {
				if n := e.apiRequests("/" + id); n != 3 {
					return fmt.Errorf("%d attempts, want 3 (1 + max_retries)", n)
				}
				return nil
			},
		},
		{
			// While waiting, a failed poll is retried by the wait's own
			// schedule: with max_retries = 0, four failed polls do not end
			// the wait, which goes on until the task is seen finished.
			name:     "wait polls through transient errors",
			task:     emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1, ExecuteMsg: str("ok")}}},
			faults:   []emulator.Fault{{Count: 4, Kind: emulator.FaultError, Status: 503}},
			provider: "max_retries = 0",
			args:     "wait_for_completion = true",
			checks:   append(expectState("successful", 1, 0, 0, 1, 0, 0), expectAttr(job(0, "execute_msg"), knownvalue.StringExact("ok"))),
		},
	})
}

// A task_id known only after apply (here from a terraform_data resource)
// defers the read to apply, where the wait happens.
func TestAccInstanceTask_taskIDUnknownUntilApply(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, After: emulator.Duration(time.Second)}}})
	e.parallelTest(resource.TestStep{
		Config: e.providerBlock() + fmt.Sprintf(`
resource "terraform_data" "submit" {
  input = %q
}

data "koophone_instance_task" "t" {
  task_id             = terraform_data.submit.output
  wait_for_completion = true
}
`, id),
		ConfigPlanChecks: unknownAtPlan(taskAddr, "state", "jobs"),
		ConfigStateChecks: []statecheck.StateCheck{
			expectAttr(at("id"), knownvalue.StringExact(id)),
			expectAttr(at("state"), knownvalue.StringExact("successful")),
		},
	})
}

// The gate: a postcondition on the data source stops the apply when the
// task failed, so nothing that depends on it is created; once the task
// succeeds the dependent resource is created.
func TestAccInstanceTask_postconditionGate(t *testing.T) {
	e := newAccEnv(t)
	failed := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded, After: emulator.Duration(500 * time.Millisecond)},
		{Status: emulator.StatusFailed, After: emulator.Duration(800 * time.Millisecond), ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
	}})
	succeeded := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, After: emulator.Duration(500 * time.Millisecond)}}})
	config := func(taskID string) string {
		return e.providerBlock() + fmt.Sprintf(`
resource "terraform_data" "submit" {
  input = %q
}

data "koophone_instance_task" "t" {
  task_id             = terraform_data.submit.output
  wait_for_completion = true

  lifecycle {
    postcondition {
      condition     = self.state == "successful"
      error_message = "KooPhone task ${self.id} ended ${self.state}: ${self.failed_count} of ${self.job_count} jobs failed."
    }
  }
}

resource "terraform_data" "rollout" {
  input = data.koophone_instance_task.t.successful_count
}
`, taskID)
	}
	e.parallelTest(
		resource.TestStep{
			Config:      config(failed),
			ExpectError: errRE("Resource postcondition failed", "KooPhone task "+failed+" ended failed: 1 of 2 jobs failed."),
		},
		resource.TestStep{
			// The failed apply created nothing behind the gate: the
			// rollout is still to be created.
			Config: config(succeeded),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("terraform_data.rollout", plancheck.ResourceActionCreate),
				},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("terraform_data.rollout", at("output"), knownvalue.Int64Exact(1)),
			},
		},
	)
}

// Invalid task ids are rejected at plan time, before any request.
func TestAccInstanceTask_invalidTaskIDRejectedAtPlan(t *testing.T) {
	e := newAccEnv(t)
	cases := map[string]string{
		"":                      `string length must be between 1 and 64`,
		"../../admin":           `must contain only letters, digits, '_' and '-'`,
		"abc/def":               `must contain only letters, digits, '_' and '-'`,
		"task id":               `must contain only letters, digits, '_' and '-'`,
		"%2e%2e":                `must contain only letters, digits, '_' and '-'`,
		strings.Repeat("a", 65): `string length must be between 1 and 64`,
	}
	var steps []resource.TestStep
	for id, msg := range cases {
		steps = append(steps, rejectedAtPlan(e.providerBlock()+taskBlock(id), "Invalid Attribute Value", "task_id", msg))
	}
	steps = append(steps,
		rejectedAtPlan(e.providerBlock()+taskBlock("abc", `poll_interval = "500ms"`),
			"Duration too short", `poll_interval is "500ms", but it must be at least 1s.`),
		rejectedAtPlan(e.providerBlock()+taskBlock("abc", `poll_interval = "ten seconds"`),
			"Invalid duration", `poll_interval is "ten seconds", which is not a Go duration`),
		rejectedAtPlan(e.providerBlock()+taskBlock("abc", `timeouts = { read = "soon" }`),
			"Invalid Attribute Value Time Duration", `"soon" must be a string containing a sequence of decimal numbers`),
	)
	e.parallelTest(steps...)
	e.checkNoRequests()
}

// The plural, koophone_instance_tasks.

const tasksAddr = "data.koophone_instance_tasks.t"

var expectTasksAttr = expectAt(tasksAddr)

func taskAt(i int, name string) tfjsonpath.Path {
	return tfjsonpath.New("tasks").AtSliceIndex(i).AtMapKey(name)
}

// tasksConfig is a koophone_instance_tasks block over ids, with more
// arguments.
func tasksConfig(e *accEnv, ids []string, body string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	return e.providerBlock() + fmt.Sprintf("data \"koophone_instance_tasks\" \"t\" {\n  task_ids = [%s]\n%s\n}\n", strings.Join(quoted, ", "), body)
}

// Tasks in every state, read once: tasks in sorted id order, each like the
// singular data source, and the aggregates over all of them; each task's
// jobs are those include_jobs selects, while the counts never change.
func TestAccInstanceTasks_mixedStatesWithoutWaiting(t *testing.T) {
	e := newAccEnv(t)
	running := e.addTask(emulator.TaskSpec{TaskID: "c0000000000000000000000000000003", Jobs: []emulator.JobSpec{
		{JobID: "job-done", Status: emulator.StatusSucceeded},
		{JobID: "job-running", Status: emulator.StatusSucceeded, After: emulator.Duration(24 * time.Hour)},
	}})
	failed := e.addTask(emulator.TaskSpec{TaskID: "a0000000000000000000000000000001", Jobs: []emulator.JobSpec{
		{JobID: "job-ok", Status: emulator.StatusSucceeded, ExecuteMsg: str("done")},
		{JobID: "job-ko", Status: emulator.StatusFailed, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
	}})
	install := e.addTask(emulator.TaskSpec{TaskID: "ZGCA00000000000000000000000002", Jobs: []emulator.JobSpec{
		{JobID: "job-installed", Status: emulator.StatusSucceeded},
		{JobID: "job-odd", Status: 7},
		{JobID: "job-waiting", Status: emulator.StatusSucceeded, StartAfter: emulator.Duration(24 * time.Hour), After: emulator.Duration(24 * time.Hour)},
	}})
	ids := []string{running, failed, install}
	jobIDs := func(ids ...string) knownvalue.Check {
		checks := make([]knownvalue.Check, len(ids))
		for i, id := range ids {
			checks[i] = knownvalue.ObjectPartial(map[string]knownvalue.Check{"job_id": knownvalue.StringExact(id)})
		}
		return knownvalue.ListExact(checks)
	}
	totals := append(expectStateOf(tasksAddr, "running", 7, 1, 1, 3, 1, 1),
		expectTasksAttr(at("task_count"), knownvalue.Int64Exact(3)),
		expectTasksAttr(at("wait_for_completion"), knownvalue.Bool(false)),
		expectTasksAttr(at("fail_on_job_failure"), knownvalue.Bool(false)),
		expectTasksAttr(at("poll_interval"), knownvalue.StringExact("10s")),
		// Sorted by id: ZGCA... < a... < c... in byte order.
		expectTasksAttr(taskAt(0, "task_id"), knownvalue.StringExact(install)),
		expectTasksAttr(taskAt(0, "task_type"), knownvalue.StringExact("app_install")),
		expectTasksAttr(taskAt(0, "state"), knownvalue.StringExact("running")),
		expectTasksAttr(taskAt(0, "pending_count"), knownvalue.Int64Exact(1)),
		expectTasksAttr(taskAt(0, "unknown_count"), knownvalue.Int64Exact(1)),
		expectTasksAttr(taskAt(1, "task_id"), knownvalue.StringExact(failed)),
		expectTasksAttr(taskAt(1, "task_type"), knownvalue.StringExact("command")),
		expectTasksAttr(taskAt(1, "state"), knownvalue.StringExact("failed")),
		expectTasksAttr(taskAt(2, "task_id"), knownvalue.StringExact(running)),
		expectTasksAttr(taskAt(2, "state"), knownvalue.StringExact("running")),
		expectTasksAttr(taskAt(2, "running_count"), knownvalue.Int64Exact(1)),
		expectTasksAttr(taskAt(2, "successful_count"), knownvalue.Int64Exact(1)),
	)
	with := func(checks ...statecheck.StateCheck) []statecheck.StateCheck {
		return append(append([]statecheck.StateCheck(nil), totals...), checks...)
	}
	e.parallelTest(
		resource.TestStep{
			// By default, the jobs that did not succeed.
			Config: tasksConfig(e, ids, ""),
			ConfigStateChecks: with(
				expectTasksAttr(at("include_jobs"), knownvalue.StringExact("failed")),
				expectTasksAttr(taskAt(0, "jobs"), jobIDs("job-odd", "job-waiting")),
				expectTasksAttr(taskAt(1, "jobs"), knownvalue.ListExact([]knownvalue.Check{
					jobObject("job-ko", -1, "failed", "CPS0005", "Phone not found.", ""),
				})),
				expectTasksAttr(taskAt(2, "jobs"), jobIDs("job-running")),
			),
		},
		resource.TestStep{
			Config: tasksConfig(e, ids, `include_jobs = "all"`),
			ConfigStateChecks: with(
				expectTasksAttr(taskAt(0, "jobs"), jobIDs("job-installed", "job-odd", "job-waiting")),
				expectTasksAttr(taskAt(1, "jobs"), knownvalue.ListExact([]knownvalue.Check{
					jobObject("job-ok", 2, "successful", "", "", "done"),
					jobObject("job-ko", -1, "failed", "CPS0005", "Phone not found.", ""),
				})),
				expectTasksAttr(taskAt(2, "jobs"), jobIDs("job-done", "job-running")),
			),
		},
		resource.TestStep{
			Config: tasksConfig(e, ids, `include_jobs = "none"`),
			ConfigStateChecks: with(
				expectTasksAttr(taskAt(0, "jobs"), knownvalue.Null()),
				expectTasksAttr(taskAt(1, "jobs"), knownvalue.Null()),
			),
		},
	)
}

// Waiting polls every task concurrently until the last one finishes; a
// task that has finished is not polled again.
func TestAccInstanceTasks_waitPollsAllAndStopsFinishedTasks(t *testing.T) {
	e := newAccEnv(t)
	quick := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	slow := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded, AfterPolls: 2},
		{Status: emulator.StatusSucceeded, AfterPolls: 5},
	}})
	done := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusFailed}}})
	e.parallelTest(resource.TestStep{
		Config: tasksConfig(e, []string{quick, slow, done}, "wait_for_completion = true\npoll_interval = \"5s\""),
		ConfigStateChecks: append(expectStateOf(tasksAddr, "failed", 4, 0, 0, 3, 1, 0),
			expectTasksAttr(at("wait_for_completion"), knownvalue.Bool(true)),
			expectTasksAttr(at("poll_interval"), knownvalue.StringExact("5s")),
		),
		Check: func(*terraform.State) error {
			// The first read ends when slow is seen finished, on its
			// sixth GET. Until then quick was read twice (running, then
			// finished) and done once: finished tasks are not polled.
			var quickReads, doneReads, slowReads int
			for _, r := range e.emu.Requests() {
				switch {
				case strings.HasSuffix(r.Path, slow):
					slowReads++
				case slowReads >= 6:
				case strings.HasSuffix(r.Path, quick):
					quickReads++
				case strings.HasSuffix(r.Path, done):
					doneReads++
				}
				if slowReads == 6 {
					break
				}
			}
			if slowReads < 6 || quickReads != 2 || doneReads != 1 {
				return fmt.Errorf("during the first read: slow %d, quick %d, done %d reads; want >=6, 2, 1", slowReads, quickReads, doneReads)
			}
			return nil
		},
	})
}

// fail_on_job_failure lists the failed jobs task by task.
func TestAccInstanceTasks_failOnJobFailureListsFailedJobsByTask(t *testing.T) {
	e := newAccEnv(t)
	a := e.addTask(emulator.TaskSpec{TaskID: "a0000000000000000000000000000001", Jobs: []emulator.JobSpec{
		{JobID: "a-job-1", Status: emulator.StatusFailed, AfterPolls: 1, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
		{JobID: "a-job-2", Status: emulator.StatusSucceeded},
	}})
	b := e.addTask(emulator.TaskSpec{TaskID: "b0000000000000000000000000000002", Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 2}}})
	c := e.addTask(emulator.TaskSpec{TaskID: "c0000000000000000000000000000003", Jobs: []emulator.JobSpec{
		{JobID: "c-job-1", Status: emulator.StatusFailed, ErrorCode: str("CPS0301"), ErrorMsg: str("Command timed out."), ExecuteMsg: str("partial")},
	}})
	e.parallelTest(resource.TestStep{
		Config: tasksConfig(e, []string{c, b, a}, "wait_for_completion = true\nfail_on_job_failure = true"),
		ExpectError: errRE("KooPhone tasks failed", "2 of 3 tasks finished with failed jobs, and fail_on_job_failure is true",
			`task "`+a+`": 1 of 2 jobs failed`,
			`job_id "a-job-1": error_code "CPS0005", error_msg "Phone not found.", execute_msg ""`,
			`task "`+c+`": 1 of 1 jobs failed`,
			`job_id "c-job-1": error_code "CPS0301", error_msg "Command timed out.", execute_msg "partial"`,
			"Set fail_on_job_failure = false"),
	})
}

// A wait that reaches timeouts.read lists the tasks still running, and
// only those, with how far each got.
func TestAccInstanceTasks_timeoutListsTheTasksStillRunning(t *testing.T) {
	e := newAccEnv(t)
	finished := e.addTask(emulator.TaskSpec{TaskID: "a000000000000000000000000000000f", Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	stuck1 := e.addTask(emulator.TaskSpec{TaskID: "b0000000000000000000000000000001", Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded}, {Status: emulator.StatusRunning},
	}})
	stuck2 := e.addTask(emulator.TaskSpec{TaskID: "c0000000000000000000000000000002", Jobs: []emulator.JobSpec{{Status: emulator.StatusRunning}}})
	e.parallelTest(resource.TestStep{
		Config: tasksConfig(e, []string{stuck2, finished, stuck1}, "wait_for_completion = true\ntimeouts = { read = \"3s\" }"),
		ExpectError: errRE("Timed out waiting for KooPhone tasks", "2 of 3 tasks are still running after", "(timeouts.read is 3s):",
			`- "`+stuck1+`": 1 of 2 jobs done (1 successful, 0 failed), 1 still running.`,
			`- "`+stuck2+`": 0 of 1 jobs done (0 successful, 0 failed), 1 still running.`,
			"The other 1 tasks have finished: 1 successful, 0 failed.", "Raise timeouts.read"),
	})
	for _, r := range e.emu.Requests() {
		if strings.Contains(r.Path, finished) && e.emu.Reads(finished) > 2 {
			t.Errorf("the finished task was read %d times", e.emu.Reads(finished))
			break
		}
	}
}

// An unknown task fails the read with the singular's error, naming it; the
// other tasks are not reported.
func TestAccInstanceTasks_unknownTask(t *testing.T) {
	e := newAccEnv(t)
	known := e.addSucceededTask()
	e.parallelTest(resource.TestStep{
		Config: tasksConfig(e, []string{known, "0000000000000000000000000000dead"}, ""),
		ExpectError: errRE("KooPhone task not found", `no task with the id "0000000000000000000000000000dead"`,
			"error code KOOPHONE.API.1323"),
	})
}

// The id limits are checked at plan time, before any request: 1 to 1,000
// ids, each valid as in the singular data source.
func TestAccInstanceTasks_idLimitsAtPlan(t *testing.T) {
	e := newAccEnv(t)
	ids := make([]string, maxTaskIDs+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%05d", i)
	}
	e.parallelTest(
		rejectedAtPlan(tasksConfig(e, ids, ""), "Invalid Attribute Value", "task_ids", "list must contain at least 1 elements and at most 1000 elements, got: 1001"),
		rejectedAtPlan(tasksConfig(e, nil, ""), "Invalid Attribute Value", "task_ids", "at least 1 elements"),
		rejectedAtPlan(tasksConfig(e, []string{"abc", "../../admin"}, ""), "task_ids", `must contain only letters, digits, '_' and '-'`),
		rejectedAtPlan(tasksConfig(e, []string{"abc", strings.Repeat("a", 65)}, ""), "task_ids", "string length must be between 1 and 64"),
		rejectedAtPlan(tasksConfig(e, []string{"abc"}, `include_jobs = "failures"`), "Invalid Attribute Value Match", "include_jobs", `value must be one of: ["failed" "all" "none"], got: "failures"`),
		rejectedAtPlan(tasksConfig(e, []string{"abc"}, "poll_interval = \"500ms\""), "Duration too short", `poll_interval is "500ms", but it must be at least 1s.`),
	)
	e.checkNoRequests()
}

// The largest set allowed, 1,000 tasks, is read in one read.
func TestAccInstanceTasks_thousandTasks(t *testing.T) {
	e := newAccEnv(t)
	ids := make([]string, maxTaskIDs)
	for i := range ids {
		ids[i] = e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}, {Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	}
	e.parallelTest(resource.TestStep{
		Config: tasksConfig(e, ids, "wait_for_completion = true"),
		ConfigStateChecks: []statecheck.StateCheck{
			expectTasksAttr(at("state"), knownvalue.StringExact("successful")),
			expectTasksAttr(at("task_count"), knownvalue.Int64Exact(maxTaskIDs)),
			expectTasksAttr(at("successful_count"), knownvalue.Int64Exact(2*maxTaskIDs)),
			expectTasksAttr(at("tasks"), knownvalue.ListSizeExact(maxTaskIDs)),
		},
	})
}

// task_ids known only after apply defer the read (and the wait) to apply.
func TestAccInstanceTasks_idsUnknownUntilApply(t *testing.T) {
	e := newAccEnv(t)
	a := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	b := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, After: emulator.Duration(500 * time.Millisecond)}}})
	e.parallelTest(resource.TestStep{
		Config: e.providerBlock() + fmt.Sprintf(`
resource "terraform_data" "submit" {
  input = [%q, %q]
}

data "koophone_instance_tasks" "t" {
  task_ids            = terraform_data.submit.output
  wait_for_completion = true
}
`, a, b),
		ConfigPlanChecks: unknownAtPlan(tasksAddr, "state", "tasks"),
		ConfigStateChecks: []statecheck.StateCheck{
			expectTasksAttr(at("state"), knownvalue.StringExact("successful")),
			expectTasksAttr(at("task_count"), knownvalue.Int64Exact(2)),
		},
	})
}

// Throttling answers while waiting slow the provider down; the wait goes
// on and ends when the tasks finish.
func TestAccInstanceTasks_waitThroughThrottling(t *testing.T) {
	e := newAccEnv(t)
	a := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 2}}})
	b := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	e.addFault(emulator.Fault{Count: 3, Kind: emulator.FaultError, Status: 429, RetryAfter: "1"})
	e.parallelTest(resource.TestStep{
		Config: tasksConfig(e, []string{a, b}, "wait_for_completion = true"),
		ConfigStateChecks: []statecheck.StateCheck{
			expectTasksAttr(at("state"), knownvalue.StringExact("successful")),
		},
		Check: func(*terraform.State) error {
			throttled := 0
			for _, r := range e.emu.Requests() {
				if r.Status == 429 {
					throttled++
				}
			}
			if throttled != 3 {
				return fmt.Errorf("%d throttled requests, want 3", throttled)
			}
			return nil
		},
	})
}
