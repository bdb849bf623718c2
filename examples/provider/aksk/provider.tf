# Sign every request with a Huawei Cloud access key (AK/SK) instead of a
# token: an access key does not expire after 24 hours.
#
# With HW_ACCESS_KEY and HW_SECRET_KEY exported (as for the huaweicloud
# provider), or KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY, the provider
# block needs no credential at all.
variable "access_key" {
  type      = string
  sensitive = true
}

variable "secret_key" {
  type      = string
  sensitive = true
}

provider "koophone" {
  access_key = var.access_key
  secret_key = var.secret_key

  # Optional: sent (and signed) as X-Project-Id.
  # project_id = "0123456789abcdef0123456789abcdef"
}
