package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// Every argument of the provider and of the data source, given a bad value
// (empty, too long, wrong type, path traversal, bad duration, not a URL), is
// rejected during plan with an error that names it, before any request.
func TestAccBadInputRejectedAtPlan(t *testing.T) {
	e := newAccEnv(t)
	provider := func(args string) string {
		return e.providerBlock(args) + taskBlock("abc")
	}
	rawProvider := func(args string) string {
		return fmt.Sprintf("provider \"koophone\" {\n  %s\n}\n", args) + taskBlock("abc")
	}
	task := func(args string) string {
		return e.providerBlock() + fmt.Sprintf("data \"koophone_instance_task\" \"t\" {\n  %s\n}\n", args)
	}

	cases := []struct {
		name   string
		config string
		want   []string
	}{
		// Provider arguments.
		{"endpoint not a URL", rawProvider(`endpoint = "not a url"` + "\n  token = \"t\""), []string{"Invalid KooPhone endpoint", "must start with https://"}},
		{"endpoint path only", rawProvider(`endpoint = "/v1"` + "\n  token = \"t\""), []string{"Invalid KooPhone endpoint", "must start with https://"}},
		{"endpoint too long", rawProvider(fmt.Sprintf("endpoint = %q\n  token = \"t\"", "https://example.com/"+strings.Repeat("a", 2048))),
			[]string{"endpoint", "string length must be at most 2048"}},
		{"endpoint wrong type", rawProvider(`endpoint = ["https://example.com"]` + "\n  token = \"t\""), []string{"Incorrect attribute value type", "endpoint"}},
		{"token empty", rawProvider(fmt.Sprintf("endpoint = %q\n  token = \"\"", e.server.URL)), []string{"Invalid KooPhone credential", "is empty"}},
		{"token too long", rawProvider(fmt.Sprintf("endpoint = %q\n  token = %q", e.server.URL, strings.Repeat("t", 65537))),
			[]string{"token", "string length must be at most 65536"}},
		{"token wrong type", rawProvider(fmt.Sprintf("endpoint = %q\n  token = { value = \"t\" }", e.server.URL)), []string{"Incorrect attribute value type", "token"}},
		{"request_timeout empty", provider(`request_timeout = ""`), []string{"Invalid duration", "request_timeout is", "not a Go duration"}},
		{"request_timeout not a duration", provider(`request_timeout = "30"`), []string{"Invalid duration", "request_timeout is", "not a Go duration"}},
		{"request_timeout negative", provider(`request_timeout = "-5s"`), []string{"Duration too short", "request_timeout"}},
		{"max_retries negative", provider(`max_retries = -1`), []string{"max_retries", "must be between 0 and 10"}},
		{"max_retries wrong type", provider(`max_retries = "many"`), []string{"Incorrect attribute value type", "max_retries"}},
		{"max_retries fraction", provider(`max_retries = 1.5`), []string{"max_retries", "1.5"}},
		{"insecure wrong type", provider(`insecure = "maybe"`), []string{"Incorrect attribute value type", "insecure"}},
		{"ca_cert_pem empty", provider(`ca_cert_pem = ""`), []string{"Invalid CA certificate", "No PEM certificate found"}},
		{"ca_cert_file empty", provider(`ca_cert_file = ""`), []string{"ca_cert_file", "string length must be at least 1"}},

		// Data source arguments.
		{"task_id wrong type", task(`task_id = ["abc"]`), []string{"Incorrect attribute value type", "task_id"}},
		{"task_id traversal encoded", task(`task_id = "..%2Fadmin"`), []string{"task_id", "must contain only letters, digits, '_' and '-'"}},
		{"task_id dot dot", task(`task_id = ".."`), []string{"task_id", "must contain only letters, digits, '_' and '-'"}},
		{"task_id query", task(`task_id = "abc?x=1"`), []string{"task_id", "must contain only letters, digits, '_' and '-'"}},
		{"task_id non-ascii", task(`task_id = "tâche"`), []string{"task_id", "must contain only letters, digits, '_' and '-'"}},
		{"wait_for_completion wrong type", task("task_id = \"abc\"\n  wait_for_completion = \"sometimes\""), []string{"Incorrect attribute value type", "wait_for_completion"}},
		{"fail_on_job_failure wrong type", task("task_id = \"abc\"\n  fail_on_job_failure = [true]"), []string{"Incorrect attribute value type", "fail_on_job_failure"}},
		{"poll_interval empty", task("task_id = \"abc\"\n  poll_interval = \"\""), []string{"Invalid duration", "poll_interval is", "not a Go duration"}},
		{"poll_interval zero", task("task_id = \"abc\"\n  poll_interval = \"0s\""), []string{"Duration too short", "at least 1s"}},
		{"poll_interval negative", task("task_id = \"abc\"\n  poll_interval = \"-10s\""), []string{"Duration too short", "at least 1s"}},
		{"poll_interval number", task("task_id = \"abc\"\n  poll_interval = 10"), []string{"Invalid duration", "poll_interval is", "not a Go duration"}},
		{"timeouts.read empty", task("task_id = \"abc\"\n  timeouts = { read = \"\" }"), []string{"Invalid Attribute Value Time Duration", `"" must be a string containing`}},
		{"timeouts.read negative", task("task_id = \"abc\"\n  timeouts = { read = \"-1m\" }"), []string{"Invalid read timeout", "must be positive"}},
	}
	steps := make([]resource.TestStep, len(cases))
	for i, c := range cases {
		steps[i] = rejectedAtPlan(c.config, c.want...)
	}
	e.parallelTest(steps...)
	e.checkNoRequests()
}
