# A pool of 120 phones gets the app in waves of 100 and 20, then the command
# runs on every phone.

run "waves_are_planned_from_the_pool" {
  command = plan

  variables {
    pool_name = "game-test"
    wave_size = 50
  }

  assert {
    condition     = [for w in output.waves : length(w)] == [50, 50, 20]
    error_message = "Expected waves of 50, 50 and 20 phones."
  }
}

run "rolls_out_to_the_whole_pool" {
  variables {
    pool_name = "game-test"
  }

  assert {
    condition     = [for w in output.waves : length(w)] == [100, 20]
    error_message = "Expected waves of 100 and 20 phones."
  }

  assert {
    condition     = output.installed_count == 120
    error_message = "Expected the app on 120 phones, got ${output.installed_count}."
  }

  assert {
    condition     = length(output.command_results) == 120 && alltrue([for s in values(output.command_results) : s == "successful"])
    error_message = "The command did not succeed on every phone."
  }
}
