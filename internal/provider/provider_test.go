package provider

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// Invalid endpoints and provider arguments are rejected at plan time with
// the reason, before any request is sent.
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
		steps = append(steps, rejectedAtPlan(tokenProvider(endpoint)+taskBlock("abc"), "Invalid KooPhone endpoint", msg))
	}
	e.parallelTest(append(steps,
		rejectedAtPlan(e.providerBlock(`request_timeout = "10ms"`)+taskBlock("abc"), "Duration too short", "request_timeout", "at least 1s"),
		rejectedAtPlan(e.providerBlock("max_retries = 11")+taskBlock("abc"), "max_retries", "must be between 0 and 10"),
	)...)
	e.checkNoRequests()
}

// A token with a trailing newline (from file()) is rejected without
// quoting it.
func TestAccProvider_tokenWithNewlineRejected(t *testing.T) {
	e := newAccEnv(t)
	e.parallelTest(rejectedAtPlan(
		fmt.Sprintf("provider \"koophone\" {\n endpoint = %q\n token = \"%s\\n\"\n}\n", e.server.URL, accToken)+taskBlock("abc"),
		"Invalid KooPhone credential", "white space or a control character", "trimspace()"))
	e.checkNoRequests()
}

// With no credentials anywhere, the error lists every way to give them.
func TestAccProvider_missingCredentials(t *testing.T) {
	e := newAccEnv(t)
	clearCredentialEnv(t)
	e.serialTest(resource.TestStep{
		Config: fmt.Sprintf("provider \"koophone\" {\n endpoint = %q\n}\n", e.server.URL) + taskBlock("abc"),
		ExpectError: errRE("Missing KooPhone credentials", `token in the provider "koophone" block, or the KOOPHONE_TOKEN environment variable`,
			"access_key and secret_key in the provider block, or the KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY environment variables, or HW_ACCESS_KEY and HW_SECRET_KEY",
			"security_token, KOOPHONE_SECURITY_TOKEN or HW_SECURITY_TOKEN", "The provider block takes precedence"),
	})
	e.checkNoRequests()
}

// The provider can be configured entirely from the environment.
func TestAccProvider_configuredFromEnvironment(t *testing.T) {
	e := newAccEnv(t)
	id := e.addSucceededTask()
	e.configureFromEnvironment()
	e.serialTest(resource.TestStep{Config: taskBlock(id), ConfigStateChecks: expectState("successful")})
}

// Explicit configuration wins over the environment.
func TestAccProvider_configurationWinsOverEnvironment(t *testing.T) {
	e := newAccEnv(t)
	id := e.addSucceededTask()
	t.Setenv("KOOPHONE_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("KOOPHONE_TOKEN", "wrong-token-from-env")
	e.serialTest(resource.TestStep{Config: e.providerBlock() + taskBlock(id), ConfigStateChecks: expectState("successful")})
}

// A bad KOOPHONE_ENDPOINT is reported against endpoint with the variable's
// name.
func TestAccProvider_invalidEndpointFromEnvironment(t *testing.T) {
	e := newAccEnv(t)
	t.Setenv("KOOPHONE_ENDPOINT", "koophone.myhuaweicloud.com")
	t.Setenv("KOOPHONE_TOKEN", accToken)
	e.serialTest(resource.TestStep{
		Config:      taskBlock("abc"),
		ExpectError: errRE("Invalid KOOPHONE_ENDPOINT", `the endpoint "koophone.myhuaweicloud.com" must start with https://`),
	})
	e.checkNoRequests()
}

// Bad rate limits are rejected at plan time, from configuration or from
// KOOPHONE_RATE_LIMIT, before any request.
func TestAccProvider_invalidRateLimit(t *testing.T) {
	e := newAccEnv(t)
	t.Setenv("KOOPHONE_RATE_LIMIT", "")
	e.serialTest(
		rejectedAtPlan(e.providerBlock("rate_limit = 0")+taskBlock("abc"), "rate_limit", "value must be between 0.010000 and 10000.000000, got: 0.000000"),
		rejectedAtPlan(e.providerBlock("rate_limit = 20000")+taskBlock("abc"), "rate_limit", "must be between"),
	)
	t.Setenv("KOOPHONE_RATE_LIMIT", "fast")
	e.serialTest(resource.TestStep{
		Config:      e.providerBlock() + taskBlock("abc"),
		ExpectError: errRE("Invalid KOOPHONE_RATE_LIMIT", `its value "fast" is not a number`),
	})
	e.checkNoRequests()
}

// Provider arguments that are unknown during plan (from a resource) are
// not an error; the read happens at apply with the known values.
func TestAccProvider_unknownConfigurationAtPlan(t *testing.T) {
	e := newAccEnv(t)
	id := e.addSucceededTask()
	e.parallelTest(resource.TestStep{
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
		ConfigStateChecks: expectState("successful"),
	})
}

// Wrong credentials give an authentication error naming the gateway code.
func TestAccProvider_wrongToken(t *testing.T) {
	e := newAccEnv(t)
	id := e.addSucceededTask()
	e.parallelTest(resource.TestStep{
		Config:      fmt.Sprintf("provider \"koophone\" {\n endpoint = %q\n token = \"expired-token\"\n}\n", e.server.URL) + taskBlock(id),
		ExpectError: errRE("KooPhone rejected the credentials", "error code APIGW.0301, HTTP 401", "KOOPHONE_TOKEN", "expire after 24 hours"),
	})
}

// An endpoint with a path prefix, as behind a reverse proxy, works, with or
// without a trailing slash.
func TestAccProvider_endpointWithPathPrefix(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken}, func(h http.Handler) http.Handler { return mountedUnder("/gateway/koophone", h) })
	id := e.addSucceededTask()
	for _, suffix := range []string{"/gateway/koophone", "/gateway/koophone/"} {
		e.serialTest(resource.TestStep{Config: tokenProvider(e.server.URL+suffix) + taskBlock(id), ConfigStateChecks: expectState("successful")})
	}
}
