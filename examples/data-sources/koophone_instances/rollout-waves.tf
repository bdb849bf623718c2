# Roll an app out to a whole pool, in waves of at most 100 phones (the most
# one KooPhone request reaches), then start it on every phone once every
# wave has installed it.
data "koophone_instances" "rollout_pool" {
  pool_name = "game-test"
}

locals {
  # Wave 0 holds the first 100 phones in the API's order, wave 1 the next
  # 100, and so on. A phone added to the pool joins the last wave, which then
  # installs again on its phones (a new instance_ids replaces the resource).
  waves = chunklist(data.koophone_instances.rollout_pool.ids, 100)
}

resource "koophone_instance_app_install" "wave" {
  count = length(local.waves)

  object_name         = "com.example.game"
  file_name           = "game-1.2.3.apk"
  object_version      = "1.2.3"
  object_size         = "120"
  install_package_url = "https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.2.3.apk"
  instance_ids        = local.waves[count.index]
  poll_interval       = "5s"
}

# The gate: every phone of the pool has the app. A failed phone has already
# failed its wave's apply (fail_on_job_failure defaults to true); this also
# stops the rollout if the pool changed in a way the waves do not cover.
resource "terraform_data" "all_waves_installed" {
  input = sum([for w in koophone_instance_app_install.wave : w.successful_count])

  lifecycle {
    postcondition {
      condition     = self.output == data.koophone_instances.rollout_pool.total_count
      error_message = "Only ${self.output} of ${data.koophone_instances.rollout_pool.total_count} phones have the app."
    }
  }
}

# Runs on no phone until the gate has passed, then on every wave.
resource "koophone_instance_command" "start_game" {
  count = length(local.waves)

  command       = "am start -n com.example.game/.MainActivity"
  instance_ids  = local.waves[count.index]
  poll_interval = "5s"

  depends_on = [terraform_data.all_waves_installed]
}

output "rollout" {
  value = [
    for cmd in koophone_instance_command.start_game :
    "${cmd.successful_count} of ${cmd.job_count} phones started the game"
  ]
}
