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

const tasksAddr = "data.koophone_instance_tasks.t"

func expectTasksAttr(path tfjsonpath.Path, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(tasksAddr, path, v)
}

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
	totals := []statecheck.StateCheck{
		expectTasksAttr(at("state"), knownvalue.StringExact("running")),
		expectTasksAttr(at("task_count"), knownvalue.Int64Exact(3)),
		expectTasksAttr(at("job_count"), knownvalue.Int64Exact(7)),
		expectTasksAttr(at("pending_count"), knownvalue.Int64Exact(1)),
		expectTasksAttr(at("running_count"), knownvalue.Int64Exact(1)),
		expectTasksAttr(at("successful_count"), knownvalue.Int64Exact(3)),
		expectTasksAttr(at("failed_count"), knownvalue.Int64Exact(1)),
		expectTasksAttr(at("unknown_count"), knownvalue.Int64Exact(1)),
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
	}
	with := func(checks ...statecheck.StateCheck) []statecheck.StateCheck {
		return append(append([]statecheck.StateCheck(nil), totals...), checks...)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{
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
			{
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
			{
				Config: tasksConfig(e, ids, `include_jobs = "none"`),
				ConfigStateChecks: with(
					expectTasksAttr(taskAt(0, "jobs"), knownvalue.Null()),
					expectTasksAttr(taskAt(1, "jobs"), knownvalue.Null()),
				),
			},
		},
	})
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
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: tasksConfig(e, []string{quick, slow, done}, "wait_for_completion = true\npoll_interval = \"5s\""),
			ConfigStateChecks: []statecheck.StateCheck{
				expectTasksAttr(at("state"), knownvalue.StringExact("failed")),
				expectTasksAttr(at("running_count"), knownvalue.Int64Exact(0)),
				expectTasksAttr(at("successful_count"), knownvalue.Int64Exact(3)),
				expectTasksAttr(at("failed_count"), knownvalue.Int64Exact(1)),
				expectTasksAttr(at("wait_for_completion"), knownvalue.Bool(true)),
				expectTasksAttr(at("poll_interval"), knownvalue.StringExact("5s")),
			},
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
		}},
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
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: tasksConfig(e, []string{c, b, a}, "wait_for_completion = true\nfail_on_job_failure = true"),
			ExpectError: errRE("KooPhone tasks failed", "2 of 3 tasks finished with failed jobs, and fail_on_job_failure is true",
				`task "`+a+`": 1 of 2 jobs failed`,
				`job_id "a-job-1": error_code "CPS0005", error_msg "Phone not found.", execute_msg ""`,
				`task "`+c+`": 1 of 1 jobs failed`,
				`job_id "c-job-1": error_code "CPS0301", error_msg "Command timed out.", execute_msg "partial"`,
				"Set fail_on_job_failure = false"),
		}},
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
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: tasksConfig(e, []string{stuck2, finished, stuck1}, "wait_for_completion = true\ntimeouts = { read = \"3s\" }"),
			ExpectError: errRE("Timed out waiting for KooPhone tasks", "2 of 3 tasks are still running after", "(timeouts.read is 3s):",
				`- "`+stuck1+`": 1 of 2 jobs done (1 successful, 0 failed), 1 still running.`,
				`- "`+stuck2+`": 0 of 1 jobs done (0 successful, 0 failed), 1 still running.`,
				"The other 1 tasks have finished: 1 successful, 0 failed.", "Raise timeouts.read"),
		}},
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
	known := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: tasksConfig(e, []string{known, "0000000000000000000000000000dead"}, ""),
			ExpectError: errRE("KooPhone task not found", `no task with the id "0000000000000000000000000000dead"`,
				"error code KOOPHONE.API.1323"),
		}},
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
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{
				Config:      tasksConfig(e, ids, ""),
				ExpectError: errRE("Invalid Attribute Value", "task_ids", "list must contain at least 1 elements and at most 1000 elements, got: 1001"),
				PlanOnly:    true,
			},
			{
				Config:      tasksConfig(e, nil, ""),
				ExpectError: errRE("Invalid Attribute Value", "task_ids", "at least 1 elements"),
				PlanOnly:    true,
			},
			{
				Config:      tasksConfig(e, []string{"abc", "../../admin"}, ""),
				ExpectError: errRE("task_ids", `must contain only letters, digits, '_' and '-'`),
				PlanOnly:    true,
			},
			{
				Config:      tasksConfig(e, []string{"abc", strings.Repeat("a", 65)}, ""),
				ExpectError: errRE("task_ids", "string length must be between 1 and 64"),
				PlanOnly:    true,
			},
			{
				Config:      tasksConfig(e, []string{"abc"}, `include_jobs = "failures"`),
				ExpectError: errRE("Invalid Attribute Value Match", "include_jobs", `value must be one of: ["failed" "all" "none"], got: "failures"`),
				PlanOnly:    true,
			},
			{
				Config:      tasksConfig(e, []string{"abc"}, "poll_interval = \"500ms\""),
				ExpectError: errRE("Duration too short", `poll_interval is "500ms", but it must be at least 1s.`),
				PlanOnly:    true,
			},
		},
	})
	e.checkNoRequests()
}

// The largest set allowed, 1,000 tasks, is read in one read.
func TestAccInstanceTasks_thousandTasks(t *testing.T) {
	e := newAccEnv(t)
	ids := make([]string, maxTaskIDs)
	for i := range ids {
		ids[i] = e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}, {Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: e.providerBlock() + fmt.Sprintf(
				"data \"koophone_instance_tasks\" \"t\" {\n  task_ids = %s\n  wait_for_completion = true\n}\n", hclList(ids)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectTasksAttr(at("state"), knownvalue.StringExact("successful")),
				expectTasksAttr(at("task_count"), knownvalue.Int64Exact(maxTaskIDs)),
				expectTasksAttr(at("successful_count"), knownvalue.Int64Exact(2*maxTaskIDs)),
				expectTasksAttr(at("tasks"), knownvalue.ListSizeExact(maxTaskIDs)),
			},
		}},
	})
}

func hclList(ids []string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// task_ids known only after apply defer the read (and the wait) to apply.
func TestAccInstanceTasks_idsUnknownUntilApply(t *testing.T) {
	e := newAccEnv(t)
	a := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	b := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, After: emulator.Duration(500 * time.Millisecond)}}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: e.providerBlock() + fmt.Sprintf(`
resource "terraform_data" "submit" {
  input = [%q, %q]
}

data "koophone_instance_tasks" "t" {
  task_ids            = terraform_data.submit.output
  wait_for_completion = true
}
`, a, b),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(tasksAddr, at("state")),
					plancheck.ExpectUnknownValue(tasksAddr, at("tasks")),
				},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				expectTasksAttr(at("state"), knownvalue.StringExact("successful")),
				expectTasksAttr(at("task_count"), knownvalue.Int64Exact(2)),
			},
		}},
	})
}

// Throttling answers while waiting slow the provider down; the wait goes
// on and ends when the tasks finish.
func TestAccInstanceTasks_waitThroughThrottling(t *testing.T) {
	e := newAccEnv(t)
	a := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 2}}})
	b := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	e.addFault(emulator.Fault{Count: 3, Kind: emulator.FaultError, Status: 429, RetryAfter: "1"})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
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
		}},
	})
}

// Bad rate limits are rejected at plan time, from configuration or from
// KOOPHONE_RATE_LIMIT, before any request.
func TestAccProvider_invalidRateLimit(t *testing.T) {
	e := newAccEnv(t)
	t.Setenv("KOOPHONE_RATE_LIMIT", "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{
				Config:      e.providerBlock("rate_limit = 0") + "data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
				ExpectError: errRE("rate_limit", "value must be between 0.010000 and 10000.000000, got: 0.000000"),
				PlanOnly:    true,
			},
			{
				Config:      e.providerBlock("rate_limit = 20000") + "data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
				ExpectError: errRE("rate_limit", "must be between"),
				PlanOnly:    true,
			},
		},
	})
	t.Setenv("KOOPHONE_RATE_LIMIT", "fast")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config:      e.providerBlock() + "data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
			ExpectError: errRE("Invalid KOOPHONE_RATE_LIMIT", `its value "fast" is not a number`),
		}},
	})
	e.checkNoRequests()
}
