# The provider survives the faults the seed programs: the first phone listing
# answers HTTP 503 and the first app install (the canary's) is throttled
# (HTTP 429, Retry-After: 1). Both are retried, and the rollout succeeds.
# Test files run in name order, so this one meets the faults; any file that
# met them would pass the same way.

run "survives_a_flaky_listing_and_throttling" {
  variables {
    pool_name = "canary"
  }

  assert {
    condition     = output.installed_count == 3
    error_message = "Expected the app on the 3 canary phones, got ${output.installed_count}."
  }

  # The throttled submit was sent again, and made one task: the canary's
  # wave of 1 phone, then a wave of the other 2.
  assert {
    condition     = length(output.install_task_ids) == 2
    error_message = "Expected 2 install waves (canary and the rest), got ${length(output.install_task_ids)}."
  }

  assert {
    condition     = output.command_results == { "phone-canary-001" = "successful", "phone-canary-002" = "successful", "phone-canary-003" = "successful" }
    error_message = "The command did not succeed on every canary phone: ${jsonencode(output.command_results)}."
  }
}
