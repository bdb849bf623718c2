# Make a failed job an error of the read itself. The error lists every
# failed job with its error_code, error_msg and execute_msg.
data "koophone_instance_task" "strict" {
  task_id             = "6837531fd3f54550927b930180a706bf"
  wait_for_completion = true
  fail_on_job_failure = true
}
