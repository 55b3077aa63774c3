output "writer_queue_url" {
  description = "URL of the writer FIFO queue (clients send writes to it)."
  value       = aws_sqs_queue.this["writer"].id
}

output "writer_queue_arn" {
  description = "ARN of the writer FIFO queue."
  value       = aws_sqs_queue.this["writer"].arn
}

output "writer_dlq_url" {
  description = "URL of the writer's dead-letter queue (the writer's FK_DEAD_LETTER_QUEUE_URL)."
  value       = aws_sqs_queue.dlq["writer"].id
}

output "writer_dlq_arn" {
  description = "ARN of the writer's dead-letter queue."
  value       = aws_sqs_queue.dlq["writer"].arn
}

output "distributor_queue_url" {
  description = "URL of the distributor FIFO queue (FK_DISTRIBUTOR_QUEUE_URL)."
  value       = aws_sqs_queue.this["distributor"].id
}

output "distributor_queue_arn" {
  description = "ARN of the distributor FIFO queue."
  value       = aws_sqs_queue.this["distributor"].arn
}

output "distributor_dlq_url" {
  description = "URL of the distributor's dead-letter queue (the distributor's FK_DEAD_LETTER_QUEUE_URL)."
  value       = aws_sqs_queue.dlq["distributor"].id
}

output "distributor_dlq_arn" {
  description = "ARN of the distributor's dead-letter queue."
  value       = aws_sqs_queue.dlq["distributor"].arn
}

output "watch_queue_url" {
  description = "URL of the watch FIFO queue (the distributor's FK_WATCH_QUEUE_URL)."
  value       = aws_sqs_queue.this["watch"].id
}

output "watch_queue_arn" {
  description = "ARN of the watch FIFO queue."
  value       = aws_sqs_queue.this["watch"].arn
}

output "watch_dlq_url" {
  description = "URL of the watch function's dead-letter queue (its FK_DEAD_LETTER_QUEUE_URL)."
  value       = aws_sqs_queue.dlq["watch"].id
}

output "watch_dlq_arn" {
  description = "ARN of the watch function's dead-letter queue."
  value       = aws_sqs_queue.dlq["watch"].arn
}

output "heartbeat_failure_queue_url" {
  description = "URL of the heartbeat's failure queue, or null (heartbeat_failure_queue_enabled false)."
  value       = try(aws_sqs_queue.heartbeat_failures[0].id, null)
}

output "heartbeat_failure_queue_arn" {
  description = "ARN of the heartbeat's failure queue (its on-failure destination), or null."
  value       = try(aws_sqs_queue.heartbeat_failures[0].arn, null)
}

output "reply_queue_prefix" {
  description = "Clients name their reply queues `<prefix><session>.fifo`."
  value       = "${var.name}-reply-"
}

output "cloudwatch_metric_alarm_arns" {
  description = "ARNs of the alarms: the DLQ-depth ones by queue (writer, distributor, watch), distributor-backlog and heartbeat-failures when enabled."
  value = merge(
    { for k, a in aws_cloudwatch_metric_alarm.dlq_depth : k => a.arn },
    { for a in aws_cloudwatch_metric_alarm.distributor_age : "distributor-backlog" => a.arn },
    { for a in aws_cloudwatch_metric_alarm.heartbeat_failures : "heartbeat-failures" => a.arn },
  )
}
