output "lambda_function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "lambda_function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_environment" {
  description = "Environment variables of the function."
  value       = var.environment
}

output "iam_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "iam_role_name" {
  description = "Name of the function's execution role."
  value       = aws_iam_role.this.name
}

output "cloudwatch_log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "cloudwatch_log_group_arn" {
  description = "ARN of the function's log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "lambda_event_source_mapping_uuid" {
  description = "Id of the SQS event source mapping, or null."
  value       = try(aws_lambda_event_source_mapping.this[0].uuid, null)
}

output "cloudwatch_metric_alarm_arn" {
  description = "ARN of the errors alarm, or null."
  value       = try(aws_cloudwatch_metric_alarm.errors[0].arn, null)
}

output "lean_fallbacks_metric_name" {
  description = "Name of the function's LeanFallbacks metric in metrics_namespace (calls the AWS SDK made again after the lean transport got no answer), or null when metrics_enabled is false."
  value       = try(aws_cloudwatch_log_metric_filter.lean_fallbacks[0].metric_transformation[0].name, null)
}
