terraform {
  required_providers {
    koophone = {
      source = "koophone/koophone"
    }
  }
}

# A project-scoped Huawei Cloud IAM token. Prefer the KOOPHONE_TOKEN
# environment variable, or a sensitive variable as here: never a literal.
variable "koophone_token" {
  type      = string
  sensitive = true
}

provider "koophone" {
  # The default endpoint; KOOPHONE_ENDPOINT is used when this is unset.
  endpoint = "https://koophone.myhuaweicloud.com"
  token    = var.koophone_token

  # Optional: limit for one HTTP attempt, and retries of transient failures.
  request_timeout = "30s"
  max_retries     = 4
}
