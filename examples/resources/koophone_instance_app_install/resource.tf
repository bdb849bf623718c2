# Install an APK from OBS on two phones and wait until every phone has
# installed it; a failed phone fails the apply.
resource "koophone_instance_app_install" "game" {
  object_name         = "com.example.game"
  file_name           = "game-1.2.3.apk"
  object_version      = "1.2.3"
  object_size         = "120" # MB
  install_package_url = "https://my-bucket.obs.cn-south-1.myhuaweicloud.com/apps/game-1.2.3.apk"
  content_md5         = "9e107d9d372bb6826bd81d3542a419d6"
  instance_ids        = ["phone-001", "phone-002"]
}

# Runs only after the install succeeded on every phone.
resource "koophone_instance_command" "start_game" {
  command      = "am start -n com.example.game/.MainActivity"
  instance_ids = koophone_instance_app_install.game.instance_ids
}
