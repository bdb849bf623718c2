package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// Acceptance tests against a real KooPhone account. They are skipped unless
// KOOPHONE_ACC_TASK_ID names a task of that account; the provider then takes
// its endpoint and credentials from the environment, exactly as a user's
// configuration without arguments would (KOOPHONE_ENDPOINT, default
// https://koophone.myhuaweicloud.com, and KOOPHONE_TOKEN, a project-scoped IAM
// token). See CONTRIBUTING.md, "Acceptance tests against a real account".
//
// They only read the task (GET /v1/instances/tasks/{task_id}, IAM action
// koophone:cloudphoneResource:queryExecuteJob, read-only): they never create a
// task, so they run no command on any phone.

const liveTaskIDEnv = "KOOPHONE_ACC_TASK_ID"

func liveTaskID(t *testing.T) string {
	t.Helper()
	id := os.Getenv(liveTaskIDEnv)
	if id == "" {
		t.Skipf("real-account test skipped: set %s to a task id of your KooPhone account (and KOOPHONE_TOKEN) to run it", liveTaskIDEnv)
	}
	return id
}

// Read a real task, waiting until it has finished: the API's answer maps onto
// the schema, and the wait ends.
func TestAccLive_instanceTask(t *testing.T) {
	id := liveTaskID(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`provider "koophone" {}

data "koophone_instance_task" "t" {
  task_id             = %q
  wait_for_completion = true

  timeouts = {
    read = "15m"
  }
}
`, id),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr(at("task_id"), knownvalue.StringExact(id)),
				expectAttr(at("task_type"), knownvalue.StringRegexp(regexp.MustCompile(`^(command|app_install)$`))),
				expectAttr(at("state"), knownvalue.StringRegexp(regexp.MustCompile(`^(successful|failed)$`))),
				expectAttr(at("running_count"), knownvalue.Int64Exact(0)),
				expectAttr(at("jobs"), knownvalue.NotNull()),
			},
		}},
	})
}
