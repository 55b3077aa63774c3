output "replication_group_id" {
  description = "Id of the replication group (null when an existing server is used)."
  value       = try(aws_elasticache_replication_group.this[0].id, null)
}

output "replication_group_primary_endpoint_address" {
  description = "Primary endpoint of the replication group (null when an existing server is used)."
  value       = local.primary_address
}

output "replication_group_reader_endpoint_address" {
  description = "Reader endpoint (the replicas) of the replication group (null when an existing server is used)."
  value       = try(aws_elasticache_replication_group.this[0].reader_endpoint_address, null)
}

output "user_group_id" {
  description = "The RBAC user group of the replication group (null when an existing server is used)."
  value       = try(aws_elasticache_user_group.this[0].user_group_id, null)
}

output "redis_url" {
  description = "URL of the store for the functions (FK_REDIS_URL): rediss://fk-distributor@<primary endpoint>:<port> when created here, without the password (password_secret_arn holds it); url otherwise."
  value       = local.url
}

output "redis_read_url" {
  description = "URL of the store for clients: rediss://fk-client@<primary endpoint, or reader endpoint with read_from_replicas>:<port> when created here; read_url otherwise (null: clients use redis_url)."
  value       = local.read_url
}

output "password_secret_arn" {
  description = "Secrets Manager secret whose value is the password of redis_url's user (fk-distributor when created here); the given password_secret_arn otherwise."
  value       = local.password_secret_arn
}

output "read_password_secret_arn" {
  description = "Secrets Manager secret whose value is the password of redis_read_url's user (fk-client when created here); the given read_password_secret_arn otherwise."
  value       = local.read_password_secret_arn
}

output "redis_prefix" {
  description = "Key prefix of the store (FK_REDIS_PREFIX)."
  value       = local.prefix
}

output "user_store_json" {
  description = "The `user_store` member of the client configuration (crates/aws/src/deployment.rs), as JSON: the clients' URL and its password secret."
  value = jsonencode({
    kind                = "redis"
    url                 = local.client_url
    prefix              = local.prefix
    password_secret_arn = local.client_password_secret_arn
  })
}

output "function_environment" {
  description = "The variables that name this store to the functions."
  value = merge(
    { FK_USER_STORE = "redis", FK_REDIS_URL = local.url, FK_REDIS_PREFIX = local.prefix },
    # Decided by what is known at plan time (a new secret's ARN is not).
    local.create || var.password_secret_arn != null ? { FK_REDIS_PASSWORD_SECRET_ARN = local.password_secret_arn } : {},
  )
}
