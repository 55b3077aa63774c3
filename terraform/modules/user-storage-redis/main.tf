# The Redis user store (crates/aws/src/user/redis.rs): either an existing
# server (its URL passes through) or an ElastiCache replication group created
# here, in the VPC subnets and security groups the caller gives. The
# functions and clients must run where they can reach it (see README).

locals {
  prefix = var.prefix != null ? var.prefix : var.name
  # redis:// only: fk-aws's Redis client is built without TLS (README, "Encryption in transit").
  url = var.create_replication_group ? "redis://${aws_elasticache_replication_group.this[0].primary_endpoint_address}:${var.port}" : var.url
}

resource "aws_elasticache_subnet_group" "this" {
  count = var.create_replication_group ? 1 : 0

  name       = "${var.name}-redis"
  subnet_ids = var.subnet_ids
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV_AWS_30:the functions' Redis client (fk-aws, redis crate without TLS) cannot speak TLS yet; transit_encryption_enabled turns it on once it can
  #checkov:skip=CKV_AWS_31:AUTH needs encryption in transit (above); access is limited to the given security groups inside the VPC
  #checkov:skip=CKV2_AWS_50:automatic failover and Multi-AZ are on whenever number_cache_clusters > 1 (the default, 2); a single-node group cannot fail over
  #checkov:skip=CKV_AWS_191:encrypted at rest with the AWS managed key by default; pass kms_key_id for a customer managed key
  count = var.create_replication_group ? 1 : 0

  replication_group_id = "${var.name}-redis"
  # Provider 3.x argument names (4.0 renamed them description / num_cache_clusters; 5.0 removed these).
  replication_group_description = "FaaSKeeper ${var.name} user store"
  number_cache_clusters         = var.number_cache_clusters

  engine                     = "redis"
  engine_version             = var.engine_version
  node_type                  = var.node_type
  port                       = var.port
  subnet_group_name          = aws_elasticache_subnet_group.this[0].name
  security_group_ids         = var.security_group_ids
  automatic_failover_enabled = var.number_cache_clusters > 1
  multi_az_enabled           = var.number_cache_clusters > 1

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_id
  transit_encryption_enabled = var.transit_encryption_enabled

  snapshot_retention_limit   = var.snapshot_retention_limit
  auto_minor_version_upgrade = true
  apply_immediately          = false

  tags = var.tags
}
