# Clear the game's cache on every phone of a pool each time a new release is
# recorded: the action runs after terraform_data.release is created or
# updated, and keeps nothing in state. Needs Terraform 1.14 or later.
variable "release" {
  type    = string
  default = "1.2.3"
}

data "koophone_instances" "pool" {
  pool_name = "game-test"
}

action "koophone_instance_command" "clear_cache" {
  config {
    command           = "pm clear com.example.game"
    instance_ids      = data.koophone_instances.pool.ids
    canary_size       = 5
    max_failed_phones = 3
  }
}

resource "terraform_data" "release" {
  input = var.release

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.koophone_instance_command.clear_cache]
    }
  }
}
