package provider

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// The examples are documentation that runs: these tests apply them, as
// written, against the emulator.

const examplesDir = "../../examples"

// readExamples concatenates the .tf files of an examples directory.
func readExamples(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		content, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(content)
		b.WriteString("\n")
	}
	return b.String()
}

// applyExample applies the examples of dir as written, with the provider
// configured from the environment, and runs step's checks.
func (e *accEnv) applyExample(dir string, step resource.TestStep) {
	e.t.Helper()
	e.configureFromEnvironment()
	step.Config = readExamples(e.t, dir)
	e.serialTest(step)
}

// seedExampleTasks adds the tasks the examples refer to; installStatus is
// the final status of the app install's second job. The install's jobs go
// through the install statuses: 0 (not started), 1, then final.
func seedExampleTasks(e *accEnv, installStatus int) {
	e.addTask(emulator.TaskSpec{TaskID: "6837531fd3f54550927b930180a706bf", Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded, ExecuteMsg: str("total 0")},
		{Status: emulator.StatusSucceeded, ExecuteMsg: str("total 0")},
	}})
	e.addTask(emulator.TaskSpec{TaskID: "ZGCA6837531fd3f54550927b930180", Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded, StartAfterPolls: 1, AfterPolls: 2, ExecuteMsg: str("Success")},
		{Status: installStatus, StartAfterPolls: 1, AfterPolls: 3, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")},
	}})
}

func TestAccExamples_dataSource(t *testing.T) {
	e := newAccEnv(t)
	seedExampleTasks(e, emulator.StatusSucceeded)
	e.applyExample("data-sources/koophone_instance_task", resource.TestStep{
		// A data source inside a check block is read again on every
		// plan, so the plan after apply is never empty.
		ExpectNonEmptyPlan: true,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("data.koophone_instance_task.install", at("state"), knownvalue.StringExact("successful")),
			statecheck.ExpectKnownValue("terraform_data.rollout_next_wave", at("output").AtMapKey("phones_ready"), knownvalue.Int64Exact(2)),
			statecheck.ExpectKnownValue("data.koophone_instance_task.strict", at("state"), knownvalue.StringExact("successful")),
			statecheck.ExpectKnownOutputValue("task_state", knownvalue.StringExact("successful")),
			statecheck.ExpectKnownOutputValue("failed_jobs", knownvalue.ListExact([]knownvalue.Check{})),
		},
	})
}

// The gate of the wait-and-gate example stops the apply when a phone fails.
func TestAccExamples_dataSourceGateStops(t *testing.T) {
	e := newAccEnv(t)
	seedExampleTasks(e, emulator.StatusInstallFailed)
	e.applyExample("data-sources/koophone_instance_task", resource.TestStep{
		ExpectError: errRE("Resource postcondition failed", "App install ZGCA6837531fd3f54550927b930180 ended failed: 1 of 2 phones failed."),
	})
}

// The provider example, pointed at the emulator instead of the real
// endpoint, configures a working provider.
func TestAccExamples_provider(t *testing.T) {
	e := newAccEnv(t)
	seedExampleTasks(e, emulator.StatusSucceeded)
	// The example declares source = "koophone/koophone".
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "koophone")
	t.Setenv("TF_VAR_koophone_token", accToken)
	config := strings.Replace(readExamples(t, "provider"), "https://koophone.myhuaweicloud.com", e.server.URL, 1)
	config += taskBlock("6837531fd3f54550927b930180a706bf")
	e.serialTest(resource.TestStep{Config: config, ConfigStateChecks: expectState("successful")})
}

// applyDemoSeed seeds the emulator as `make demo` does, and returns the
// seed.
func (e *accEnv) applyDemoSeed() emulator.Seed {
	e.t.Helper()
	seed, err := os.ReadFile(filepath.Join(examplesDir, "demo", "emulator-seed.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	parsed, err := emulator.ParseSeed(seed)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.emu.ApplySeed(parsed); err != nil {
		e.t.Fatal(err)
	}
	return parsed
}

// The demo configuration applies against the demo seed, as `make demo`
// does, so the demo cannot rot unnoticed.
func TestAccExamples_demo(t *testing.T) {
	e := newAccEnv(t)
	parsed := e.applyDemoSeed()
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "koophone")
	e.applyExample("demo", resource.TestStep{
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("install", knownvalue.MapExact(map[string]knownvalue.Check{
				"phone-001": knownvalue.StringExact("successful (status 2)"),
				"phone-002": knownvalue.StringExact("successful (status 2)"),
				"phone-003": knownvalue.StringExact("successful (status 2)"),
				"phone-004": knownvalue.StringExact("successful (status 2)"),
			})),
			statecheck.ExpectKnownOutputValue("start_game", knownvalue.MapSizeExact(4)),
			statecheck.ExpectKnownOutputValue("next_step", knownvalue.StringExact("the game runs on 4 phones")),
			statecheck.ExpectKnownValue("koophone_instance_command.inventory", at("failed_count"), knownvalue.Int64Exact(1)),
			statecheck.ExpectKnownValue("koophone_instance_command.inventory", phone("phone-404", "error_code"), knownvalue.StringExact("CPS0005")),
		},
		// One submit per resource: the install, the command after it, the inventory.
		Check: e.expectCounts(3, 3+len(parsed.Tasks)),
	})
}

// The koophone_instance_tasks examples, applied as written.

// seedFleetExampleTasks adds the tasks the examples refer to: the two of
// data-source.tf and the three of wave 1 in fleet-rollout.tf, each of 100
// phones; lastStatus is the final status of the last phone of the third.
func seedFleetExampleTasks(e *accEnv, lastStatus int) {
	e.addTask(emulator.TaskSpec{TaskID: "6837531fd3f54550927b930180a706bf", Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded}, {Status: emulator.StatusSucceeded},
	}})
	e.addTask(emulator.TaskSpec{TaskID: "ZGCA6837531fd3f54550927b930180", Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded}, {Status: emulator.StatusRunning},
	}})
	for i, id := range []string{"a1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5", "b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5", "c1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5"} {
		jobs := make([]emulator.JobSpec, 100)
		for j := range jobs {
			jobs[j] = emulator.JobSpec{Status: emulator.StatusSucceeded, AfterPolls: 1 + (i+j)%3, ExecuteMsg: str("Success")}
		}
		if i == 2 {
			jobs[99] = emulator.JobSpec{Status: lastStatus, AfterPolls: 2, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")}
		}
		e.addTask(emulator.TaskSpec{TaskID: id, Jobs: jobs})
	}
}

func TestAccExamples_instanceTasks(t *testing.T) {
	e := newAccEnv(t)
	seedFleetExampleTasks(e, emulator.StatusSucceeded)
	e.applyExample("data-sources/koophone_instance_tasks", resource.TestStep{
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("tasks_state", knownvalue.StringExact("running")),
			statecheck.ExpectKnownOutputValue("phones_finished", knownvalue.StringExact("3 of 4")),
			statecheck.ExpectKnownOutputValue("task_states", knownvalue.MapExact(map[string]knownvalue.Check{
				"6837531fd3f54550927b930180a706bf": knownvalue.StringExact("successful"),
				"ZGCA6837531fd3f54550927b930180":   knownvalue.StringExact("running"),
			})),
			statecheck.ExpectKnownValue("data.koophone_instance_tasks.wave1", at("state"), knownvalue.StringExact("successful")),
			statecheck.ExpectKnownValue("terraform_data.wave2", at("output").AtMapKey("phones_ready"), knownvalue.Int64Exact(300)),
			statecheck.ExpectKnownValue("terraform_data.wave2", at("output").AtMapKey("wave1_tasks"), knownvalue.Int64Exact(3)),
			statecheck.ExpectKnownOutputValue("wave1_failed_phones", knownvalue.ListExact([]knownvalue.Check{})),
			// By default the tasks list only the jobs that did not succeed.
			statecheck.ExpectKnownValue("data.koophone_instance_tasks.wave1", at("tasks").AtSliceIndex(0).AtMapKey("jobs"), knownvalue.ListExact([]knownvalue.Check{})),
		},
	})
}

// The gate of the fleet example stops the apply when one phone of wave 1
// fails, naming its task.
func TestAccExamples_instanceTasksGateStops(t *testing.T) {
	e := newAccEnv(t)
	seedFleetExampleTasks(e, emulator.StatusFailed)
	e.applyExample("data-sources/koophone_instance_tasks", resource.TestStep{
		ExpectError: errRE("Resource postcondition failed",
			"Wave 1 ended failed: 1 of 300 phones failed, in task(s) c1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5."),
	})
}
