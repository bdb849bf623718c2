# A check block reports a failed task as a warning on every plan and apply,
# without blocking anything: useful for monitoring a task that other teams
# own.
check "nightly_adb_command" {
  data "koophone_instance_task" "nightly" {
    task_id = "6837531fd3f54550927b930180a706bf"
  }

  assert {
    condition     = data.koophone_instance_task.nightly.failed_count == 0
    error_message = "${data.koophone_instance_task.nightly.failed_count} phone(s) failed the nightly adb command."
  }
}
