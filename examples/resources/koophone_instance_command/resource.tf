# Run an adb shell command on three phones, wait until every phone has
# finished, and fail the apply (listing each failed phone) if any failed.
resource "koophone_instance_command" "clear_cache" {
  command      = "pm clear com.example.game"
  instance_ids = ["phone-001", "phone-002", "phone-003"]
}

# Each phone's outcome, keyed by instance id.
output "clear_cache_results" {
  value = {
    for id, r in koophone_instance_command.clear_cache.results :
    id => "${r.state}: ${trimspace(r.execute_msg)}"
  }
}
