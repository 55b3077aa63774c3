output "client_config" {
  description = "What clients read (crates/aws/src/deployment.rs `Deployment`), as JSON: `terraform output -raw client_config > deployment.json`."
  value       = jsonencode(local.client_config)
}

output "function_environments" {
  description = "Each function's environment (writer, distributor, watch, heartbeat) plus AWS_REGION, which Lambda sets itself: what crates/local's runner gives the binaries."
  value       = { for f, env in local.environments : f => merge(env, { AWS_REGION = local.region }) }
}

output "system_table_name" {
  description = "Name of the system table."
  value       = module.system_storage.system_table_name
}

output "sessions_table_name" {
  description = "Name of the sessions table."
  value       = module.system_storage.sessions_table_name
}

output "writer_queue_url" {
  description = "URL of the writer FIFO queue."
  value       = module.queues.writer_queue_url
}

output "distributor_queue_url" {
  description = "URL of the distributor FIFO queue."
  value       = module.queues.distributor_queue_url
}

output "writer_dlq_url" {
  description = "URL of the writer's dead-letter queue."
  value       = module.queues.writer_dlq_url
}

output "distributor_dlq_url" {
  description = "URL of the distributor's dead-letter queue."
  value       = module.queues.distributor_dlq_url
}

output "watch_queue_url" {
  description = "URL of the watch FIFO queue."
  value       = module.queues.watch_queue_url
}

output "watch_dlq_url" {
  description = "URL of the watch function's dead-letter queue."
  value       = module.queues.watch_dlq_url
}

output "heartbeat_failure_queue_url" {
  description = "URL of the queue where Lambda records heartbeat runs that failed for good (null without the heartbeat)."
  value       = module.queues.heartbeat_failure_queue_url
}

output "lambda_function_arns" {
  description = "ARNs of the functions, by role."
  value = merge(
    {
      writer      = module.writer.lambda_function_arn
      distributor = module.distributor.lambda_function_arn
      watch       = module.watch.lambda_function_arn
    },
    var.heartbeat_enabled ? { heartbeat = module.heartbeat[0].lambda_function_arn } : {},
  )
}

output "client_policy_json" {
  description = "IAM policy a client application attaches to its role or user."
  value       = module.iam.client_policy_json
}

output "function_policies_json" {
  description = "The functions' inline policies, by function (for review)."
  value = {
    writer      = module.iam.writer_policy_json
    distributor = module.iam.distributor_policy_json
    heartbeat   = module.iam.heartbeat_policy_json
    watch       = module.iam.watch_policy_json
  }
}

output "iam_actions" {
  description = "The IAM actions each function and the client policy allow, by principal."
  value       = module.iam.actions
}

output "cloudwatch_dashboard_name" {
  description = "Name of the CloudWatch dashboard (durations, errors, queue age and depth, DLQ depth, DynamoDB throttles); null when dashboard_enabled is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}
