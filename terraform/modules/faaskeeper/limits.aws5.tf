# Limits that span variables, refused at plan time rather than by AWS
# half-way through an apply. Preconditions need Terraform 1.2, so the
# offline copy (Terraform 1.0.3) leaves this file out, as it leaves out
# what provider 3.39 cannot read (terraform/README.md, "Provider versions").

output "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the writer, distributor and watch queues (queue_visibility_timeout_seconds, or 6 × function_timeout)."
  value       = local.visibility_timeout_seconds

  precondition {
    # Lambda refuses an event source mapping from a queue whose visibility
    # timeout is shorter than the function's timeout; shorter would also
    # hand a message to a second invocation while the first still runs.
    condition     = local.visibility_timeout_seconds >= var.function_timeout
    error_message = "The queues' visibility timeout (queue_visibility_timeout_seconds) must be at least function_timeout."
  }
}
