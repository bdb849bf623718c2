# Install on a whole pool, and let up to 10% of its phones fail: a canary
# phone first, then waves of up to 100 phones. Once more than 10% have
# failed, no further wave is submitted and the apply fails; within that
# budget the apply succeeds, and results say which phones failed.
data "koophone_instances" "game_test" {
  pool_name = "game-test"
}

resource "koophone_instance_app_install" "game_1_3" {
  object_name         = "com.example.game"
  file_name           = "game-1.3.0.apk"
  object_version      = "1.3.0"
  object_size         = "121"
  install_package_url = "https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.3.0.apk"
  fast_install        = true
  instance_ids        = data.koophone_instances.game_test.ids

  canary_size       = 1
  max_failed_phones = floor(data.koophone_instances.game_test.total_count / 10)
}

output "game_1_3_failed_phones" {
  value = {
    for id, r in koophone_instance_app_install.game_1_3.results :
    id => "${r.state}: ${r.error_code} ${r.error_msg}" if r.state != "successful"
  }
}
