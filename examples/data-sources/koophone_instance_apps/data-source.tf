# The apps installed on every phone of a pool, and the version of one
# package on each.
data "koophone_instances" "pool" {
  pool_name = "game-test"
}

data "koophone_instance_apps" "pool" {
  instance_ids = data.koophone_instances.pool.ids
  app_type     = "third_party" # "all" (default), "system" or "third_party"
  package_name = "com.example.game"
}

output "game_versions" {
  # instance id => version, null where the game is not installed
  value = data.koophone_instance_apps.pool.versions
}

output "phones_without_the_game" {
  value = data.koophone_instance_apps.pool.missing_instance_ids
}

output "third_party_apps" {
  value = { for id, apps in data.koophone_instance_apps.pool.apps : id => [for a in apps : "${a.app_pkg} ${a.app_version}"] }
}
