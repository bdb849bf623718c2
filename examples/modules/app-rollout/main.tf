# app-rollout: install an app on every phone of a pool, in waves of at most
# 100 phones, stop unless every phone has it, then run a command on every
# phone (such as starting the app).
#
# It is the example module of the guide "Testing your modules offline": its
# tests (tests/*.tftest.hcl) run with `terraform test` against the KooPhone
# emulator, seeded from tests/emulator-seed.json.

terraform {
  required_version = ">= 1.6"

  required_providers {
    koophone = {
      source = "koophone/koophone"
    }
  }
}

data "koophone_instances" "pool" {
  pool_name = var.pool_name

  lifecycle {
    postcondition {
      condition     = self.total_count > 0
      error_message = "The pool ${var.pool_name} has no phones."
    }
  }
}

locals {
  # Wave 0 holds the pool's first phones in the API's order, and so on. A
  # phone added to the pool joins the last wave, which then installs again.
  waves = chunklist(data.koophone_instances.pool.ids, var.wave_size)
}

resource "koophone_instance_app_install" "wave" {
  count = length(local.waves)

  object_name         = var.app.object_name
  file_name           = var.app.file_name
  object_version      = var.app.object_version
  object_size         = var.app.object_size
  install_package_url = var.app.install_package_url
  instance_ids        = local.waves[count.index]
  poll_interval       = var.poll_interval

  # A failed phone does not fail its wave: the gate below reports every
  # failed phone of every wave at once.
  fail_on_job_failure = false
}

# The gate: nothing below runs unless every phone of the pool has the app.
resource "terraform_data" "gate" {
  input = {
    installed = sum([for w in koophone_instance_app_install.wave : w.successful_count])
    failed = flatten([
      for w in koophone_instance_app_install.wave : [
        for id, r in w.results : "${id} (${r.error_code}: ${r.error_msg})" if r.state != "successful"
      ]
    ])
  }

  lifecycle {
    postcondition {
      condition     = length(self.output.failed) == 0
      error_message = "The app is not on every phone of ${var.pool_name}; failed: ${join(", ", self.output.failed)}."
    }
  }
}

resource "koophone_instance_command" "after_install" {
  count = length(local.waves)

  command       = var.command
  instance_ids  = local.waves[count.index]
  poll_interval = var.poll_interval

  depends_on = [terraform_data.gate]
}
