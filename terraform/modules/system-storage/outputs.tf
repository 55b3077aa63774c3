output "system_table_name" {
  description = "Name of the system table (FK_SYSTEM_TABLE)."
  value       = aws_dynamodb_table.this["system"].name
}

output "system_table_arn" {
  description = "ARN of the system table."
  value       = aws_dynamodb_table.this["system"].arn
}

output "sessions_table_name" {
  description = "Name of the sessions table (FK_SESSIONS_TABLE)."
  value       = aws_dynamodb_table.this["sessions"].name
}

output "sessions_table_arn" {
  description = "ARN of the sessions table."
  value       = aws_dynamodb_table.this["sessions"].arn
}
