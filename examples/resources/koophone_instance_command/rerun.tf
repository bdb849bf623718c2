variable "game_build" {
  type        = string
  description = "The build being rolled out; a new build runs the warm-up again."
  default     = "2026.11.29-1"
}

# Runs again whenever the build changes (triggers replace the resource), and
# records failures instead of failing the apply: a check block reports them.
resource "koophone_instance_command" "warm_up" {
  command             = "am start -n com.example.game/.MainActivity"
  instance_ids        = ["phone-001", "phone-002"]
  fail_on_job_failure = false
  poll_interval       = "5s"

  triggers = {
    build = var.game_build
  }

  timeouts = {
    create = "30m"
  }
}

check "warm_up" {
  assert {
    condition = koophone_instance_command.warm_up.failed_count == 0
    error_message = join("\n", [
      for id, r in koophone_instance_command.warm_up.results :
      "${id}: ${r.state} ${r.error_code} ${r.error_msg}" if r.state != "successful"
    ])
  }
}
