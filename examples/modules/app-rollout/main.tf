# app-rollout: install an app on every phone of a pool with one resource (a
# canary phone first, then waves of up to 100 phones, one after the other,
# stopped by a failure budget), stop unless the rollout stayed within its
# budget, then run a command on every phone that has the app (such as
# starting it), rolled out the same way.
#
# The pool can grow and shrink: a new phone gets the app and the command in
# an update, in its own waves; a phone that leaves is dropped from the
# results, and nothing is undone on it; the other phones are not touched.
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
  # The phones of the pool, less those held back. Their order does not
  # matter: the resources sort them, so the canary is always the same phone.
  phones = setsubtract(data.koophone_instances.pool.ids, var.exclude_instance_ids)
}

resource "koophone_instance_app_install" "app" {
  object_name         = var.app.object_name
  file_name           = var.app.file_name
  object_version      = var.app.object_version
  object_size         = var.app.object_size
  install_package_url = var.app.install_package_url
  instance_ids        = local.phones

  canary_size       = var.canary_size
  wave_size         = var.wave_size
  max_failed_phones = var.max_failed_phones
  poll_interval     = var.poll_interval

  # Failed phones do not fail the apply here: the gate below reports them
  # all at once, with the phones the rollout never reached.
  fail_on_job_failure = false
}

# The gate: nothing below runs unless the install stayed within its budget
# and reached every phone.
resource "terraform_data" "gate" {
  input = {
    installed     = koophone_instance_app_install.app.successful_count
    not_submitted = koophone_instance_app_install.app.not_submitted_count
    failed = [
      for id, r in koophone_instance_app_install.app.results :
      "${id} (${r.error_code}: ${r.error_msg})" if r.state == "failed" || r.state == "missing"
    ]
  }

  lifecycle {
    postcondition {
      condition     = self.output.installed > 0 && self.output.not_submitted == 0 && length(self.output.failed) <= var.max_failed_phones
      error_message = "The app rollout to ${var.pool_name} stopped: ${self.output.installed} phones have the app, ${length(self.output.failed)} failed (max_failed_phones = ${var.max_failed_phones}), ${self.output.not_submitted} were not submitted to. Failed: ${join(", ", self.output.failed)}."
    }
  }
}

# Runs on the phones that have the app, once the gate has passed.
resource "koophone_instance_command" "after_install" {
  command      = var.command
  instance_ids = [for id, r in koophone_instance_app_install.app.results : id if r.state == "successful"]

  canary_size       = var.canary_size
  wave_size         = var.wave_size
  max_failed_phones = var.max_failed_phones
  poll_interval     = var.poll_interval

  depends_on = [terraform_data.gate]
}
