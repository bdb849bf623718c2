# Install a build on the test farm when asked:
#   terraform apply -invoke=action.koophone_instance_app_install.game
# Nothing is recorded in state; use the koophone_instance_app_install
# resource to keep each phone's result for later gates.
variable "package_url" {
  type      = string
  sensitive = true # a presigned OBS URL carries a signature
}

action "koophone_instance_app_install" "game" {
  config {
    instance_ids        = ["phone-001", "phone-002", "phone-003"]
    object_name         = "com.example.game"
    file_name           = "game-1.2.3.apk"
    object_version      = "1.2.3"
    object_size         = "120"
    install_package_url = var.package_url
    timeout             = "45m"
  }
}
