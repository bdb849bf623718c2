variable "pool_name" {
  type        = string
  description = "The pool whose phones get the app."
}

variable "app" {
  type = object({
    object_name         = string
    file_name           = string
    object_version      = string
    object_size         = string
    install_package_url = string
  })
  description = "The APK to install, as koophone_instance_app_install takes it."
}

variable "command" {
  type        = string
  description = "The adb shell command to run on every phone once every phone has the app."
}

variable "wave_size" {
  type        = number
  description = "Phones per wave: 1 to 100 (the most one KooPhone request reaches)."
  default     = 100

  validation {
    condition     = var.wave_size >= 1 && var.wave_size <= 100 && floor(var.wave_size) == var.wave_size
    error_message = "wave_size must be a whole number from 1 to 100."
  }
}

variable "poll_interval" {
  type        = string
  description = "The longest pause between two polls of a task."
  default     = "10s"
}
