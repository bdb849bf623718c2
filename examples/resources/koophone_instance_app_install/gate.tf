# A gate of your own: let the install finish with failed phones recorded,
# and stop the deployment only if fewer than 90% of the phones got the app.
resource "koophone_instance_app_install" "canary" {
  object_name         = "com.example.game"
  file_name           = "game-1.3.0.apk"
  object_version      = "1.3.0"
  object_size         = "121"
  install_package_url = "https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.3.0.apk"
  fast_install        = true
  instance_ids        = ["phone-010", "phone-011", "phone-012", "phone-013"]
  fail_on_job_failure = false

  lifecycle {
    postcondition {
      condition     = self.successful_count >= 0.9 * self.job_count
      error_message = "Only ${self.successful_count} of ${self.job_count} phones installed the app (task ${self.task_id})."
    }
  }
}
