# The values the tests in tests/ share: `terraform test` (and `tofu test`)
# reads this file from the module's directory, as a plan there would. A
# configuration that calls the module passes its own values instead.
app = {
  object_name         = "com.example.game"
  file_name           = "game-1.2.3.apk"
  object_version      = "1.2.3"
  object_size         = "120"
  install_package_url = "https://apps.obs.cn-south-1.myhuaweicloud.com/game-1.2.3.apk"
}
command       = "am start -n com.example.game/.MainActivity"
poll_interval = "1s"
