# pool-app: install an app on every phone of a pool, then start it there.
# A phone that fails does not fail the apply: the module reports it in the
# output failed_phones, and its check block warns about it. The module of
# the guide "Testing your modules offline", which shows it whole.

terraform {
  required_version = ">= 1.6"

  required_providers {
    koophone = {
      source  = "koophone/koophone"
      version = "~> 0.1"
    }
  }
}

variable "pool_name" {
  type        = string
  description = "The pool whose phones get the app."
}

variable "apk_url" {
  type        = string
  description = "Where the phones download the APK of com.example.game 1.2.3 from."
}

variable "poll_interval" {
  type        = string
  description = "The longest pause between two polls of a task."
  default     = "10s"
}

data "koophone_instances" "pool" {
  pool_name = var.pool_name
}

resource "koophone_instance_app_install" "game" {
  object_name         = "com.example.game"
  file_name           = "game-1.2.3.apk"
  object_version      = "1.2.3"
  object_size         = "120" # MB
  install_package_url = var.apk_url
  instance_ids        = data.koophone_instances.pool.ids
  poll_interval       = var.poll_interval
  fail_on_job_failure = false # failed phones are in results, not an error
}

resource "koophone_instance_command" "start" {
  command             = "am start -n com.example.game/.MainActivity"
  instance_ids        = [for id, r in koophone_instance_app_install.game.results : id if r.state == "successful"]
  poll_interval       = var.poll_interval
  fail_on_job_failure = false
}

locals {
  failed_phones = merge(
    { for id, r in koophone_instance_app_install.game.results : id => "install: ${r.error_code}" if r.state != "successful" },
    { for id, r in koophone_instance_command.start.results : id => "start: ${r.error_code}" if r.state != "successful" },
  )
}

output "failed_phones" {
  description = "The phones that failed, with the step and its error code."
  value       = local.failed_phones
}

output "started_count" {
  description = "How many phones run the app."
  value       = koophone_instance_command.start.successful_count
}

check "every_phone_runs_the_game" {
  assert {
    condition     = length(local.failed_phones) == 0
    error_message = "Phones without the game: ${jsonencode(local.failed_phones)}."
  }
}
