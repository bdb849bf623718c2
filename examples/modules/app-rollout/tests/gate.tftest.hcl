# A phone of the pool fails the install (a rule in the seed makes
# phone-broken-003 end with status 3): the gate stops the rollout before the
# command runs anywhere.

run "a_failed_phone_stops_the_rollout" {
  variables {
    pool_name = "broken"
  }

  expect_failures = [terraform_data.gate]
}

run "wave_size_is_checked_at_plan_time" {
  command = plan

  variables {
    pool_name = "broken"
    wave_size = 101
  }

  expect_failures = [var.wave_size]
}
