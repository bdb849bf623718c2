# Wait until no job of the task is running, then gate the rest of the
# deployment on the outcome: if any job failed, the postcondition stops the
# apply and nothing that depends on the data source is changed.
variable "install_task_id" {
  type        = string
  description = "task_id returned by POST /v1/instances/app/install."
  default     = "ZGCA6837531fd3f54550927b930180"
}

data "koophone_instance_task" "install" {
  task_id             = var.install_task_id
  wait_for_completion = true
  poll_interval       = "15s"

  timeouts = {
    read = "30m"
  }

  lifecycle {
    postcondition {
      condition     = self.state == "successful"
      error_message = "App install ${self.id} ended ${self.state}: ${self.failed_count} of ${self.job_count} phones failed."
    }
  }
}

# The next step of the rollout runs only once every phone has the app.
resource "terraform_data" "rollout_next_wave" {
  input = {
    install_task = data.koophone_instance_task.install.id
    phones_ready = data.koophone_instance_task.install.successful_count
  }
}
