# Reboot every phone of a pool, ten waves at a time, and wait until each one
# reports running again:
#   terraform apply -invoke=action.koophone_instance_reboot.pool
# The API refuses a wave in which a phone is not running (KOOPHONE.API.5005).
data "koophone_instances" "pool" {
  pool_name = "game-test"
}

action "koophone_instance_reboot" "pool" {
  config {
    instance_ids   = data.koophone_instances.pool.ids
    parallel_waves = 10
    timeout        = "30m"
  }
}
