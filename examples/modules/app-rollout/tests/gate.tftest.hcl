# A phone of the pool fails the install (a rule in the seed makes
# phone-broken-003 end with status 3). With the default budget of 0 failed
# phones, the rollout stops at the first failure, and the gate stops the
# deployment before the command runs anywhere.

run "a_failed_phone_stops_the_rollout" {
  variables {
    pool_name = "broken"
    wave_size = 1
  }

  # Waves of one phone each: phone-broken-001 (the canary), 002, then 003,
  # which fails; 004 is never submitted to. The gate reports both.
  expect_failures = [terraform_data.gate]
}

# A stopped rollout does not resume by itself: raising the budget alone sends
# nothing (phone-broken-004 stays not submitted). Replacing the install runs
# it again on every phone, and one failed phone is now within the budget.
run "a_budget_lets_one_phone_fail" {
  variables {
    pool_name         = "broken"
    wave_size         = 1
    max_failed_phones = 1
  }

  plan_options {
    replace = [koophone_instance_app_install.app]
  }

  assert {
    condition     = output.installed_count == 3
    error_message = "Expected the app on 3 of the 4 broken phones, got ${output.installed_count}."
  }

  assert {
    condition     = output.command_results == { "phone-broken-001" = "successful", "phone-broken-002" = "successful", "phone-broken-004" = "successful" }
    error_message = "The command should run on the 3 phones that have the app: ${jsonencode(output.command_results)}."
  }
}

run "wave_size_is_checked_at_plan_time" {
  command = plan

  variables {
    pool_name = "broken"
    wave_size = 101
  }

  expect_failures = [var.wave_size]
}
