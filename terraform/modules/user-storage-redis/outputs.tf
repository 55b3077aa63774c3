output "replication_group_id" {
  description = "Id of the replication group (null when an existing server is used)."
  value       = try(aws_cloudformation_stack.redis[0].outputs["GroupId"], null)
}

output "replication_group_primary_endpoint_address" {
  description = "Primary endpoint of the replication group (null when an existing server is used)."
  value       = try(aws_cloudformation_stack.redis[0].outputs["PrimaryAddress"], null)
}

output "redis_url" {
  description = "URL of the store (FK_REDIS_URL)."
  value       = local.url
}

output "redis_prefix" {
  description = "Key prefix of the store (FK_REDIS_PREFIX)."
  value       = local.prefix
}

output "user_store_json" {
  description = "The `user_store` member of the client configuration (crates/aws/src/deployment.rs), as JSON."
  value       = jsonencode({ kind = "redis", url = local.url, prefix = local.prefix })
}

output "function_environment" {
  description = "The variables that name this store to the functions."
  value       = { FK_USER_STORE = "redis", FK_REDIS_URL = local.url, FK_REDIS_PREFIX = local.prefix }
}
