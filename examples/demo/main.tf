# The configuration that `make demo` applies against the bundled KooPhone
# emulator. The emulator was seeded from emulator-seed.json; the provider
# reads KOOPHONE_ENDPOINT and KOOPHONE_TOKEN from the environment.

terraform {
  required_providers {
    koophone = {
      source = "koophone/koophone"
    }
  }
}

provider "koophone" {}

# An adb command sent to four phones; each phone takes a few seconds.
data "koophone_instance_task" "adb_command" {
  task_id             = "d3m0c0ffee5a4b1e9f00a1b2c3d4e5f6"
  wait_for_completion = true
  poll_interval       = "2s"

  timeouts = {
    read = "2m"
  }

  # The gate: the apply stops here unless every phone succeeded.
  lifecycle {
    postcondition {
      condition     = self.state == "successful"
      error_message = "Task ${self.id} ended ${self.state}: ${self.failed_count} of ${self.job_count} phones failed."
    }
  }
}

# Stands for the next step of a deployment: it is created only after the
# gate above has passed.
resource "terraform_data" "next_step" {
  input = "ran after ${data.koophone_instance_task.adb_command.successful_count} phones succeeded"
}

# An app install in which one phone was not found. A check block reports it
# as a warning without blocking the apply.
check "app_install" {
  data "koophone_instance_task" "install" {
    task_id = "ZGCAd3m0a77f1e9c4b2a8d6e0f1a2b3c"
  }

  assert {
    condition     = data.koophone_instance_task.install.failed_count == 0
    error_message = "${data.koophone_instance_task.install.failed_count} of ${data.koophone_instance_task.install.job_count} phones failed the app install."
  }
}

output "adb_command_state" {
  value = data.koophone_instance_task.adb_command.state
}

output "adb_command_jobs" {
  value = [
    for job in data.koophone_instance_task.adb_command.jobs :
    format("%s  %-10s  %s", job.job_id, job.state, job.execute_msg)
  ]
}

output "next_step" {
  value = terraform_data.next_step.output
}
