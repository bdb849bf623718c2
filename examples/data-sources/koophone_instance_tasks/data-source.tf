# Read several tasks at once, as they are now: one element of tasks per
# task, in sorted id order, and totals over all of them.
data "koophone_instance_tasks" "example" {
  task_ids = [
    "6837531fd3f54550927b930180a706bf",
    "ZGCA6837531fd3f54550927b930180",
  ]
}

output "tasks_state" {
  value = data.koophone_instance_tasks.example.state
}

output "phones_finished" {
  value = "${data.koophone_instance_tasks.example.successful_count + data.koophone_instance_tasks.example.failed_count} of ${data.koophone_instance_tasks.example.job_count}"
}

output "task_states" {
  value = { for t in data.koophone_instance_tasks.example.tasks : t.task_id => t.state }
}
