output "waves" {
  description = "The phones of each wave."
  value       = local.waves
}

output "installed_count" {
  description = "How many phones installed the app."
  value       = terraform_data.gate.output.installed
}

output "command_results" {
  description = "The command's outcome on each phone, keyed by instance id."
  value = merge([
    for c in koophone_instance_command.after_install : { for id, r in c.results : id => r.state }
  ]...)
}
