output "dynamodb_table_name" {
  description = "Name of the table (FK_USER_TABLE)."
  value       = aws_dynamodb_table.this.name
}

output "dynamodb_table_arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}

output "user_store_json" {
  description = "The `user_store` member of the client configuration (crates/aws/src/deployment.rs), as JSON."
  value       = jsonencode({ kind = "dynamodb", table = aws_dynamodb_table.this.name })
}

output "function_environment" {
  description = "The variables that name this store to the functions."
  value       = { FK_USER_STORE = "dynamodb", FK_USER_TABLE = aws_dynamodb_table.this.name }
}
