output "s3_bucket_id" {
  description = "Name of the bucket (FK_USER_BUCKET)."
  value       = aws_s3_bucket.this.id
}

output "s3_bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "user_store_json" {
  description = "The `user_store` member of the client configuration (crates/aws/src/deployment.rs), as JSON."
  value       = jsonencode({ kind = "s3", bucket = aws_s3_bucket.this.id })
}

output "function_environment" {
  description = "The variables that name this store to the functions."
  value       = { FK_USER_STORE = "s3", FK_USER_BUCKET = aws_s3_bucket.this.id }
}
