# List the phones of one pool, in the order the API returns them. Every
# page is read, so a pool of any size comes back whole.
data "koophone_instances" "game_test" {
  pool_name = "game-test"
}

output "game_test_phone_count" {
  value = data.koophone_instances.game_test.total_count
}

# The first three phones of the pool, say for a canary.
output "game_test_canary" {
  value = slice(data.koophone_instances.game_test.ids, 0, min(3, data.koophone_instances.game_test.total_count))
}

# The phones of the demo pool, sorted by name (whether the API sorts by a
# given field is not documented: check the order when it matters).
data "koophone_instances" "demo" {
  pool_name = "demo"
  order_by  = "instance_name"
  order     = "asc"
}

# Only the running ones: an adb command or an install reaches a running
# phone. running_state is running_status in words ("running", "stopped",
# "starting", ...; a number without a word is itself, such as "7").
output "demo_running" {
  value = [for phone in data.koophone_instances.demo.instances : phone.instance_id if phone.running_state == "running"]
}

# The phones of the demo pool that nobody is assigned to.
output "demo_unassigned" {
  value = [for phone in data.koophone_instances.demo.instances : phone.instance_id if phone.assign_state == "unassigned"]
}
