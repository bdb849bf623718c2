# Roll an app out to a whole pool with one resource, then start it on every
# phone that has it. The first phone (in sorted order) is a canary that runs
# alone; the others follow in waves of up to 100 phones (the most one
# KooPhone request reaches), each submitted once the one before has
# finished. Two phones may fail; a third failure stops the rollout before
# the next wave, and fails the apply.
#
# When the pool grows, the next apply installs on the new phones only, in
# waves of their own; a phone that leaves the pool is dropped from the
# results, and nothing is undone on it.
data "koophone_instances" "rollout_pool" {
  pool_name = "game-test"

  lifecycle {
    # instance_ids takes at least one phone: say so plainly.
    postcondition {
      condition     = self.total_count > 0
      error_message = "The pool game-test has no phones to roll out to."
    }
  }
}

resource "koophone_instance_app_install" "game" {
  object_name         = "com.example.game"
  file_name           = "game-1.2.3.apk"
  object_version      = "1.2.3"
  object_size         = "120"
  install_package_url = "https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.2.3.apk"
  instance_ids        = data.koophone_instances.rollout_pool.ids
  poll_interval       = "5s"

  canary_size       = 1
  wave_size         = 100
  max_failed_phones = 2

  timeouts = {
    create = "1h" # bounds the whole rollout, every wave
  }
}

# Runs once the install has finished within its budget, on the phones that
# have the app.
resource "koophone_instance_command" "start_game" {
  command       = "am start -n com.example.game/.MainActivity"
  instance_ids  = [for id, r in koophone_instance_app_install.game.results : id if r.state == "successful"]
  poll_interval = "5s"

  canary_size       = 1
  max_failed_phones = 2
}

# One task per wave: for a pool of 120 phones, waves of 1, 100 and 19.
output "install_waves" {
  value = length(koophone_instance_app_install.game.task_ids)
}

output "rollout" {
  value = "${koophone_instance_command.start_game.successful_count} of ${data.koophone_instances.rollout_pool.total_count} phones started the game"
}
