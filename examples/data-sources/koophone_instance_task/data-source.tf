# Read a task once, as it is now: the task_id comes from the answer to an
# async-command or app-install request.
data "koophone_instance_task" "example" {
  task_id = "6837531fd3f54550927b930180a706bf"
}

output "task_state" {
  value = data.koophone_instance_task.example.state
}

output "failed_jobs" {
  value = [
    for job in data.koophone_instance_task.example.jobs : "${job.job_id}: ${job.error_code} ${job.error_msg}"
    if job.state == "failed"
  ]
}
