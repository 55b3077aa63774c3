output "client_config" {
  description = "What clients read: `terraform output -raw client_config > deployment.json`, then FK_DEPLOYMENT=deployment.json."
  value       = module.faaskeeper.client_config
}

output "client_policy_json" {
  description = "IAM policy to attach to the role or user of every client application."
  value       = module.faaskeeper.client_policy_json
}

output "lambda_function_arns" {
  description = "ARNs of the functions."
  value       = module.faaskeeper.lambda_function_arns
}

output "redis_security_group_id" {
  description = "Security group of Redis (add clients with client_security_group_ids)."
  value       = aws_security_group.redis.id
}

output "redis_url" {
  description = "The URL the distributor connects with (no password in it)."
  value       = module.redis.redis_url
}

output "redis_read_url" {
  description = "The URL clients read with (no password in it); null: clients use redis_url."
  value       = module.redis.redis_read_url
}

output "redis_password_secret_arns" {
  description = "Secrets Manager secrets holding the passwords of the distributor's and the clients' Redis users (null where there is none)."
  value = {
    distributor = module.redis.password_secret_arn
    client      = module.redis.read_password_secret_arn
  }
}

output "iam_actions" {
  description = "The IAM actions each function's role and the client policy allow, by principal (for review)."
  value       = module.faaskeeper.iam_actions
}
