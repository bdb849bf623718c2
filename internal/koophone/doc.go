// Package koophone is a client for the Huawei Cloud KooPhone REST API.
//
// It knows the API's wire format (the {"error_code","error_msg","data"}
// envelope, business errors returned under HTTP 200, the gateway's APIGW
// errors), authenticates every request, retries transient failures with
// backoff, and returns typed errors that callers inspect with errors.Is and
// errors.As. It has no Terraform imports: the provider turns its errors into
// diagnostics, and other programs could use it as it is.
package koophone
