# Runs against the KooPhone emulator, seeded from emulator-seed.json.

variables {
  apk_url       = "https://apps.example.com/game-1.2.3.apk"
  poll_interval = "1s"
}

# 120 phones, in two waves of the install and two of the command.
run "starts_the_game_on_every_phone" {
  variables {
    pool_name = "game"
  }

  assert {
    condition     = output.started_count == 120
    error_message = "The game runs on ${output.started_count} phones, not 120: ${jsonencode(output.failed_phones)}."
  }
}

# phone-flaky-2 fails the install and phone-flaky-3 the start, by the
# seed's rules. The module reports them; its check block fails, as expected.
run "reports_each_phone_that_fails" {
  variables {
    pool_name = "flaky"
  }

  assert {
    condition = output.failed_phones == {
      "phone-flaky-2" = "install: INSTALL_FAILED_INSUFFICIENT_STORAGE"
      "phone-flaky-3" = "start: ACTIVITY_NOT_FOUND"
    }
    error_message = "Unexpected failures: ${jsonencode(output.failed_phones)}."
  }

  expect_failures = [check.every_phone_runs_the_game]
}
