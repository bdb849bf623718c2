# The configuration that `make demo` applies against the bundled KooPhone
# emulator, seeded from emulator-seed.json. The provider reads
# KOOPHONE_ENDPOINT and KOOPHONE_TOKEN from the environment.
#
# The whole loop: Terraform installs an app on the phones and waits, a gate
# stops the deployment unless every phone has the app, a command runs after
# it, and a phone that fails is reported by a check block as a warning. And
# the first use of all: a task that something else submitted (make demo
# submits it with a script, outside Terraform) is read, waiting until every
# phone has finished.

terraform {
  required_providers {
    koophone = {
      source = "koophone/koophone"
    }
  }
}

provider "koophone" {}

locals {
  phones = ["phone-001", "phone-002", "phone-003", "phone-004"]
}

# 1. Install the app on four phones and wait (installs report 0 "not
#    started", then 1, then 2 or 3).
resource "koophone_instance_app_install" "game" {
  object_name         = "com.example.game"
  file_name           = "game-1.2.3.apk"
  object_version      = "1.2.3"
  object_size         = "120"
  install_package_url = "https://demo-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.2.3.apk"
  instance_ids        = local.phones
  poll_interval       = "2s"

  # 2. The gate: nothing that depends on the install runs unless every
  #    phone installed the app.
  lifecycle {
    postcondition {
      condition     = self.state == "successful"
      error_message = "The install ended ${self.state}: ${self.failed_count} of ${self.job_count} phones failed."
    }
  }
}

# 3. Runs only after the gate has passed: it takes its phones from the install.
resource "koophone_instance_command" "start_game" {
  command       = "am start -n com.example.game/.MainActivity"
  instance_ids  = koophone_instance_app_install.game.instance_ids
  poll_interval = "2s"
}

# 4. An inventory that includes a phone the tenant does not have. Its
#    failure is recorded instead of failing the apply ...
resource "koophone_instance_command" "inventory" {
  command             = "getprop ro.build.version.release"
  instance_ids        = concat(local.phones, ["phone-404"])
  fail_on_job_failure = false
  poll_interval       = "2s"
}

# ... and reported by a check block: a warning, not an error.
check "inventory" {
  assert {
    condition = koophone_instance_command.inventory.failed_count == 0
    error_message = join("; ", [
      for id, r in koophone_instance_command.inventory.results :
      "phone ${id} failed: ${r.error_code} ${r.error_msg}" if r.state != "successful"
    ])
  }
}

# 5. A task submitted outside Terraform: make demo submits an adb command
#    to the emulator the way a script would and passes its task id here.
#    The data source waits until every phone has finished.
variable "outside_task_id" {
  type        = string
  description = "The task_id of a task submitted outside Terraform (default: a task of the demo's seed)."
  default     = "d3m0c0ffee5a4b1e9f00a1b2c3d4e5f6"
}

data "koophone_instance_task" "outside" {
  task_id             = var.outside_task_id
  wait_for_completion = true
  poll_interval       = "2s"
}

# Stands for the next step of a deployment.
resource "terraform_data" "next_step" {
  input = "the game runs on ${koophone_instance_command.start_game.successful_count} phones"
}

output "install" {
  value = {
    for id, r in koophone_instance_app_install.game.results : id => "${r.state} (status ${r.status})"
  }
}

output "start_game" {
  value = {
    for id, r in koophone_instance_command.start_game.results : id => "${r.state}: ${trimspace(r.execute_msg)}"
  }
}

output "inventory" {
  value = {
    for id, r in koophone_instance_command.inventory.results :
    id => r.state == "successful" ? "Android ${trimspace(r.execute_msg)}" : "${r.state}: ${r.error_code} ${r.error_msg}"
  }
}

output "next_step" {
  value = terraform_data.next_step.output
}

output "outside_task" {
  value = {
    state = data.koophone_instance_task.outside.state
    jobs = [
      for j in data.koophone_instance_task.outside.jobs :
      "${j.job_id}: ${j.state}: ${trimspace(j.execute_msg)}"
    ]
  }
}
