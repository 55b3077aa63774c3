# FaaSKeeper in AWS with a Redis user store (ElastiCache, created here, or an
# existing server): the fastest reads. Redis lives in a VPC, so the
# distributor runs in the given private subnets, which must reach SQS,
# DynamoDB and Secrets Manager (a NAT gateway, or VPC endpoints), and clients
# must run where they can reach Redis (client_security_group_ids).

provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ Application = "faaskeeper", Deployment = var.name }, var.tags)
  }
}

resource "aws_security_group" "distributor" {
  #checkov:skip=CKV2_AWS_5:attached to the distributor's Lambda function (vpc_config, in module.faaskeeper's module.distributor); checkov 3.3 loses that two-module path once module.faaskeeper also takes module.redis's outputs
  name        = "${var.name}-distributor"
  description = "FaaSKeeper ${var.name} distributor: Redis (TLS), and HTTPS to AWS APIs"
  vpc_id      = var.vpc_id

  egress {
    description     = "Redis user store"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [aws_security_group.redis.id]
  }

  egress {
    #checkov:skip=CKV_AWS_382:HTTPS to SQS, DynamoDB and Secrets Manager, whose addresses are AWS's public ranges unless VPC endpoints are used
    description = "SQS, DynamoDB and Secrets Manager APIs (through NAT or VPC endpoints)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "FaaSKeeper ${var.name} Redis user store: the distributor and clients only"
  vpc_id      = var.vpc_id
}

resource "aws_security_group_rule" "redis_from_distributor" {
  description              = "The distributor applies writes"
  type                     = "ingress"
  security_group_id        = aws_security_group.redis.id
  from_port                = 6379
  to_port                  = 6379
  protocol                 = "tcp"
  source_security_group_id = aws_security_group.distributor.id
}

resource "aws_security_group_rule" "redis_from_clients" {
  for_each = toset(var.client_security_group_ids)

  description              = "Clients read nodes"
  type                     = "ingress"
  security_group_id        = aws_security_group.redis.id
  from_port                = 6379
  to_port                  = 6379
  protocol                 = "tcp"
  source_security_group_id = each.value
}

module "redis" {
  source = "../../modules/user-storage-redis"

  name = var.name
  # An existing server passes through; without one, a replication group
  # with RBAC users is created.
  url                      = var.redis_url
  read_url                 = var.redis_read_url
  password_secret_arn      = var.redis_password_secret_arn
  read_password_secret_arn = var.redis_read_password_secret_arn

  subnet_ids            = var.subnet_ids
  security_group_ids    = [aws_security_group.redis.id]
  node_type             = var.redis_node_type
  num_cache_clusters    = var.redis_nodes
  read_from_replicas    = var.redis_read_from_replicas
  restore_snapshot_name = var.redis_restore_snapshot_name
  # The replication group and the password secrets; the faaskeeper module
  # below grants the functions and clients kms:Decrypt on the same key.
  kms_key_arn = var.kms_key_arn
}

module "faaskeeper" {
  source = "../../modules/faaskeeper"

  name                           = var.name
  user_store                     = "redis"
  redis_url                      = module.redis.redis_url
  redis_read_url                 = module.redis.redis_read_url
  redis_prefix                   = module.redis.redis_prefix
  redis_password_secret_arn      = module.redis.password_secret_arn
  redis_read_password_secret_arn = module.redis.read_password_secret_arn
  deletion_protection            = var.deletion_protection

  writer_zip_path      = "${var.package_dir}/fk-writer/bootstrap.zip"
  distributor_zip_path = "${var.package_dir}/fk-distributor/bootstrap.zip"
  heartbeat_zip_path   = "${var.package_dir}/fk-heartbeat/bootstrap.zip"
  watch_zip_path       = "${var.package_dir}/fk-watch/bootstrap.zip"
  runtime              = var.runtime

  distributor_vpc_subnet_ids         = var.subnet_ids
  distributor_vpc_security_group_ids = [aws_security_group.distributor.id]

  function_memory_size = var.function_memory_size
  function_timeout     = var.function_timeout
  lock_ttl_ms          = var.lock_ttl_ms

  # Expires silent sessions (and their ephemeral nodes) every minute.
  heartbeat_enabled = var.heartbeat_enabled

  log_retention_in_days = var.log_retention_in_days
  alarm_actions         = var.alarm_actions
  otlp_endpoint         = var.otlp_endpoint

  permissions_boundary_arn       = var.permissions_boundary_arn
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn
  log_kms_key_arn                = var.log_kms_key_arn

  # Traces through a collector layer (X-Ray or otlp_endpoint) and X-Ray's
  # own segments; the configuration layer comes from `make package`.
  collector_layer_arn       = var.collector_layer_arn
  collector_config_zip_path = "${var.package_dir}/collector-config.zip"
  collector_exporter        = var.collector_exporter
  xray_tracing              = var.xray_tracing
}
