# Gate on a fleet rollout that something else submits (a pipeline script,
# say). One request reaches at most 100 phones, so wave 1 of such a rollout
# to 300 phones is three tasks. One data source waits for all of them at
# once, polling them concurrently (one koophone_instance_task per task would
# be read at most 10 at a time, as Terraform's -parallelism allows), and the
# postcondition stops the apply if any phone failed, so wave 2 never starts
# on a broken build.
#
# To submit from Terraform instead, one koophone_instance_command or
# koophone_instance_app_install takes the whole fleet and runs the waves
# itself (canary_size, wave_size, max_failed_phones); its task_ids list
# every task it created.

variable "wave1_task_ids" {
  type        = set(string)
  description = "The task_id of each async-command request of wave 1, as the script that submitted them reports them (one per 100 phones)."
  default = [
    "a1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
    "b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
    "c1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
  ]
}

data "koophone_instance_tasks" "wave1" {
  task_ids            = var.wave1_task_ids
  wait_for_completion = true
  poll_interval       = "15s"

  # The default: each task lists only its jobs that did not succeed, which
  # keeps a read of hundreds of tasks light. "all" lists every job.
  include_jobs = "failed"

  timeouts = {
    read = "45m"
  }

  lifecycle {
    postcondition {
      condition     = self.state == "successful"
      error_message = "Wave 1 ended ${self.state}: ${self.failed_count} of ${self.job_count} phones failed, in task(s) ${join(", ", [for t in self.tasks : t.task_id if t.state == "failed"])}."
    }
  }
}

# Wave 2 starts only once every phone of wave 1 has succeeded.
resource "terraform_data" "wave2" {
  input = {
    wave1_tasks  = data.koophone_instance_tasks.wave1.task_count
    phones_ready = data.koophone_instance_tasks.wave1.successful_count
  }
}

# Every phone that failed, across the tasks of the wave (empty when the
# gate passes): the jobs lists hold the failed jobs only.
output "wave1_failed_phones" {
  value = flatten([
    for t in data.koophone_instance_tasks.wave1.tasks : [
      for j in t.jobs : "${t.task_id}/${j.job_id}: ${j.error_code} ${j.error_msg}"
    ]
  ])
}
