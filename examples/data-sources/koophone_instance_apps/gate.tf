# The post-rollout gate: the install records the phones that failed without
# failing the apply (fail_on_job_failure = false); what the phones then
# have decides. A phone without the version is a warning (the check block),
# and the apply goes on; more than a tenth of the pool without it fails the
# apply (the postcondition), naming the phones, and what depends on the
# gate (the command below) does not run.
resource "koophone_instance_app_install" "game_1_2_3" {
  object_name         = "com.example.game"
  file_name           = "game-1.2.3.apk"
  object_version      = "1.2.3"
  object_size         = "120"
  install_package_url = "https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.2.3.apk"
  instance_ids        = data.koophone_instances.pool.ids
  fail_on_job_failure = false
}

data "koophone_instance_apps" "after_rollout" {
  instance_ids = koophone_instance_app_install.game_1_2_3.instance_ids
  package_name = "com.example.game"

  lifecycle {
    postcondition {
      condition     = length([for v in values(self.versions) : v if v != "1.2.3"]) <= floor(self.instance_count / 10)
      error_message = "com.example.game 1.2.3 is missing on more than a tenth of the pool: ${join(", ", [for id, v in self.versions : id if v != "1.2.3"])}."
    }
  }
}

# A warning on every plan and apply while a phone lacks the game.
check "game_on_every_phone" {
  assert {
    condition     = alltrue([for v in values(data.koophone_instance_apps.after_rollout.versions) : v == "1.2.3"])
    error_message = "com.example.game 1.2.3 is not on: ${join(", ", [for id, v in data.koophone_instance_apps.after_rollout.versions : id if v != "1.2.3"])}."
  }
}

resource "koophone_instance_command" "start_game" {
  command      = "am start -n com.example.game/.MainActivity"
  instance_ids = [for id, v in data.koophone_instance_apps.after_rollout.versions : id if v == "1.2.3"]
}
