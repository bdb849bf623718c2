package provider

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// Rollouts in waves: one resource for any number of phones.

// pool is the instance_ids of n phones, phone-000 to phone-(n-1), which
// sort in number order.
func pool(n int) string {
	return fmt.Sprintf(`[for i in range(%d) : format("phone-%%03d", i)]`, n)
}

func rolloutConfig(e *accEnv, command, phones string, extra ...string) string {
	return commandConfig(e, fmt.Sprintf("  command = %q\n  instance_ids = %s\n  poll_interval = \"1s\"\n  %s",
		command, phones, strings.Join(extra, "\n  ")))
}

// submitTimes are the arrival times of the emulator's submits, in order.
func (e *accEnv) submitTimes() []time.Time {
	var times []time.Time
	for _, r := range e.emu.Requests() {
		if r.Method == http.MethodPost {
			times = append(times, r.Time)
		}
	}
	return times
}

// expectWaves checks the resource's tasks, in order: each one's phones,
// as the emulator received them, and each phone's task in results.
func (e *accEnv) expectWaves(addr string, waves ...[]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs := s.RootModule().Resources[addr].Primary.Attributes
		if n := rs["task_ids.#"]; n != fmt.Sprint(len(waves)) {
			return fmt.Errorf("%s tasks, want %d", n, len(waves))
		}
		for i, want := range waves {
			task := rs[fmt.Sprintf("task_ids.%d", i)]
			if got := e.emu.TaskInstances(task); !slices.Equal(got, want) {
				return fmt.Errorf("task %d (%s) went to %v, want %v", i, task, got, want)
			}
			for _, id := range want {
				if got := rs["results."+id+".task_id"]; got != task {
					return fmt.Errorf("results[%q].task_id = %q, want %q", id, got, task)
				}
			}
		}
		return nil
	}
}

// phoneRange is phone-from to phone-(to-1), as pool names them.
func phoneRange(from, to int) []string { return idRange("phone-%03d", from, to) }

// idRange formats the numbers from to to-1 as instance ids.
func idRange(format string, from, to int) []string {
	ids := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		ids = append(ids, fmt.Sprintf(format, i))
	}
	return ids
}

// 250 phones go out in 3 waves, one after the other: the emulator receives
// each submit only once the jobs of the wave before have finished.
func TestAccInstanceCommand_sequentialWaves(t *testing.T) {
	e := newAccEnv(t)
	e.parallelTest(resource.TestStep{
		Config:            rolloutConfig(e, "reboot", pool(250)),
		ConfigStateChecks: expectStateOf(commandAddr, "successful", 250, 0, 0, 250, 0, 0),
		Check: resource.ComposeTestCheckFunc(
			e.expectWaves(commandAddr, phoneRange(0, 100), phoneRange(100, 200), phoneRange(200, 250)),
			resource.TestCheckResourceAttr(commandAddr, "not_submitted_count", "0"),
			func(*terraform.State) error {
				times := e.submitTimes()
				for i := 1; i < len(times); i++ {
					if finished := times[i-1].Add(accJobDuration); times[i].Before(finished) {
						return fmt.Errorf("wave %d was submitted at %s, before wave %d finished at %s", i+1, times[i], i, finished)
					}
				}
				return nil
			},
		),
	})
}

// A failed canary stops the rollout, whatever the budget: no other wave is
// submitted, and every other phone is recorded as not submitted.
func TestAccInstanceCommand_failedCanaryStopsTheRollout(t *testing.T) {
	e := newAccEnv(t)
	if err := e.emu.AddRules(emulator.Rule{Kind: "command", Phones: []string{"phone-000"}, Status: statusPtr(emulator.StatusFailed)}); err != nil {
		t.Fatal(err)
	}
	e.parallelTest(
		resource.TestStep{
			Config: rolloutConfig(e, "reboot", pool(250), "canary_size = 1", "max_failed_phones = 2"),
			ExpectError: errRE("adb command failed on 1 phone", "failed on 1 of 250 phones, in the canary (wave 1)", "phone-000: failed (status -1)",
				"The rollout stopped: waves 2 to 4 of 4 (249 phones) were not submitted", "tainted"),
		},
		refreshTainted(
			e.expectCounts(1, 1),
			e.expectWaves(commandAddr, phoneRange(0, 1)),
			resource.TestCheckResourceAttr(commandAddr, "state", "failed"),
			resource.TestCheckResourceAttr(commandAddr, "job_count", "250"),
			resource.TestCheckResourceAttr(commandAddr, "failed_count", "1"),
			resource.TestCheckResourceAttr(commandAddr, "not_submitted_count", "249"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-001.state", "not_submitted"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-001.task_id", ""),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-249.error_msg", "The rollout stopped before wave 4."),
		),
	)
}

// A budget of 2 lets the rollout go on after two failed phones and stops
// it after the third; without fail_on_job_failure the apply succeeds and
// the outcome is in state.
func TestAccInstanceCommand_failureBudget(t *testing.T) {
	e := newAccEnv(t)
	if err := e.emu.AddRules(emulator.Rule{Kind: "command", Phones: []string{"phone-003", "phone-013", "phone-025", "phone-045"},
		Status: statusPtr(emulator.StatusFailed)}); err != nil {
		t.Fatal(err)
	}
	e.parallelTest(resource.TestStep{
		Config: rolloutConfig(e, "reboot", pool(50), "wave_size = 10", "max_failed_phones = 2", "fail_on_job_failure = false"),
		ConfigStateChecks: append(expectStateOf(commandAddr, "failed", 50, 0, 0, 27, 3, 0),
			expectCommand(at("not_submitted_count"), knownvalue.Int64Exact(20)),
			expectCommand(phone("phone-025", "state"), knownvalue.StringExact("failed")),
			expectCommand(phone("phone-030", "state"), knownvalue.StringExact("not_submitted")),
			expectCommand(phone("phone-045", "state"), knownvalue.StringExact("not_submitted")),
		),
		Check: resource.ComposeTestCheckFunc(e.expectCounts(3, 3),
			e.expectWaves(commandAddr, phoneRange(0, 10), phoneRange(10, 20), phoneRange(20, 30))),
	})
}

// The pool grows and shrinks in place: added phones get the command in an
// update, in their own waves; removed ones leave results; the others are
// not touched. A new command replaces the resource and runs everywhere.
func TestAccInstanceCommand_poolChanges(t *testing.T) {
	e := newAccEnv(t)
	three, five := phoneRange(0, 3), phoneRange(0, 5)
	e.parallelTest(
		resource.TestStep{
			Config: rolloutConfig(e, "reboot", pool(3), "wave_size = 2"),
			Check:  resource.ComposeTestCheckFunc(e.expectCounts(2, 2), e.expectWaves(commandAddr, three[:2], three[2:])),
		},
		resource.TestStep{
			// The plan shows the phones it adds, and keeps the others.
			Config: rolloutConfig(e, "reboot", pool(5), "wave_size = 2"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(commandAddr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(commandAddr, phone("phone-000", "state"), knownvalue.StringExact("successful")),
				plancheck.ExpectUnknownValue(commandAddr, tfjsonpath.New("results").AtMapKey("phone-004")),
				plancheck.ExpectUnknownValue(commandAddr, at("task_ids")),
			}},
			ConfigStateChecks: expectStateOf(commandAddr, "successful", 5, 0, 0, 5, 0, 0),
			Check:             resource.ComposeTestCheckFunc(e.expectCounts(3, 3), e.expectWaves(commandAddr, five[:2], five[2:3], five[3:])),
		},
		resource.TestStep{
			// A shrink is known at plan: nothing is sent.
			Config: rolloutConfig(e, "reboot", `["phone-001", "phone-002", "phone-004"]`, "wave_size = 2"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(commandAddr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(commandAddr, at("job_count"), knownvalue.Int64Exact(3)),
				plancheck.ExpectKnownValue(commandAddr, at("task_ids"), knownvalue.ListSizeExact(3)),
			}},
			ConfigStateChecks: expectStateOf(commandAddr, "successful", 3, 0, 0, 3, 0, 0),
			Check: resource.ComposeTestCheckFunc(e.expectCounts(3, 3),
				resource.TestCheckResourceAttr(commandAddr, "results.%", "3"),
				resource.TestCheckNoResourceAttr(commandAddr, "results.phone-000.state")),
		},
		resource.TestStep{
			// The same phones in another order, one of them twice: an
			// update that sends nothing (instance_ids is a list used as a
			// set).
			Config: rolloutConfig(e, "reboot", `["phone-004", "phone-002", "phone-001", "phone-002"]`, "wave_size = 2"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(commandAddr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(commandAddr, at("job_count"), knownvalue.Int64Exact(3)),
				plancheck.ExpectKnownValue(commandAddr, phone("phone-004", "state"), knownvalue.StringExact("successful")),
			}},
			ConfigStateChecks: expectStateOf(commandAddr, "successful", 3, 0, 0, 3, 0, 0),
			Check:             e.expectCounts(3, 3),
		},
		resource.TestStep{
			// A new command runs everywhere, once per phone: the
			// emulator refuses a submit that lists a phone twice.
			Config: rolloutConfig(e, "getprop ro.build.version.release", `["phone-004", "phone-002", "phone-001", "phone-002"]`, "wave_size = 2"),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(commandAddr, plancheck.ResourceActionDestroyBeforeCreate)},
			},
			Check: resource.ComposeTestCheckFunc(e.expectCounts(5, 5),
				e.expectWaves(commandAddr, []string{"phone-001", "phone-002"}, []string{"phone-004"})),
		},
	)
}

// A wave whose submit outcome is unknown stops the rollout and is never
// sent again; the waves before it are kept, and its phones say so.
func TestAccInstanceCommand_unknownOutcomeWave(t *testing.T) {
	var env *accEnv
	var first atomic.Bool
	dropSecondSubmit := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r)
			if r.Method == http.MethodPost && first.CompareAndSwap(false, true) {
				env.addFault(emulator.Fault{Match: "/v1/instances/async-command", Kind: emulator.FaultDrop, Process: true})
			}
		})
	}
	env = newAccEnvWith(t, emulator.Options{Token: accToken}, dropSecondSubmit)
	e := env
	e.parallelTest(
		resource.TestStep{
			Config: rolloutConfig(e, "reboot", pool(250)),
			ExpectError: errRE("Outcome of the KooPhone adb command unknown", "Wave 2 of 3 of the adb command (100 phones)",
				"does not send it again", "submit_unknown", "request id", "wave 3 of 3 (50 phones) was not submitted", "tainted"),
		},
		refreshTainted(
			e.expectCounts(2, 2),
			e.expectWaves(commandAddr, phoneRange(0, 100)),
			resource.TestCheckResourceAttr(commandAddr, "state", "failed"),
			resource.TestCheckResourceAttr(commandAddr, "successful_count", "100"),
			resource.TestCheckResourceAttr(commandAddr, "not_submitted_count", "150"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-100.state", "submit_unknown"),
			resource.TestCheckResourceAttr(commandAddr, "results.phone-249.state", "not_submitted"),
		),
	)
}

// Without waiting there is nothing to gate on: every wave goes at once. A
// refresh reads each task once while it runs, and never after.
func TestAccInstanceCommand_wavesWithoutWaiting(t *testing.T) {
	// The jobs finish at once: nothing reads them during the apply, and
	// the refreshes after it find them finished without waiting.
	e := newAccEnvWith(t, emulator.Options{Token: accToken, JobDuration: -1})
	var reads int
	e.parallelTest(
		resource.TestStep{
			Config:            rolloutConfig(e, "reboot", pool(250), "canary_size = 1", "wait_for_completion = false"),
			ConfigStateChecks: expectStateOf(commandAddr, "running", 250, 0, 0, 0, 0, 250),
			Check: resource.ComposeTestCheckFunc(e.expectCounts(4, 4), func(*terraform.State) error {
				if n := e.taskReads(); n != 0 {
					return fmt.Errorf("%d task reads while not waiting, want none", n)
				}
				times := e.submitTimes()
				if spread := times[len(times)-1].Sub(times[0]); spread >= accJobDuration {
					return fmt.Errorf("the submits were spread over %s: the waves waited on each other", spread)
				}
				return nil
			}),
		},
		resource.TestStep{
			// The refresh after the apply read each task once; this one
			// reads each at most once more.
			RefreshState: true,
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(commandAddr, "state", "successful"),
				resource.TestCheckResourceAttr(commandAddr, "successful_count", "250"),
				func(*terraform.State) error {
					if reads = e.taskReads(); reads < 4 || reads > 8 {
						return fmt.Errorf("%d task reads, want one per task (4) per refresh, in one or two refreshes", reads)
					}
					return nil
				}),
		},
		resource.TestStep{
			RefreshState: true,
			Check: func(*terraform.State) error {
				if n := e.taskReads(); n != reads {
					return fmt.Errorf("refreshing finished tasks sent %d task reads, want none", n-reads)
				}
				return nil
			},
		},
	)
}

// timeouts.create bounds the whole rollout, and its error names the waves
// never submitted.
func TestAccInstanceCommand_rolloutTimeout(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, JobDuration: 10 * time.Hour})
	e.parallelTest(resource.TestStep{
		Config: rolloutConfig(e, "reboot", pool(150), `timeouts = { create = "3s" }`),
		ExpectError: errRE("Timed out waiting for KooPhone adb command", "Timeouts.create (3s) ran out while waiting for task",
			"Not finished:", "phone-000: running (status 1)", "wave 2 of 2 (50 phones) was not submitted", "Raise timeouts.create"),
	})
}

// App installs roll out alike: in waves, and to the phones added.
func TestAccInstanceAppInstall_waves(t *testing.T) {
	e := newAccEnv(t)
	e.parallelTest(
		resource.TestStep{
			Config:            installConfig(e, installBody("", "instance_ids = "+pool(3)+"\nwave_size = 2")),
			ConfigStateChecks: expectStateOf(installAddr, "successful", 3, 0, 0, 3, 0, 0),
			Check:             e.expectWaves(installAddr, phoneRange(0, 2), phoneRange(2, 3)),
		},
		resource.TestStep{
			Config:            installConfig(e, installBody("", "instance_ids = "+pool(4)+"\nwave_size = 2")),
			ConfigStateChecks: expectStateOf(installAddr, "successful", 4, 0, 0, 4, 0, 0),
			Check: resource.ComposeTestCheckFunc(e.expectCounts(3, 3),
				e.expectWaves(installAddr, phoneRange(0, 2), phoneRange(2, 3), phoneRange(3, 4)),
				resource.TestMatchResourceAttr(installAddr, "task_ids.2", regexp.MustCompile(`^ZGCA`))),
		},
	)
}
