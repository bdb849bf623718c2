# DESTRUCTIVE: a reset re-initialises the phones, and their data is most
# likely wiped. Reset the lab pool by hand only:
#   terraform apply -invoke=action.koophone_instance_reset.lab
# A canary of 2 phones goes first, and any failure stops the next waves.
data "koophone_instances" "lab" {
  pool_name = "lab"
}

action "koophone_instance_reset" "lab" {
  config {
    instance_ids = data.koophone_instances.lab.ids
    canary_size  = 2
    timeout      = "1h"
  }
}
