package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// noSecretInState fails when any secret appears anywhere in the state,
// resources, data sources and outputs alike.
type noSecretInState struct{ secrets []string }

func (c noSecretInState) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	raw, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	for _, s := range c.secrets {
		if bytes.Contains(raw, []byte(s)) {
			resp.Error = fmt.Errorf("a credential appears in the state")
			return
		}
	}
}

// The credentials never reach Terraform's state, diagnostics or logs, even
// at TF_LOG=TRACE, through a plan and an apply, a failed read whose error
// message echoes the token, and a wait; meanwhile the DEBUG request log
// shows each request with its credential headers redacted.
func TestAccProvider_secretHygiene(t *testing.T) {
	e := newAccEnv(t)
	secrets := []string{accToken}
	id := e.addTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: 2, ExecuteMsg: str("done")}}})
	e.addFault(emulator.Fault{Match: id, Kind: emulator.FaultError, Status: 401, Code: "APIGW.0301", Message: "token " + accToken + " expired"})
	e.addFault(emulator.Fault{Match: id, Kind: emulator.FaultError, Status: 503})

	logPath := t.TempDir() + "/terraform.log"
	// The credentials come from the environment, so that the configuration
	// (which the test harness itself logs) does not contain them.
	e.configureFromEnvironment()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	config := fmt.Sprintf(`
data "koophone_instance_task" "t" {
  task_id             = %q
  wait_for_completion = true
}

resource "terraform_data" "gate" {
  input = data.koophone_instance_task.t.jobs
}

resource "koophone_instance_command" "c" {
  command       = "echo hello"
  instance_ids  = ["phone-1"]
  poll_interval = "1s"
}

output "jobs" {
  value = data.koophone_instance_task.t.jobs
}
`, id)
	e.serialTest(
		resource.TestStep{
			Config:      config,
			ExpectError: errRE("KooPhone rejected the credentials", "token [REDACTED] expired"),
		},
		resource.TestStep{
			Config:            config,
			ConfigStateChecks: append(expectState("successful"), noSecretInState{secrets: secrets}),
		},
	)

	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	for _, s := range secrets {
		if idx := bytes.Index(logs, []byte(s)); idx >= 0 {
			t.Errorf("a credential appears in the TRACE log, after: %q", logs[max(0, idx-200):idx])
		}
	}
	text := string(logs)
	for _, want := range []string{
		"KooPhone request", `method=GET`, `status=503`, `status=200`, "attempt=1", "duration_ms=", "request_id=",
		"X-Auth-Token: [REDACTED]", "KooPhone task poll failed transiently; polling goes on",
		"Polled KooPhone task", "KooPhone task progress", `method=POST`, "Submitted KooPhone adb command",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}
