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

const taskAddr = "data.koophone_instance_task.t"

// expectAttr is a state check of one attribute of the data source under test.
func expectAttr(path tfjsonpath.Path, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(taskAddr, path, v)
}

func at(name string) tfjsonpath.Path { return tfjsonpath.New(name) }

func job(i int, name string) tfjsonpath.Path {
	return tfjsonpath.New("jobs").AtSliceIndex(i).AtMapKey(name)
}

func taskConfig(e *accEnv, body string) string {
	return e.providerBlock() + fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n%s\n}\n", body)
}

// The example of the API reference: two jobs, one failed with CPS0005 and
// a null execute_msg. Read once, without waiting.
func TestAccInstanceTask_apiReferenceExample(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{
		TaskID: "6837531fd3f54550927b930180a706bf",
		Jobs: []emulator.JobSpec{
			{JobID: "9a4d2bd5ba3a4a4a8d5e2bca0e3cbf01", Status: emulator.StatusSucceeded, ErrorCode: str(""), ErrorMsg: str(""), ExecuteMsg: str("total 0\ndrwxr-xr-x 2 root root 40 app")},
			{JobID: "1564567b8bab40f34711234cb80d0123", Status: emulator.StatusFailed, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found."), ExecuteMsg: nil},
		},
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q", id)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("id"), knownvalue.StringExact(id)),
				expectAttr(at("task_type"), knownvalue.StringExact("command")),
				expectAttr(at("state"), knownvalue.StringExact("failed")),
				expectAttr(at("job_count"), knownvalue.Int64Exact(2)),
				expectAttr(at("running_count"), knownvalue.Int64Exact(0)),
				expectAttr(at("successful_count"), knownvalue.Int64Exact(1)),
				expectAttr(at("failed_count"), knownvalue.Int64Exact(1)),
				expectAttr(at("unknown_count"), knownvalue.Int64Exact(0)),
				expectAttr(at("wait_for_completion"), knownvalue.Bool(false)),
				expectAttr(at("fail_on_job_failure"), knownvalue.Bool(false)),
				expectAttr(at("poll_interval"), knownvalue.StringExact("10s")),
				expectAttr(at("jobs"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectExact(map[string]knownvalue.Check{
						"job_id":      knownvalue.StringExact("9a4d2bd5ba3a4a4a8d5e2bca0e3cbf01"),
						"status":      knownvalue.Int64Exact(2),
						"state":       knownvalue.StringExact("successful"),
						"error_code":  knownvalue.StringExact(""),
						"error_msg":   knownvalue.StringExact(""),
						"execute_msg": knownvalue.StringExact("total 0\ndrwxr-xr-x 2 root root 40 app"),
					}),
					knownvalue.ObjectExact(map[string]knownvalue.Check{
						"job_id":      knownvalue.StringExact("1564567b8bab40f34711234cb80d0123"),
						"status":      knownvalue.Int64Exact(-1),
						"state":       knownvalue.StringExact("failed"),
						"error_code":  knownvalue.StringExact("CPS0005"),
						"error_msg":   knownvalue.StringExact("Phone not found."),
						"execute_msg": knownvalue.StringExact(""),
					}),
				})),
			},
		}},
	})
}

// Without waiting, a running task is read as it is, and the request
// carries the headers the API requires.
func TestAccInstanceTask_readRunningWithoutWaiting(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		// Still running when the test ends, even on a slow CLI under load: at
		// accTimeScale, a day of virtual time is 24 minutes of real time.
		{Status: emulator.StatusSucceeded, After: emulator.Duration(24 * time.Hour)},
		{Status: 7},
		{Status: emulator.StatusSucceeded},
	}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q", id)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("state"), knownvalue.StringExact("running")),
				expectAttr(at("running_count"), knownvalue.Int64Exact(1)),
				expectAttr(at("unknown_count"), knownvalue.Int64Exact(1)),
				expectAttr(at("successful_count"), knownvalue.Int64Exact(1)),
				expectAttr(job(0, "state"), knownvalue.StringExact("running")),
				expectAttr(job(1, "status"), knownvalue.Int64Exact(7)),
				expectAttr(job(1, "state"), knownvalue.StringExact("unknown")),
			},
			Check: func(*terraform.State) error {
				for _, r := range e.emu.Requests() {
					if !r.HasToken || r.RequestID == "" || !strings.HasPrefix(r.UserAgent, "terraform-provider-koophone/acctest Terraform/") {
						return fmt.Errorf("request without the required headers: %+v", r)
					}
				}
				return nil
			},
		}},
	})
}

// A task with no job yet is running, and its jobs list is empty, not null.
func TestAccInstanceTask_noJobsYet(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{TaskID: "ZGCA0123456789abcdef0123456789ab", Jobs: []emulator.JobSpec{}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q", id)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("task_type"), knownvalue.StringExact("app_install")),
				expectAttr(at("state"), knownvalue.StringExact("running")),
				expectAttr(at("job_count"), knownvalue.Int64Exact(0)),
				expectAttr(at("jobs"), knownvalue.ListExact([]knownvalue.Check{})),
			},
		}},
	})
}

// Waiting polls until every job has finished, backing off between polls.
func TestAccInstanceTask_waitUntilSuccessful(t *testing.T) {
	e := newAccEnv(t)
	// Progress is programmed in polls, not seconds, so the test does not
	// depend on how long Terraform takes to start.
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded, AfterPolls: 3, ExecuteMsg: str("Success")},
		{Status: emulator.StatusSucceeded, AfterPolls: 6, ExecuteMsg: str("Success")},
	}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q\nwait_for_completion = true\npoll_interval = \"5s\"", id)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("state"), knownvalue.StringExact("successful")),
				expectAttr(at("successful_count"), knownvalue.Int64Exact(2)),
				expectAttr(at("running_count"), knownvalue.Int64Exact(0)),
				expectAttr(at("poll_interval"), knownvalue.StringExact("5s")),
				expectAttr(at("wait_for_completion"), knownvalue.Bool(true)),
				expectAttr(job(1, "execute_msg"), knownvalue.StringExact("Success")),
			},
			Check: func(*terraform.State) error {
				// The last job finishes on the seventh read: the plan's
				// read must have waited for it.
				if n := e.emu.Reads(id); n < 7 {
					return fmt.Errorf("task was read %d times; the wait stopped early", n)
				}
				return nil
			},
		}},
	})
}

// Waiting ends with a failed task when a job fails; without
// fail_on_job_failure that is a result to gate on, not an error.
func TestAccInstanceTask_waitUntilFailed(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded, AfterPolls: 1},
		{Status: emulator.StatusFailed, AfterPolls: 2, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
	}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q\nwait_for_completion = true", id)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("state"), knownvalue.StringExact("failed")),
				expectAttr(at("failed_count"), knownvalue.Int64Exact(1)),
				expectAttr(at("successful_count"), knownvalue.Int64Exact(1)),
				expectAttr(job(1, "error_code"), knownvalue.StringExact("CPS0005")),
			},
		}},
	})
}

// fail_on_job_failure turns a failed task into an error listing every
// failed job.
func TestAccInstanceTask_failOnJobFailure(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{JobID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01", Status: emulator.StatusFailed, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
		{JobID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02", Status: emulator.StatusSucceeded},
		{JobID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03", Status: emulator.StatusFailed, After: emulator.Duration(10 * time.Second),
			ErrorCode: str("CPS0301"), ErrorMsg: str("Command timed out."), ExecuteMsg: str("partial output")},
	}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q\nwait_for_completion = true\nfail_on_job_failure = true", id)),
			ExpectError: errRE("KooPhone task failed", `2 of 3 jobs of task "`+id+`" failed`,
				`job_id "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01": error_code "CPS0005", error_msg "Phone not found.", execute_msg ""`,
				`job_id "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03": error_code "CPS0301", error_msg "Command timed out.", execute_msg "partial output"`,
				"Set fail_on_job_failure = false"),
		}},
	})
}

// fail_on_job_failure does not fail a task that is only running (no wait)
// or that succeeded.
func TestAccInstanceTask_failOnJobFailureIgnoresUnfinished(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{Status: emulator.StatusFailed},
		{Status: emulator.StatusRunning},
	}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q\nfail_on_job_failure = true", id)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("state"), knownvalue.StringExact("running")),
				expectAttr(at("failed_count"), knownvalue.Int64Exact(1)),
			},
		}},
	})
}

// A wait that reaches timeouts.read fails with the progress so far.
func TestAccInstanceTask_waitTimeout(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded},
		{Status: emulator.StatusRunning}, // never finishes
		{Status: emulator.StatusRunning},
	}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q\nwait_for_completion = true\ntimeouts = { read = \"2m\" }", id)),
			ExpectError: errRE("Timed out waiting for KooPhone task", `Task "`+id+`" is still running after 2m0s (timeouts.read is 2m0s).`,
				"1 of 3 jobs done (1 successful, 0 failed), 2 still running.", "Last state: running", "Raise timeouts.read"),
		}},
	})
}

// Reading an unknown task without waiting is an immediate error naming it.
func TestAccInstanceTask_notFound(t *testing.T) {
	e := newAccEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, `task_id = "0000000000000000000000000000dead"`),
			ExpectError: errRE("KooPhone task not found", `no task with the id "0000000000000000000000000000dead"`, "error code KOOPHONE.API.1323, HTTP 400", "request id",
				"set wait_for_completion = true"),
		}},
	})
	if n := e.apiRequests("/0000000000000000000000000000dead"); n != 1 {
		t.Errorf("not found was requested %d times, want once (no retry)", n)
	}
}

// A wait tolerates "not found" for a grace period, then gives up.
func TestAccInstanceTask_notFoundAfterGrace(t *testing.T) {
	e := newAccEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config:      taskConfig(e, `task_id = "0000000000000000000000000000beef"`+"\nwait_for_completion = true"),
			ExpectError: errRE("KooPhone task not found", "invisible for the 30s grace period"),
		}},
	})
	if n := e.apiRequests("/0000000000000000000000000000beef"); n < 3 {
		t.Errorf("a wait gave up on a missing task after %d polls", n)
	}
}

// A task that appears a few polls after it was submitted is waited for.
func TestAccInstanceTask_lateAppearingTask(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{VisibleAfterPolls: 3, Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 1}}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q\nwait_for_completion = true", id)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("state"), knownvalue.StringExact("successful")),
			},
		}},
	})
}

// Transient faults are retried within max_retries and the read succeeds.
func TestAccInstanceTask_retriesTransientFaults(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
	e.addFault(emulator.Fault{Match: id, Kind: emulator.FaultError, Status: 500, Code: "KOOPHONE.API.9999"})
	e.addFault(emulator.Fault{Match: id, Kind: emulator.FaultError, Status: 429, Code: "APIGW.0308", RetryAfter: "1"})
	e.addFault(emulator.Fault{Match: id, Kind: emulator.FaultHTML, Status: 502})
	e.addFault(emulator.Fault{Match: id, Kind: emulator.FaultDrop})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: taskConfig(e, fmt.Sprintf("task_id = %q", id)),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("state"), knownvalue.StringExact("successful")),
			},
			Check: func(*terraform.State) error {
				faulted := 0
				for _, r := range e.emu.Requests() {
					if r.Fault != "" {
						faulted++
					}
				}
				if faulted != 4 {
					return fmt.Errorf("%d faulted requests, want 4", faulted)
				}
				return nil
			},
		}},
	})
}

// When every attempt fails transiently, the error says so and names the
// last failure; the number of attempts is bounded by max_retries.
func TestAccInstanceTask_transientFailureExhaustsRetries(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
	e.addFault(emulator.Fault{Match: id, Count: -1, Kind: emulator.FaultError, Status: 503, Code: "KOOPHONE.API.9999", Message: "service busy"})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config:      e.providerBlock("max_retries = 2") + fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n task_id = %q\n}\n", id),
			ExpectError: errRE("KooPhone API unavailable", "failed 3 times in a row", "KOOPHONE.API.9999", "service busy", "raise the provider's max_retries"),
		}},
	})
	if n := e.apiRequests(id); n != 3 {
		t.Errorf("%d attempts, want 3 (1 + max_retries)", n)
	}
}

// While waiting, transient errors beyond the retry budget do not end the
// wait: polling goes on and the task is seen to finish.
func TestAccInstanceTask_waitSurvivesTransientErrors(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, After: emulator.Duration(5 * time.Second)}}})
	e.addFault(emulator.Fault{Match: id, Count: 4, Kind: emulator.FaultError, Status: 503})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: e.providerBlock("max_retries = 0") +
				fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n task_id = %q\n wait_for_completion = true\n}\n", id),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("state"), knownvalue.StringExact("successful")),
			},
		}},
	})
}

// Wrong credentials give an authentication error naming the gateway code.
func TestAccProvider_wrongToken(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"koophone\" {\n endpoint = %q\n token = \"expired-token\"\n}\n", e.server.URL) +
				fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n task_id = %q\n}\n", id),
			ExpectError: errRE("KooPhone rejected the credentials", "error code APIGW.0301, HTTP 401", "KOOPHONE_TOKEN", "expire after 24 hours"),
		}},
	})
}

// An endpoint with a path prefix, as behind a reverse proxy, works, with or
// without a trailing slash.
func TestAccProvider_endpointWithPathPrefix(t *testing.T) {
	e := newAccEnv(t)
	e.server.Config.Handler = mountedUnder("/gateway/koophone", e.emu)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
	for _, suffix := range []string{"/gateway/koophone", "/gateway/koophone/"} {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: e.factories(),
			Steps: []resource.TestStep{{
				Config: fmt.Sprintf("provider \"koophone\" {\n endpoint = %q\n token = %q\n}\n", e.server.URL+suffix, accToken) +
					fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n task_id = %q\n}\n", id),
				ConfigStateChecks: []statecheck.StateCheck{expectAttr(at("state"), knownvalue.StringExact("successful"))},
			}},
		})
	}
}

// A task_id known only after apply (here from a terraform_data resource)
// defers the read to apply, where the wait happens.
func TestAccInstanceTask_taskIDUnknownUntilApply(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, After: emulator.Duration(10 * time.Second)}}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: e.providerBlock() + fmt.Sprintf(`
resource "terraform_data" "submit" {
  input = %q
}

data "koophone_instance_task" "t" {
  task_id             = terraform_data.submit.output
  wait_for_completion = true
}
`, id),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(taskAddr, at("state")),
					plancheck.ExpectUnknownValue(taskAddr, at("jobs")),
				},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("id"), knownvalue.StringExact(id)),
				expectAttr(at("state"), knownvalue.StringExact("successful")),
			},
		}},
	})
}

// The gate: a postcondition on the data source stops the apply when the
// task failed, so nothing that depends on it is created; once the task
// succeeds the dependent resource is created.
func TestAccInstanceTask_postconditionGate(t *testing.T) {
	e := newAccEnv(t)
	failed := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded, After: emulator.Duration(5 * time.Second)},
		{Status: emulator.StatusFailed, After: emulator.Duration(8 * time.Second), ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
	}})
	succeeded := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, After: emulator.Duration(5 * time.Second)}}})
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
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{
				Config:      config(failed),
				ExpectError: errRE("Resource postcondition failed", "KooPhone task "+failed+" ended failed: 1 of 2 jobs failed."),
			},
			{
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
		},
	})
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
		steps = append(steps, resource.TestStep{
			Config:      taskConfig(e, fmt.Sprintf("task_id = %q", id)),
			ExpectError: errRE("Invalid Attribute Value", "task_id", msg),
			PlanOnly:    true,
		})
	}
	steps = append(steps, resource.TestStep{
		Config:      taskConfig(e, `task_id = "abc"`+"\npoll_interval = \"500ms\""),
		ExpectError: errRE("Duration too short", `poll_interval is "500ms", but it must be at least 1s.`),
		PlanOnly:    true,
	}, resource.TestStep{
		Config:      taskConfig(e, `task_id = "abc"`+"\npoll_interval = \"ten seconds\""),
		ExpectError: errRE("Invalid Time Duration String Value", "poll_interval"),
		PlanOnly:    true,
	}, resource.TestStep{
		Config:      taskConfig(e, `task_id = "abc"`+"\ntimeouts = { read = \"soon\" }"),
		ExpectError: errRE("Invalid Attribute Value Time Duration", `"soon" must be a string containing a sequence of decimal numbers`),
		PlanOnly:    true,
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps:                    steps,
	})
	e.checkNoRequests()
}
