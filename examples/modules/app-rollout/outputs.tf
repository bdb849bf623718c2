output "phone_count" {
  description = "How many phones the rollout targets: the pool, less exclude_instance_ids."
  value       = length(local.phones)
}

output "install_task_ids" {
  description = "The install's tasks, one per wave, in submit order."
  value       = koophone_instance_app_install.app.task_ids
}

output "installed_count" {
  description = "How many phones installed the app."
  value       = terraform_data.gate.output.installed
}

output "command_task_ids" {
  description = "The command's tasks, one per wave, in submit order."
  value       = koophone_instance_command.after_install.task_ids
}

output "command_results" {
  description = "The command's outcome on each phone, keyed by instance id."
  value       = { for id, r in koophone_instance_command.after_install.results : id => r.state }
}
