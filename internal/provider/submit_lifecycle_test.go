package provider

import (
	"fmt"
	"net/http"
	"regexp"
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

const (
	commandAddr = "koophone_instance_command.c"
	installAddr = "koophone_instance_app_install.a"
)

func commandConfig(e *accEnv, body string) string {
	return e.providerBlock() + fmt.Sprintf("resource \"koophone_instance_command\" \"c\" {\n%s\n}\n", body)
}

// installBody is a valid app install to phones; each line of extra sets
// one more argument or replaces a default one.
func installBody(phones string, extra string) string {
	args := [][2]string{
		{"object_name", `"com.example.game"`},
		{"file_name", `"game-1.2.3.apk"`},
		{"object_version", `"1.2.3"`},
		{"object_size", `"120"`},
		{"install_package_url", `"https://apps.obs.cn-south-1.myhuaweicloud.com/game-1.2.3.apk"`},
		{"instance_ids", "[" + phones + "]"},
		{"poll_interval", `"1s"`},
	}
	for _, line := range strings.Split(extra, "\n") {
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		replaced := false
		for i := range args {
			if args[i][0] == name {
				args[i][1], replaced = value, true
			}
		}
		if !replaced {
			args = append(args, [2]string{name, value})
		}
	}
	var b strings.Builder
	for _, a := range args {
		fmt.Fprintf(&b, "  %s = %s\n", a[0], a[1])
	}
	return b.String()
}

func installConfig(e *accEnv, body string) string {
	return e.providerBlock() + fmt.Sprintf("resource \"koophone_instance_app_install\" \"a\" {\n%s\n}\n", body)
}

var (
	expectCommand = expectAt(commandAddr)
	expectInstall = expectAt(installAddr)
)

// installNotWaiting installs to phone-1 without waiting: the task is
// submitted, not read, so the resource is running.
func installNotWaiting(e *accEnv, checks ...statecheck.StateCheck) resource.TestStep {
	return resource.TestStep{
		Config:            installConfig(e, installBody(`"phone-1"`, "wait_for_completion = false")),
		ConfigStateChecks: append([]statecheck.StateCheck{expectInstall(at("state"), knownvalue.StringExact("running"))}, checks...),
	}
}

func phone(id, attr string) tfjsonpath.Path {
	return tfjsonpath.New("results").AtMapKey(id).AtMapKey(attr)
}

// submits counts the submit requests the emulator received.
func (e *accEnv) submits() int {
	return e.apiRequests("/async-command") + e.apiRequests("/app/install")
}

// taskReads counts the task reads the emulator received.
func (e *accEnv) taskReads() int {
	n := 0
	for _, r := range e.emu.Requests() {
		if strings.HasPrefix(r.Path, "/v1/instances/tasks/") {
			n++
		}
	}
	return n
}

// expectCounts checks how many submits the emulator received and how many
// tasks it holds.
func (e *accEnv) expectCounts(submits, tasks int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if n := e.submits(); n != submits {
			return fmt.Errorf("%d submit requests, want %d", n, submits)
		}
		if n := len(e.emu.TaskIDs()); n != tasks {
			return fmt.Errorf("%d tasks in the emulator, want %d", n, tasks)
		}
		return nil
	}
}

// expectTaskID checks that the resource records the emulator's n-th task.
func (e *accEnv) expectTaskID(addr string, n int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ids := e.emu.TaskIDs()
		if len(ids) <= n {
			return fmt.Errorf("the emulator has %d tasks", len(ids))
		}
		return resource.ComposeTestCheckFunc(
			resource.TestCheckResourceAttr(addr, "task_id", ids[n]),
			resource.TestCheckResourceAttr(addr, "id", ids[n]),
		)(s)
	}
}

// One submit per run: apply submits once and waits; reordering the phones
// (an update of the list), refreshing a finished task and changing how to
// wait send nothing;
// triggers submit again; destroy calls nothing.
func TestAccInstanceCommand_lifecycle(t *testing.T) {
	e := newAccEnv(t)
	body := func(phones, extra string) string {
		if !strings.Contains(extra, "poll_interval") {
			extra += "\n  poll_interval = \"1s\""
		}
		return fmt.Sprintf("  command = \"getprop ro.build.version.release\"\n  instance_ids = [%s]\n  %s", phones, extra)
	}
	var requestsBeforeDestroy int
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		CheckDestroy: func(*terraform.State) error {
			if n := len(e.emu.Requests()); n != requestsBeforeDestroy {
				return fmt.Errorf("destroy sent %d API requests, want none", n-requestsBeforeDestroy)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: commandConfig(e, body(`"phone-2", "phone-1"`, "")),
				ConfigStateChecks: append(expectStateOf(commandAddr, "successful", 2, 0, 0, 2, 0, 0),
					expectCommand(at("wait_for_completion"), knownvalue.Bool(true)),
					expectCommand(at("fail_on_job_failure"), knownvalue.Bool(true)),
					expectCommand(at("request_id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`))),
					expectCommand(phone("phone-1", "state"), knownvalue.StringExact("successful")),
					expectCommand(phone("phone-1", "status"), knownvalue.Int64Exact(2)),
					expectCommand(phone("phone-2", "execute_msg"), knownvalue.StringRegexp(regexp.MustCompile(`^1[0-4]\n$`))),
					expectCommand(phone("phone-2", "job_id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{32}$`))),
				),
				Check: resource.ComposeTestCheckFunc(e.expectCounts(1, 1), e.expectTaskID(commandAddr, 0)),
			},
			{
				// Same phones in another order, and a refresh of a finished
				// task: an update of the list, with the results known at
				// plan, and no request at all.
				PreConfig: func() { requestsBeforeDestroy = len(e.emu.Requests()) },
				Config:    commandConfig(e, body(`"phone-1", "phone-2"`, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(commandAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(commandAddr, phone("phone-2", "state"), knownvalue.StringExact("successful")),
						plancheck.ExpectKnownValue(commandAddr, at("task_ids"), knownvalue.ListSizeExact(1)),
					},
				},
				Check: func(*terraform.State) error {
					if n := len(e.emu.Requests()); n != requestsBeforeDestroy {
						return fmt.Errorf("refreshing a finished task sent %d requests, want none", n-requestsBeforeDestroy)
					}
					return nil
				},
			},
			{
				// Wait arguments change in place, and submit nothing.
				Config: commandConfig(e, body(`"phone-1", "phone-2"`, "poll_interval = \"2s\"\n  timeouts = { create = \"30m\" }")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(commandAddr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeTestCheckFunc(e.expectCounts(1, 1), e.expectTaskID(commandAddr, 0)),
			},
			{
				// Triggers run the command again.
				Config: commandConfig(e, body(`"phone-1", "phone-2"`, "triggers = { build = \"2\" }")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(commandAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.ComposeTestCheckFunc(e.expectCounts(2, 2), e.expectTaskID(commandAddr, 1),
					func(*terraform.State) error { requestsBeforeDestroy = len(e.emu.Requests()); return nil }),
			},
			{
				ResourceName:  commandAddr,
				ImportState:   true,
				ImportStateId: "6837531fd3f54550927b930180a706bf",
				ExpectError:   errRE("Import not supported", "koophone_instance_task data source"),
			},
		},
	})
}

// A failed phone fails the apply, and the resource stays in state, tainted,
// with its task id and results: the next apply submits again.
func TestAccInstanceCommand_failedPhoneTaints(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Instances: []string{"phone-1"}})
	body := "  command = \"pm list packages\"\n  instance_ids = [\"phone-1\", \"phone-404\"]\n  poll_interval = \"1s\"\n  %s"
	e.parallelTest(
		resource.TestStep{
			Config:      commandConfig(e, fmt.Sprintf(body, "")),
			ExpectError: errRE("adb command failed on 1 phone", "phone-404: failed (status -1)", `error_code "CPS0005"`, `"Phone not found."`, "tainted", "untaint"),
		},
		refreshTainted(
			e.expectTaskID(commandAddr, 0),
			resource.TestCheckResourceAttr(commandAddr, "state", "failed"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-404.state", "failed"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-404.error_code", "CPS0005"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-1.state", "successful"),
		),
		resource.TestStep{
			// Tainted: the next apply replaces it, submitting again.
			Config: commandConfig(e, fmt.Sprintf(body, "fail_on_job_failure = false")),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(commandAddr, plancheck.ResourceActionDestroyBeforeCreate)},
			},
			ConfigStateChecks: expectStateOf(commandAddr, "failed", 2, 0, 0, 1, 1, 0),
			Check:             resource.ComposeTestCheckFunc(e.expectCounts(2, 2), e.expectTaskID(commandAddr, 1)),
		},
	)
}

// A create that runs out of time keeps the task, tainted, says which
// timeout ran out and its value, and which phones had not finished.
func TestAccInstanceCommand_createTimeoutTaints(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, JobDuration: 10 * time.Hour})
	e.parallelTest(
		resource.TestStep{
			Config: commandConfig(e, `  command = "reboot"
  instance_ids = ["phone-1"]
  timeouts = { create = "3s" }`),
			ExpectError: errRE("Timed out waiting for KooPhone adb command", "Timeouts.create (3s) ran out while waiting for task",
				"Not finished:", "phone-1: running (status 1)", "untaint", "Raise timeouts.create"),
		},
		refreshTainted(e.expectTaskID(commandAddr, 0), e.expectCounts(1, 1), resource.TestCheckResourceAttr(commandAddr, "state", "running")),
	)
}

// timeouts.create that runs out while the submit is in flight says so, with
// its value, instead of "context canceled"; the outcome of the submit is
// unknown, so nothing is sent again and nothing is kept.
func TestAccInstanceCommand_createTimeoutWhileSubmitting(t *testing.T) {
	e := newAccEnv(t)
	e.addFault(emulator.Fault{Match: "/v1/instances/async-command", Kind: emulator.FaultDelay, Delay: emulator.Duration(time.Hour)})
	e.parallelTest(resource.TestStep{
		Config: commandConfig(e, `  command = "reboot"
  instance_ids = ["phone-1"]
  timeouts = { create = "3s" }`),
		ExpectError: errRE("Outcome of the KooPhone adb command unknown", "timeouts.create (3s) ran out while the submit was in flight",
			"does not send it again", "request id"),
	})
	if n := e.submits(); n != 1 {
		t.Errorf("%d submits, want 1", n)
	}
}

// The wait ends on the phones the resource submitted to, not on the jobs
// the task happens to list: a job the task lists late (2 s after the
// submit, when phone-1's job has long finished) is waited for, and the
// apply ends with every phone finished.
func TestAccInstanceCommand_waitsForJobsListedLate(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, JobDuration: 500 * time.Millisecond})
	if err := e.emu.AddRules(emulator.Rule{Kind: "command", Phones: []string{"phone-2"}, Status: statusPtr(emulator.StatusSucceeded),
		ListedAfter: emulator.Duration(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	e.parallelTest(resource.TestStep{
		// The gate is evaluated in the apply, right after create: a
		// refresh afterwards would hide a wait that ended early.
		Config: commandConfig(e, "  command = \"getprop ro.product.model\"\n  instance_ids = [\"phone-1\", \"phone-2\"]\n  poll_interval = \"1s\"") + `
resource "terraform_data" "gate" {
  input = koophone_instance_command.c.results["phone-2"].state
  lifecycle {
    precondition {
      condition     = koophone_instance_command.c.state == "successful"
      error_message = "The command ended as ${koophone_instance_command.c.state}."
    }
  }
}
`,
		ConfigStateChecks: append(expectStateOf(commandAddr, "successful", 2, 0, 0, 2, 0, 0),
			statecheck.ExpectKnownValue("terraform_data.gate", at("output"), knownvalue.StringExact("successful")),
			expectCommand(phone("phone-2", "state"), knownvalue.StringExact("successful")),
			expectCommand(phone("phone-2", "status"), knownvalue.Int64Exact(2)),
		),
		Check: func(*terraform.State) error {
			if n := e.taskReads(); n < 3 {
				return fmt.Errorf("%d task reads; the job listed late was not waited for", n)
			}
			return nil
		},
	})
}

// A job that the task never lists keeps the wait going until
// timeouts.create, whose error names the phone and its job.
func TestAccInstanceCommand_jobNeverListed(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken})
	if err := e.emu.AddRules(emulator.Rule{Kind: "command", Phones: []string{"phone-2"}, Status: statusPtr(emulator.StatusSucceeded),
		ListedAfter: emulator.Duration(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.parallelTest(
		resource.TestStep{
			Config: commandConfig(e, "  command = \"reboot\"\n  instance_ids = [\"phone-1\", \"phone-2\"]\n  poll_interval = \"1s\"\n  timeouts = { create = \"3s\" }"),
			ExpectError: errRE("Timed out waiting for KooPhone adb command", "Timeouts.create (3s) ran out", "1 of 2 jobs done",
				"Not finished:", "phone-2: job", "not listed by the task yet"),
		},
		refreshTainted(
			resource.TestCheckResourceAttr(commandAddr, "state", "running"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-1.state", "successful"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-2.state", "unknown"),
		),
	)
}

// install_package_url is often a presigned URL with a signature in its
// query: plans mark it sensitive (and a bad one is named, not quoted: see
// TestAccTaskResources_planTimeValidation).
func TestAccInstanceAppInstall_packageURLIsSensitive(t *testing.T) {
	e := newAccEnv(t)
	const signed = "https://apps.obs.cn-south-1.myhuaweicloud.com/game.apk?AccessKeyId=AK&Signature=SIGNATURE-do-not-show"
	e.parallelTest(resource.TestStep{
		Config: installConfig(e, installBody(`"phone-1"`, "install_package_url = \""+signed+"\"")),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{plancheck.ExpectSensitiveValue(installAddr, at("install_package_url"))},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			expectInstall(at("state"), knownvalue.StringExact("successful")),
		},
	})
}

// A submit is sent again only when the API certainly did not act on it.
func TestAccInstanceCommand_submitFaults(t *testing.T) {
	cases := []struct {
		name           string
		fault          emulator.Fault
		wantErr        []string
		submits, tasks int
	}{
		{
			name:    "HTTP 502 after the task was created",
			fault:   emulator.Fault{Kind: emulator.FaultError, Status: http.StatusBadGateway, Process: true},
			wantErr: []string{"Outcome of the KooPhone adb command unknown", "does not send it again", "request id"},
			submits: 1, tasks: 1,
		},
		{
			name:    "connection dropped after the task was created",
			fault:   emulator.Fault{Kind: emulator.FaultDrop, Process: true},
			wantErr: []string{"Outcome of the KooPhone adb command unknown", "request id"},
			submits: 1, tasks: 1,
		},
		{
			name:    "throttled, then accepted",
			fault:   emulator.Fault{Kind: emulator.FaultError, Status: http.StatusTooManyRequests, RetryAfter: "2"},
			submits: 2, tasks: 1,
		},
		{
			name:    "refused",
			fault:   emulator.Fault{Kind: emulator.FaultError, Status: http.StatusOK, Code: "KOOPHONE.API.1001", Message: "No permission to operate the instance."},
			wantErr: []string{"KooPhone API error", "adb command to 1 phone(s) failed", "KOOPHONE.API.1001", "No permission", "Nothing was submitted"},
			submits: 1, tasks: 0,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAccEnv(t)
			c.fault.Match = "/v1/instances/async-command"
			e.addFault(c.fault)
			step := resource.TestStep{
				Config: commandConfig(e, "  command = \"reboot\"\n  instance_ids = [\"phone-1\"]\n  poll_interval = \"1s\""),
				Check:  e.expectCounts(c.submits, c.tasks),
			}
			if c.wantErr != nil {
				step.ExpectError = errRE(c.wantErr...)
			}
			e.parallelTest(step)
			if err := e.expectCounts(c.submits, c.tasks)(nil); err != nil {
				t.Error(err)
			}
		})
	}
}

// The install answer's two shapes give the same resource.
func TestAccInstanceAppInstall_responseShapes(t *testing.T) {
	for _, shape := range []string{emulator.InstallResponseFlat, emulator.InstallResponseNested} {
		t.Run(shape, func(t *testing.T) {
			e := newAccEnvWith(t, emulator.Options{Token: accToken, InstallResponse: shape})
			e.parallelTest(resource.TestStep{
				Config: installConfig(e, installBody(`"phone-1", "phone-2"`, "fast_install = true")),
				ConfigStateChecks: append(expectStateOf(installAddr, "successful", 2, 0, 0, 2, 0, 0),
					expectInstall(at("biz_type"), knownvalue.StringExact("apk")),
					expectInstall(at("content_type"), knownvalue.StringExact("application/octet-stream")),
					expectInstall(phone("phone-1", "status"), knownvalue.Int64Exact(2)),
					expectInstall(phone("phone-2", "job_id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{32}$`))),
				),
				Check: resource.ComposeTestCheckFunc(e.expectCounts(1, 1), e.expectTaskID(installAddr, 0),
					resource.TestMatchResourceAttr(installAddr, "task_id", regexp.MustCompile(`^ZGCA`))),
			})
		})
	}
}

// Install statuses: 0 (not started) is read as pending, 3 as failed.
func TestAccInstanceAppInstall_statuses(t *testing.T) {
	t.Run("pending, then a forgotten task stays in state", func(t *testing.T) {
		e := newAccEnvWith(t, emulator.Options{Token: accToken, JobDuration: 10 * time.Hour})
		e.parallelTest(
			installNotWaiting(e,
				expectInstall(at("unknown_count"), knownvalue.Int64Exact(1)),
				expectInstall(phone("phone-1", "status"), knownvalue.Null()),
				expectInstall(phone("phone-1", "state"), knownvalue.StringExact("unknown")),
			),
			resource.TestStep{
				// A refresh reads the running task once.
				RefreshState: true,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(installAddr, "results.phone-1.status", "0"),
					resource.TestCheckResourceAttr(installAddr, "results.phone-1.state", "pending"),
					resource.TestCheckResourceAttr(installAddr, "pending_count", "1"),
					resource.TestCheckResourceAttr(installAddr, "state", "running"),
				),
			},
			resource.TestStep{
				// The API forgets the task: it stays in state as it was.
				PreConfig:    e.emu.Reset,
				RefreshState: true,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(installAddr, "results.phone-1.state", "pending"),
					resource.TestCheckResourceAttr(installAddr, "state", "running"),
					resource.TestMatchResourceAttr(installAddr, "task_id", regexp.MustCompile(`^ZGCA`)),
					func(*terraform.State) error {
						if n := e.taskReads(); n == 0 {
							return fmt.Errorf("the refresh did not read the task")
						}
						return nil
					},
				),
			},
		)
	})
	t.Run("failed install, not failing the apply", func(t *testing.T) {
		e := newAccEnvWith(t, emulator.Options{Token: accToken, Instances: []string{"phone-1"}})
		e.parallelTest(resource.TestStep{
			Config: installConfig(e, installBody(`"phone-1", "phone-404"`, "fail_on_job_failure = false")),
			ConfigStateChecks: append(expectStateOf(installAddr, "failed", 2, 0, 0, 1, 1, 0),
				expectInstall(phone("phone-404", "status"), knownvalue.Int64Exact(3)),
				expectInstall(phone("phone-404", "state"), knownvalue.StringExact("failed")),
				expectInstall(phone("phone-404", "error_code"), knownvalue.StringExact("CPS0005")),
				expectInstall(phone("phone-1", "state"), knownvalue.StringExact("successful")),
			),
		})
	})
}

// Turning waiting on for a running task waits in the update, and submits
// nothing.
func TestAccInstanceAppInstall_updateWaits(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, JobDuration: 5 * time.Second})
	e.parallelTest(
		installNotWaiting(e),
		resource.TestStep{
			Config: installConfig(e, installBody(`"phone-1"`, "wait_for_completion = true")),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(installAddr, plancheck.ResourceActionUpdate)},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				expectInstall(at("state"), knownvalue.StringExact("successful")),
				expectInstall(phone("phone-1", "status"), knownvalue.Int64Exact(2)),
			},
			Check: resource.ComposeTestCheckFunc(e.expectCounts(1, 1), e.expectTaskID(installAddr, 0)),
		},
	)
}

// Every argument is checked at plan time, before any request.
func TestAccTaskResources_planTimeValidation(t *testing.T) {
	e := newAccEnv(t)
	command := func(cmd, extra string) string {
		return commandConfig(e, fmt.Sprintf("  command = %s\n  instance_ids = [\"phone-1\"]\n  %s", cmd, extra))
	}
	install := func(extra string) string {
		return installConfig(e, installBody(`"phone-1"`, extra))
	}
	e.parallelTest(
		rejectedAtPlan(command(`"echo a\nreboot"`, ""), "Invalid character in command", `'\n' at byte 6`, "&&"),
		rejectedAtPlan(command(`"echo\ta"`, ""), "Invalid character in command", `'\t' at byte 4`),
		rejectedAtPlan(command(`""`, ""), "Invalid command length", "0 bytes long"),
		rejectedAtPlan(command(fmt.Sprintf("%q", strings.Repeat("a", 1025)), ""), "Invalid command length", "1025 bytes"),
		rejectedAtPlan(commandConfig(e, "  command = \"reboot\"\n  instance_ids = []"), "instance_ids", "at least 1"),
		rejectedAtPlan(command(`"reboot"`, "wave_size = 101"), "wave_size", "between 1 and 100, got: 101"),
		rejectedAtPlan(command(`"reboot"`, "wave_size = 0"), "wave_size", "between 1 and 100, got: 0"),
		rejectedAtPlan(command(`"reboot"`, "canary_size = -1"), "canary_size", "between 0 and 100, got: -1"),
		rejectedAtPlan(command(`"reboot"`, "parallel_waves = 0"), "parallel_waves", "between 1 and 50, got: 0"),
		rejectedAtPlan(command(`"reboot"`, "max_failed_phones = -1"), "max_failed_phones", "at least 0, got: -1"),
		rejectedAtPlan(commandConfig(e, "  command = \"reboot\"\n  instance_ids = [\""+strings.Repeat("p", 33)+"\"]"), "Invalid instance id", `instance_ids[0] is "`+strings.Repeat("p", 33)+`", 33 characters long`, "1 to 32 characters"),
		rejectedAtPlan(command(`"reboot"`, `poll_interval = "500ms"`), "Duration too short", "at least 1s"),
		rejectedAtPlan(command(`"reboot"`, `poll_interval = "soon"`), "Invalid duration", "not a Go duration"),
		rejectedAtPlan(command(`"reboot"`, `timeouts = { create = "forever" }`), "Time Duration", `"forever" must be`),
		rejectedAtPlan(install(`object_size = "12.5"`), "object_size", "whole MB"),
		rejectedAtPlan(install(`install_package_url = "http://apps.example.com/game.apk?Signature=SIG"`), "Invalid package URL", "install_package_url must be an absolute https URL of the package, such as"),
		rejectedAtPlan(install(`biz_type = "xapk"`), "biz_type", "apk"),
		rejectedAtPlan(install(`content_type = ""`), "content_type", "between 1 and 64"),
		rejectedAtPlan(install(`content_md5 = ""`), "content_md5", "between 1 and 200"),
		rejectedAtPlan(install(`object_name = "`+strings.Repeat("n", 101)+`"`), "object_name", "between 1 and 100"),
		rejectedAtPlan(install(`file_name = ""`), "file_name", "between 1 and 100"),
		rejectedAtPlan(install(`object_version = "`+strings.Repeat("9", 101)+`"`), "object_version", "between 1 and 100"),
		rejectedAtPlan(install(`install_package_url = "https://apps.example.com/`+strings.Repeat("a", 2000)+`"`), "install_package_url", "between 1 and 2000"),
	)
	e.checkNoRequests()
}

// A phone that the submit's answer does not list is reported, not dropped,
// and counts as failed; a job the answer does not list is left out.
func TestAccInstanceCommand_phoneMissingFromAnswer(t *testing.T) {
	e := newAccEnv(t)
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{JobID: "job1", InstanceID: "phone-1", Status: emulator.StatusSucceeded, ExecuteMsg: str("ok")},
		{JobID: "job9", InstanceID: "phone-9", Status: emulator.StatusSucceeded},
	}})
	e.addFault(emulator.Fault{Match: "/v1/instances/async-command", Kind: emulator.FaultRaw,
		Body: fmt.Sprintf(`{"error_code":"0","error_msg":"ok","data":{"task_id":%q,"cmd_jobs":[{"instance_id":"phone-1","job_id":"job1"}]}}`, id)})
	e.parallelTest(
		resource.TestStep{
			Config:      commandConfig(e, "  command = \"reboot\"\n  instance_ids = [\"phone-1\", \"phone-2\"]\n  poll_interval = \"1s\""),
			ExpectError: errRE("adb command failed on 1 phone", "phone-2: missing from the submit's answer"),
		},
		refreshTainted(
			resource.TestCheckResourceAttr(commandAddr, "task_id", id),
			resource.TestCheckResourceAttr(commandAddr, "state", "failed"),
			resource.TestCheckResourceAttr(commandAddr, "job_count", "2"),
			resource.TestCheckResourceAttr(commandAddr, "failed_count", "1"),
			resource.TestCheckResourceAttr(commandAddr, "results.%", "2"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-1.state", "successful"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-2.state", "missing"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-2.job_id", ""),
			resource.TestCheckNoResourceAttr(commandAddr, "results.phone-2.status"),
		),
	)
}

func statusPtr(s int) *int { return &s }
