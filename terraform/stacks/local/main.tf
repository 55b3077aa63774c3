# The local stack: the whole deployment in the AWS emulator (moto) that
# scripts/backends.sh starts. `make run` and `make test` apply it.
#
# Differences from AWS: no event source mappings or schedules (moto would try
# to run the functions in Docker); crates/local's runner plays them, running
# the same binaries with the environments this configuration outputs. The
# runtime is provided.al2, the newest provider 3.39 knows. The zips hold the
# debug binaries (`make package-local`); moto only stores them.

provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_get_ec2_platforms      = true # otherwise ~25 s of EC2 retries per plan
  s3_force_path_style         = true

  endpoints {
    cloudwatch       = var.endpoint
    cloudwatchevents = var.endpoint
    cloudwatchlogs   = var.endpoint
    dynamodb         = var.endpoint
    iam              = var.endpoint
    lambda           = var.endpoint
    s3               = var.endpoint
    sqs              = var.endpoint
    sts              = var.endpoint
  }
}

module "faaskeeper" {
  source = "../../modules/faaskeeper"

  name           = var.name
  user_store     = var.store
  redis_url      = var.redis_url
  redis_read_url = var.redis_read_url
  endpoint       = var.endpoint
  runtime        = "provided.al2"
  lock_ttl_ms    = var.lock_ttl_ms
  alarms_enabled = true

  writer_zip_path      = "${var.package_dir}/fk-writer/bootstrap.zip"
  distributor_zip_path = "${var.package_dir}/fk-distributor/bootstrap.zip"
  heartbeat_zip_path   = "${var.package_dir}/fk-heartbeat/bootstrap.zip"
  watch_zip_path       = "${var.package_dir}/fk-watch/bootstrap.zip"

  function_timeout                 = var.function_timeout
  queue_visibility_timeout_seconds = var.function_timeout + 2
  max_receive_count                = var.max_receive_count
  event_source_mappings_enabled    = false
  heartbeat_enabled                = true
  heartbeat_schedule_enabled       = false # the runner schedules it

  user_store_force_destroy = true
  # `make test` destroys what it applied (the emulator's copy of the modules
  # leaves deletion protection out anyway: it needs provider 4+).
  deletion_protection = false
}
