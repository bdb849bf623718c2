# Reboot every phone of a pool, of any size, with one resource. The first
# phone (in sorted order) is a canary that runs alone; the others follow in
# waves of up to 100 phones, each submitted once the one before has
# finished. Two phones may fail; a third failure stops the rollout (no
# further wave is submitted: those phones are recorded as not_submitted)
# and fails the apply.
#
# When phones join the pool, the next apply reboots them alone, in waves of
# their own; a phone that leaves the pool is dropped from results, and
# nothing is undone on it; the other phones are not rebooted again.
data "koophone_instances" "fleet" {
  pool_name = "game-prod"
}

resource "koophone_instance_command" "reboot" {
  command      = "reboot"
  instance_ids = data.koophone_instances.fleet.ids

  canary_size       = 1
  wave_size         = 100
  max_failed_phones = 2

  timeouts = {
    create = "2h" # the whole rollout: every wave's submit and wait
    update = "1h" # the waves of the phones an update adds
  }
}

# The phones that did not end well, and why: failed, missing from their
# wave's answer, or never submitted to.
output "reboot_problems" {
  value = {
    for id, r in koophone_instance_command.reboot.results :
    id => trimspace("${r.state} ${r.error_code} ${r.error_msg}") if r.state != "successful"
  }
}

output "reboot_tasks" {
  value = koophone_instance_command.reboot.task_ids # one per wave, in submit order
}
