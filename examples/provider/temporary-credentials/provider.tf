# Temporary credentials: an access key, its secret key and the security
# token issued with them (for example by IAM's
# POST /v3.0/OS-CREDENTIAL/securitytokens). The security token is sent, and
# signed, as X-Security-Token. HW_SECURITY_TOKEN or KOOPHONE_SECURITY_TOKEN
# work too, with the access key variables of the same family.
variable "temporary_credentials" {
  type = object({
    access        = string
    secret        = string
    securitytoken = string
  })
  sensitive = true
}

provider "koophone" {
  access_key     = var.temporary_credentials.access
  secret_key     = var.temporary_credentials.secret
  security_token = var.temporary_credentials.securitytoken
}
