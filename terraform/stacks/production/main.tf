# FaaSKeeper in AWS with the S3 user store: cheap storage, node data up to 1 MB.
# `make deploy` (STACK=production) packages the functions and applies this.

provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ Application = "faaskeeper", Deployment = var.name }, var.tags)
  }
}

module "faaskeeper" {
  source = "../../modules/faaskeeper"

  name             = var.name
  user_store       = "s3"
  user_bucket_name = var.user_bucket_name

  # The bucket is the only copy of node data: versioned, old versions kept
  # for a while; the tables cannot be deleted by mistake.
  user_bucket_versioning_enabled                 = var.user_bucket_versioning_enabled
  user_bucket_noncurrent_version_expiration_days = var.user_bucket_noncurrent_version_expiration_days
  deletion_protection                            = var.deletion_protection

  writer_zip_path      = "${var.package_dir}/fk-writer/bootstrap.zip"
  distributor_zip_path = "${var.package_dir}/fk-distributor/bootstrap.zip"
  heartbeat_zip_path   = "${var.package_dir}/fk-heartbeat/bootstrap.zip"
  watch_zip_path       = "${var.package_dir}/fk-watch/bootstrap.zip"
  runtime              = var.runtime

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
