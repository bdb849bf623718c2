variable "pool_name" {
  type        = string
  description = "The pool whose phones get the app."
}

variable "exclude_instance_ids" {
  type        = set(string)
  description = "Phones of the pool to leave out, such as phones under repair. Removing one from this set later rolls out to it alone."
  default     = []
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
  description = "The adb shell command to run on every phone that has the app."
}

variable "canary_size" {
  type        = number
  description = "Phones of the first wave, which runs alone before any other: 0 (no canary) to 100."
  default     = 1

  validation {
    condition     = var.canary_size >= 0 && var.canary_size <= 100 && floor(var.canary_size) == var.canary_size
    error_message = "canary_size must be a whole number from 0 to 100."
  }
}

variable "wave_size" {
  type        = number
  description = "Phones per wave after the canary: 1 to 100 (the most one KooPhone request reaches)."
  default     = 100

  validation {
    condition     = var.wave_size >= 1 && var.wave_size <= 100 && floor(var.wave_size) == var.wave_size
    error_message = "wave_size must be a whole number from 1 to 100."
  }
}

variable "max_failed_phones" {
  type        = number
  description = "The failure budget of each rollout: once more phones than this have failed, no further wave is submitted and the gate stops the deployment. 0 stops at the first failure."
  default     = 0

  validation {
    condition     = var.max_failed_phones >= 0 && floor(var.max_failed_phones) == var.max_failed_phones
    error_message = "max_failed_phones must be a whole number, 0 or more."
  }
}

variable "poll_interval" {
  type        = string
  description = "The longest pause between two polls of a task."
  default     = "10s"
}
