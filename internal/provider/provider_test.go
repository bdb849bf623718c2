package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// Invalid endpoints are rejected at plan time with the reason, before any
// request is sent.
func TestAccProvider_invalidEndpointRejectedAtPlan(t *testing.T) {
	e := newAccEnv(t)
	cases := map[string]string{
		"koophone.myhuaweicloud.com":       `must start with https://`,
		"ftp://koophone.myhuaweicloud.com": `must start with https://`,
		"https://":                         `has no host name`,
		"https://user:secret@example.com":  `must not contain a user name or password`,
		"https://example.com/?region=cn":   `must not contain a query string`,
		"":                                 `The endpoint is empty`,
	}
	var steps []resource.TestStep
	for endpoint, msg := range cases {
		steps = append(steps, resource.TestStep{
			Config: fmt.Sprintf("provider \"koophone\" {\n endpoint = %q\n token = %q\n}\n", endpoint, accToken) +
				"data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
			ExpectError: errRE("Invalid KooPhone endpoint", msg),
			PlanOnly:    true,
		})
	}
	steps = append(steps,
		resource.TestStep{
			Config:      e.providerBlock("request_timeout = \"10ms\"") + "data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
			ExpectError: errRE("Duration too short", "request_timeout", "at least 1s"),
			PlanOnly:    true,
		},
		resource.TestStep{
			Config:      e.providerBlock("max_retries = 11") + "data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
			ExpectError: errRE("max_retries", "must be between 0 and 10"),
			PlanOnly:    true,
		},
	)
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: e.factories(), Steps: steps})
	e.checkNoRequests()
}

// A token with a trailing newline (from file()) is rejected without
// quoting it.
func TestAccProvider_tokenWithNewlineRejected(t *testing.T) {
	e := newAccEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"koophone\" {\n endpoint = %q\n token = \"%s\\n\"\n}\n", e.server.URL, accToken) +
				"data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
			ExpectError: errRE("Invalid KooPhone credential", "white space or a control character", "trimspace()"),
			PlanOnly:    true,
		}},
	})
	e.checkNoRequests()
}

// With no credentials anywhere, the error lists every way to give them.
func TestAccProvider_missingCredentials(t *testing.T) {
	e := newAccEnv(t)
	clearCredentialEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"koophone\" {\n endpoint = %q\n}\n", e.server.URL) + "data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
			ExpectError: errRE("Missing KooPhone credentials", `token in the provider "koophone" block, or the KOOPHONE_TOKEN environment variable`,
				"access_key and secret_key in the provider block, or the KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY environment variables, or HW_ACCESS_KEY and HW_SECRET_KEY",
				"security_token, KOOPHONE_SECURITY_TOKEN or HW_SECURITY_TOKEN", "The provider block takes precedence"),
		}},
	})
	e.checkNoRequests()
}

// The provider can be configured entirely from the environment.
func TestAccProvider_configuredFromEnvironment(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
	e.configureFromEnvironment()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config:            fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n task_id = %q\n}\n", id),
			ConfigStateChecks: []statecheck.StateCheck{expectAttr(at("state"), knownvalue.StringExact("successful"))},
		}},
	})
}

// Explicit configuration wins over the environment.
func TestAccProvider_configurationWinsOverEnvironment(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
	t.Setenv("KOOPHONE_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("KOOPHONE_TOKEN", "wrong-token-from-env")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config:            e.providerBlock() + fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n task_id = %q\n}\n", id),
			ConfigStateChecks: []statecheck.StateCheck{expectAttr(at("state"), knownvalue.StringExact("successful"))},
		}},
	})
}

// A bad KOOPHONE_ENDPOINT is reported against endpoint with the variable's
// name.
func TestAccProvider_invalidEndpointFromEnvironment(t *testing.T) {
	e := newAccEnv(t)
	t.Setenv("KOOPHONE_ENDPOINT", "koophone.myhuaweicloud.com")
	t.Setenv("KOOPHONE_TOKEN", accToken)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config:      "data \"koophone_instance_task\" \"t\" {\n task_id = \"abc\"\n}\n",
			ExpectError: errRE("Invalid KOOPHONE_ENDPOINT", `the endpoint "koophone.myhuaweicloud.com" must start with https://`),
		}},
	})
	e.checkNoRequests()
}

// Provider arguments that are unknown during plan (from a resource) are
// not an error; the read happens at apply with the known values.
func TestAccProvider_unknownConfigurationAtPlan(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "terraform_data" "api" {
  input = { endpoint = %q, task_id = %q }
}

provider "koophone" {
  endpoint = terraform_data.api.output.endpoint
  token    = %q
}

data "koophone_instance_task" "t" {
  task_id = terraform_data.api.output.task_id
}
`, e.server.URL, id, accToken),
			ConfigStateChecks: []statecheck.StateCheck{expectAttr(at("state"), knownvalue.StringExact("successful"))},
		}},
	})
}
