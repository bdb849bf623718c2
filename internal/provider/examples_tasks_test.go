package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// The koophone_instance_tasks examples, applied as written against the
// emulator.

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
	e.configureFromEnvironment()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: readExamples(t, "data-sources/koophone_instance_tasks"),
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
		}},
	})
}

// The gate of the fleet example stops the apply when one phone of wave 1
// fails, naming its task.
func TestAccExamples_instanceTasksGateStops(t *testing.T) {
	e := newAccEnv(t)
	seedFleetExampleTasks(e, emulator.StatusFailed)
	e.configureFromEnvironment()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: readExamples(t, "data-sources/koophone_instance_tasks"),
			ExpectError: errRE("Resource postcondition failed",
				"Wave 1 ended failed: 1 of 300 phones failed, in task(s) c1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5."),
		}},
	})
}
