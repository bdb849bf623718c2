package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// The actions through the real CLI. They need Terraform 1.14 or later, which
// cannot be built through the Go module proxy: CI's CLIs (Terraform 1.6.6,
// the one on PATH, OpenTofu 1.6.3) skip them, and actions_test.go covers the
// actions at the plugin protocol level on every run. See CONTRIBUTING.md.

var onlyWithActions = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)}

// An action_trigger runs the command after terraform_data is created, on
// the phones of the action's configuration, once.
func TestAccActionCommand_actionTrigger(t *testing.T) {
	e := newAccEnv(t)
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   onlyWithActions,
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{{
			Config: e.providerBlock() + `
action "koophone_instance_command" "warm" {
  config {
    command      = "pm list packages"
    instance_ids = ["phone-002", "phone-001"]
  }
}

resource "terraform_data" "release" {
  input = "1.2.3"
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.koophone_instance_command.warm]
    }
  }
}
`,
			Check: func(*terraform.State) error {
				tasks := e.emu.TaskIDs()
				if len(tasks) != 1 {
					return fmt.Errorf("%d tasks, want 1", len(tasks))
				}
				if got := strings.Join(e.emu.TaskInstances(tasks[0]), ","); got != "phone-001,phone-002" {
					return fmt.Errorf("the command went to %s, want phone-001,phone-002", got)
				}
				return nil
			},
		}},
	})
}

// terraform apply -invoke runs each action by hand, with its progress in
// the output, and a failed phone fails it, named.
func TestAccActions_invoke(t *testing.T) {
	cli := acceptanceCLI(t)
	if !cliRunsActions(t, cli) {
		t.Skipf("%s has no actions (Terraform 1.14 or later has)", cli)
	}
	env := validateCLIEnv(t)
	for _, tc := range []struct {
		action, config string
		fail           bool
	}{
		{action: "koophone_instance_command", config: `command = "pm list packages"`},
		{action: "koophone_instance_app_install", config: `object_name = "com.example.game"
    file_name = "game.apk"
    object_version = "1.2.3"
    object_size = "12"
    install_package_url = "https://bucket.obs.example.com/game.apk"`},
		{action: "koophone_instance_reboot"},
		{action: "koophone_instance_reset"},
		{action: "koophone_instance_reboot", fail: true},
	} {
		t.Run(tc.action, func(t *testing.T) {
			e := newAccEnvWith(t, emulator.Options{Token: accToken, JobDuration: 2 * time.Second})
			if tc.fail {
				fail := emulator.StatusFailed
				if err := e.emu.AddRules(emulator.Rule{Kind: "reboot", Phones: []string{"phone-002"}, Status: &fail}); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			config := e.providerBlock() + fmt.Sprintf(`
action %q "this" {
  config {
    instance_ids  = ["phone-001", "phone-002"]
    poll_interval = "1s"
    %s
  }
}
`, tc.action, tc.config)
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(cli, "-chdir="+dir, "apply", "-auto-approve", "-no-color", "-invoke=action."+tc.action+".this")
			cmd.Env = env
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			switch {
			case tc.fail && err == nil:
				t.Fatalf("the invocation succeeded, want a failure:\n%s", out.String())
			case tc.fail:
				mustMatch(t, "output", []string{out.String()}, `failed on 1 phone`, `phone-002: failed`)
			case err != nil:
				t.Fatalf("%v:\n%s", err, out.String())
			default:
				mustMatch(t, "output", []string{out.String()}, `Done: 2/2 phones finished \(2 successful, 0 failed\)`)
			}
		})
	}
}
