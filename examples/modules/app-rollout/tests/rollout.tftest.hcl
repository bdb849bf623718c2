# A pool of 120 phones gets the app with one resource: a canary phone, then
# waves of up to 100 phones, one after the other; then the command runs on
# every phone the same way. The pool grows and shrinks: only the new phone
# gets the app and the command, and a phone that leaves is left alone.

run "the_pool_is_read_at_plan_time" {
  command = plan

  variables {
    pool_name            = "game-test"
    exclude_instance_ids = ["phone-game-test-120"]
  }

  assert {
    condition     = output.phone_count == 119
    error_message = "Expected 119 phones (120, less one held back), got ${output.phone_count}."
  }
}

run "rolls_out_to_the_pool_in_waves" {
  variables {
    pool_name            = "game-test"
    exclude_instance_ids = ["phone-game-test-120"]
  }

  # 119 phones: the canary (1), then 100, then 18.
  assert {
    condition     = length(output.install_task_ids) == 3 && length(output.command_task_ids) == 3
    error_message = "Expected 3 waves of the install and of the command, got ${length(output.install_task_ids)} and ${length(output.command_task_ids)}."
  }

  assert {
    condition     = output.installed_count == 119
    error_message = "Expected the app on 119 phones, got ${output.installed_count}."
  }

  assert {
    condition     = length(output.command_results) == 119 && alltrue([for s in values(output.command_results) : s == "successful"])
    error_message = "The command did not succeed on every phone."
  }
}

# The phone held back joins: an update submits to it alone (a wave of its
# own, appended to the tasks). Had the resources been replaced, they would
# have run again on all 120 phones in 3 new waves.
run "a_new_phone_gets_only_its_own_wave" {
  variables {
    pool_name = "game-test"
  }

  assert {
    condition     = length(output.install_task_ids) == 4 && length(output.command_task_ids) == 4
    error_message = "Expected one more wave of the install and of the command, got ${length(output.install_task_ids)} and ${length(output.command_task_ids)} tasks."
  }

  assert {
    condition     = output.installed_count == 120
    error_message = "Expected the app on 120 phones, got ${output.installed_count}."
  }

  assert {
    condition     = length(output.command_results) == 120 && output.command_results["phone-game-test-120"] == "successful"
    error_message = "The command did not run on the new phone."
  }
}

# A phone leaves: nothing is submitted, and it leaves the results.
run "a_removed_phone_is_left_alone" {
  variables {
    pool_name            = "game-test"
    exclude_instance_ids = ["phone-game-test-050"]
  }

  assert {
    condition     = length(output.install_task_ids) == 4 && length(output.command_task_ids) == 4
    error_message = "A phone leaving the pool submitted something: ${length(output.install_task_ids)} and ${length(output.command_task_ids)} tasks."
  }

  assert {
    condition     = length(output.command_results) == 119 && !contains(keys(output.command_results), "phone-game-test-050")
    error_message = "Expected 119 phones in the results, without phone-game-test-050."
  }
}
