# A whole FaaSKeeper deployment from the other modules: system storage, the
# user store (S3 or DynamoDB created here; Redis passed in by URL and
# password secret, see ../user-storage-redis), the FIFO queues,
# least-privilege IAM, the writer, distributor and watch functions fed by
# their queues, and the heartbeat on its schedule. The root configurations
# in terraform/stacks call this.

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name

  function_names = {
    writer      = "${var.name}-writer"
    distributor = "${var.name}-distributor"
    heartbeat   = "${var.name}-heartbeat"
    watch       = "${var.name}-watch"
  }

  # Every customer managed key the principals must be allowed to use: the
  # one that encrypts what this module creates, and any others given.
  kms_key_arns = distinct(concat(var.kms_key_arns, var.kms_key_arn == null ? [] : [var.kms_key_arn]))

  # Reserved concurrency by function; -1 (unreserved) unless given.
  reserved_concurrent_executions = {
    for f in keys(local.function_names) : f => lookup(var.reserved_concurrent_executions, f, -1)
  }

  # Visibility timeout of the queues: longer than the function timeout
  # (AWS advises 6 times it for an event source mapping).
  visibility_timeout_seconds = var.queue_visibility_timeout_seconds != null ? var.queue_visibility_timeout_seconds : 6 * var.function_timeout

  user_store_json = {
    s3       = try(module.user_storage_s3[0].user_store_json, null)
    dynamodb = try(module.user_storage_dynamodb[0].user_store_json, null)
    # Clients read as the read-only user when there is one, with that
    # user's password secret (null: the URL carries its password, or none).
    redis = jsonencode({
      kind                = "redis"
      url                 = var.redis_read_url != null ? var.redis_read_url : var.redis_url
      prefix              = local.redis_prefix
      password_secret_arn = local.redis_client_password_secret_arn
    })
  }[var.user_store]

  redis_prefix = var.redis_prefix != null ? var.redis_prefix : var.name
  redis        = var.user_store == "redis"
  # The secret that goes with the URL clients are given.
  redis_client_password_secret_arn = var.redis_read_url != null ? var.redis_read_password_secret_arn : var.redis_password_secret_arn

  user_store_environment = {
    s3       = try(module.user_storage_s3[0].function_environment, {})
    dynamodb = try(module.user_storage_dynamodb[0].function_environment, {})
    redis = merge(
      { FK_USER_STORE = "redis", FK_REDIS_URL = var.redis_url, FK_REDIS_PREFIX = local.redis_prefix },
      var.redis_password_secret_arn == null ? {} : { FK_REDIS_PASSWORD_SECRET_ARN = var.redis_password_secret_arn },
    )
  }[var.user_store]

  # The variables crates/aws/src/env.rs names, as crates/local's provisioning
  # sets them: every function gets the common ones.
  common_environment = merge(
    {
      FK_SYSTEM_TABLE          = module.system_storage.system_table_name
      FK_SESSIONS_TABLE        = module.system_storage.sessions_table_name
      FK_DISTRIBUTOR_QUEUE_URL = module.queues.distributor_queue_url
      FK_LOCK_TTL_MS           = tostring(var.lock_ttl_ms)
      FK_GROUP_COMMIT          = tostring(var.group_commit)
      FK_AWS_TRANSPORT         = var.aws_transport
    },
    local.user_store_environment,
    local.aws_and_tracing_environment,
  )

  # Every function: the emulator's endpoint (local stack) and where traces go.
  aws_and_tracing_environment = merge(
    var.endpoint == null ? {} : { FK_AWS_ENDPOINT = var.endpoint },
    local.collector ? local.collector_environment : (
      var.otlp_endpoint == null ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT = var.otlp_endpoint }
    ),
  )

  # With a collector layer the functions export to it on localhost, and it
  # forwards to X-Ray or to otlp_endpoint. The configuration comes from our
  # own layer (observability/collector/, unpacked under /opt). No
  # AWS_LAMBDA_EXEC_WRAPPER: wrappers exist for the managed runtimes'
  # auto-instrumentation; these Rust functions trace themselves (and a
  # provided.* runtime does not run one).
  collector = var.collector_layer_arn != null
  collector_environment = merge(
    {
      OPENTELEMETRY_COLLECTOR_CONFIG_URI = "/opt/faaskeeper/collector-${var.collector_exporter}.yaml"
      OTEL_EXPORTER_OTLP_ENDPOINT        = "http://localhost:4318"
    },
    var.collector_exporter == "otlp" && var.otlp_endpoint != null ? { FK_OTLP_BACKEND_ENDPOINT = var.otlp_endpoint } : {},
  )
  layers = local.collector ? [var.collector_layer_arn, aws_lambda_layer_version.collector_config[0].arn] : []

  # Segments reach X-Ray from Lambda itself (active tracing) or from the
  # collector's X-Ray exporter; both need the role's X-Ray actions.
  xray_enabled = var.xray_tracing || (local.collector && var.collector_exporter == "xray")
  tracing_mode = var.xray_tracing ? "Active" : "PassThrough"

  environments = {
    writer = merge(local.common_environment, { FK_DEAD_LETTER_QUEUE_URL = module.queues.writer_dlq_url })
    distributor = merge(local.common_environment, {
      FK_DEAD_LETTER_QUEUE_URL = module.queues.distributor_dlq_url
      FK_WATCH_QUEUE_URL       = module.queues.watch_queue_url
    })
    heartbeat = merge(local.common_environment, { FK_WRITER_QUEUE_URL = module.queues.writer_queue_url })
    # The watch function needs no user store and no lock lifetime: it
    # sends each fired event to the session's reply queue.
    watch = merge(
      {
        FK_SYSTEM_TABLE          = module.system_storage.system_table_name
        FK_SESSIONS_TABLE        = module.system_storage.sessions_table_name
        FK_DEAD_LETTER_QUEUE_URL = module.queues.watch_dlq_url
      },
      local.aws_and_tracing_environment,
    )
  }

  # crates/aws/src/deployment.rs's Deployment, field for field.
  client_config = merge(
    {
      name               = var.name
      region             = local.region
      writer_queue_url   = module.queues.writer_queue_url
      system_table       = module.system_storage.system_table_name
      sessions_table     = module.system_storage.sessions_table_name
      reply_queue_prefix = module.queues.reply_queue_prefix
      user_store         = jsondecode(local.user_store_json)
    },
    { for k, v in { endpoint = var.endpoint } : k => v if v != null },
  )
}

# The collector's configuration, read by the collector layer at start-up.
resource "aws_lambda_layer_version" "collector_config" {
  count = local.collector ? 1 : 0

  layer_name       = "${var.name}-collector-config"
  description      = "OpenTelemetry collector configuration of FaaSKeeper ${var.name} (observability/collector)"
  filename         = var.collector_config_zip_path
  source_code_hash = filebase64sha256(var.collector_config_zip_path)
}

module "system_storage" {
  source = "../system-storage"

  name                           = var.name
  point_in_time_recovery_enabled = var.point_in_time_recovery_enabled
  deletion_protection            = var.deletion_protection
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags
}

module "user_storage_s3" {
  source = "../user-storage-s3"
  count  = var.user_store == "s3" ? 1 : 0

  name          = var.name
  bucket_name   = var.user_bucket_name
  force_destroy = var.user_store_force_destroy

  versioning_enabled                 = var.user_bucket_versioning_enabled
  noncurrent_version_expiration_days = var.user_bucket_noncurrent_version_expiration_days
  kms_key_arn                        = var.kms_key_arn

  deny_insecure_transport = var.endpoint == null # an emulator speaks plain HTTP
  tags                    = var.tags
}

module "user_storage_dynamodb" {
  source = "../user-storage-dynamodb"
  count  = var.user_store == "dynamodb" ? 1 : 0

  name                           = var.name
  point_in_time_recovery_enabled = var.point_in_time_recovery_enabled
  deletion_protection            = var.deletion_protection
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags
}

module "queues" {
  source = "../queues"

  name                                   = var.name
  writer_visibility_timeout_seconds      = local.visibility_timeout_seconds
  distributor_visibility_timeout_seconds = local.visibility_timeout_seconds
  watch_visibility_timeout_seconds       = local.visibility_timeout_seconds
  max_receive_count                      = var.max_receive_count
  kms_master_key_id                      = var.kms_key_arn != null ? var.kms_key_arn : "alias/aws/sqs"
  heartbeat_failure_queue_enabled        = var.heartbeat_enabled
  deny_insecure_transport                = var.endpoint == null # an emulator speaks plain HTTP
  alarms_enabled                         = var.alarms_enabled
  # Half the lock lifetime: time to act before writes start timing out.
  distributor_age_alarm_seconds = max(1, floor(var.lock_ttl_ms / 2000))
  alarm_actions                 = var.alarm_actions
  tags                          = var.tags
}

module "iam" {
  source = "../iam"

  system_table_arn      = module.system_storage.system_table_arn
  sessions_table_arn    = module.system_storage.sessions_table_arn
  writer_queue_arn      = module.queues.writer_queue_arn
  writer_dlq_arn        = module.queues.writer_dlq_arn
  distributor_queue_arn = module.queues.distributor_queue_arn
  distributor_dlq_arn   = module.queues.distributor_dlq_arn
  watch_queue_arn       = module.queues.watch_queue_arn
  watch_dlq_arn         = module.queues.watch_dlq_arn
  reply_queue_prefix    = module.queues.reply_queue_prefix
  user_store_kind       = var.user_store
  user_bucket_arn       = try(module.user_storage_s3[0].s3_bucket_arn, null)
  user_table_arn        = try(module.user_storage_dynamodb[0].dynamodb_table_arn, null)
  function_names        = local.function_names
  vpc_enabled           = length(var.distributor_vpc_subnet_ids) > 0
  xray_enabled          = local.xray_enabled
  kms_key_arns          = local.kms_key_arns

  # The Redis users' passwords: the distributor's (the one function that
  # opens the store) and the one clients are given.
  redis_password_secret_arn        = local.redis ? var.redis_password_secret_arn : null
  redis_client_password_secret_arn = local.redis ? local.redis_client_password_secret_arn : null

  # Lambda sends the heartbeat's failed runs there as the heartbeat's role.
  heartbeat_failure_queue_arn = module.queues.heartbeat_failure_queue_arn
}

module "writer" {
  source = "../function"

  function_name = local.function_names.writer
  description   = "FaaSKeeper ${var.name}: locks, validates and orders client writes"
  zip_path      = var.writer_zip_path
  runtime       = var.runtime
  memory_size   = var.function_memory_size
  timeout       = var.function_timeout
  environment   = local.environments.writer
  policy_json   = module.iam.writer_policy_json
  layers        = local.layers
  tracing_mode  = local.tracing_mode

  role_permissions_boundary      = var.permissions_boundary_arn
  reserved_concurrent_executions = local.reserved_concurrent_executions.writer
  kms_key_arn                    = var.kms_key_arn
  log_kms_key_id                 = var.log_kms_key_arn

  # One message group per session: Lambda runs sessions in parallel and
  # each session's writes in order.
  event_source_mapping_enabled = var.event_source_mappings_enabled
  event_source_arn             = module.queues.writer_queue_arn
  batch_size                   = var.writer_batch_size

  log_retention_in_days = var.log_retention_in_days
  metrics_enabled       = var.metrics_enabled
  metrics_namespace     = var.metrics_namespace
  alarms_enabled        = var.alarms_enabled
  alarm_actions         = var.alarm_actions
  tags                  = var.tags
}

module "distributor" {
  source = "../function"

  function_name = local.function_names.distributor
  description   = "FaaSKeeper ${var.name}: commits writes in queue order and applies them to user storage"
  zip_path      = var.distributor_zip_path
  runtime       = var.runtime
  memory_size   = var.function_memory_size
  timeout       = var.function_timeout
  environment   = local.environments.distributor
  policy_json   = module.iam.distributor_policy_json
  layers        = local.layers
  tracing_mode  = local.tracing_mode

  role_permissions_boundary      = var.permissions_boundary_arn
  reserved_concurrent_executions = local.reserved_concurrent_executions.distributor
  kms_key_arn                    = var.kms_key_arn
  log_kms_key_id                 = var.log_kms_key_arn

  # One message group (the commit order): one invocation at a time.
  event_source_mapping_enabled = var.event_source_mappings_enabled
  event_source_arn             = module.queues.distributor_queue_arn
  batch_size                   = var.distributor_batch_size

  vpc_subnet_ids         = var.distributor_vpc_subnet_ids
  vpc_security_group_ids = var.distributor_vpc_security_group_ids

  log_retention_in_days = var.log_retention_in_days
  metrics_enabled       = var.metrics_enabled
  metrics_namespace     = var.metrics_namespace
  alarms_enabled        = var.alarms_enabled
  alarm_actions         = var.alarm_actions
  tags                  = var.tags
}

module "watch" {
  source = "../function"

  function_name = local.function_names.watch
  description   = "FaaSKeeper ${var.name}: delivers watch events to the sessions that set them"
  zip_path      = var.watch_zip_path
  runtime       = var.runtime
  memory_size   = var.function_memory_size
  timeout       = var.function_timeout
  environment   = local.environments.watch
  policy_json   = module.iam.watch_policy_json
  layers        = local.layers
  tracing_mode  = local.tracing_mode

  role_permissions_boundary      = var.permissions_boundary_arn
  reserved_concurrent_executions = local.reserved_concurrent_executions.watch
  kms_key_arn                    = var.kms_key_arn
  log_kms_key_id                 = var.log_kms_key_arn

  # Lambda delivers each message group of the FIFO queue in order.
  event_source_mapping_enabled = var.event_source_mappings_enabled
  event_source_arn             = module.queues.watch_queue_arn
  batch_size                   = var.watch_batch_size

  log_retention_in_days = var.log_retention_in_days
  metrics_enabled       = var.metrics_enabled
  metrics_namespace     = var.metrics_namespace
  alarms_enabled        = var.alarms_enabled
  alarm_actions         = var.alarm_actions
  tags                  = var.tags
}

module "heartbeat" {
  source = "../function"
  count  = var.heartbeat_enabled ? 1 : 0

  function_name = local.function_names.heartbeat
  description   = "FaaSKeeper ${var.name}: expires sessions that stopped answering"
  zip_path      = var.heartbeat_zip_path
  runtime       = var.runtime
  memory_size   = var.function_memory_size
  timeout       = var.function_timeout
  environment   = local.environments.heartbeat
  policy_json   = module.iam.heartbeat_policy_json
  layers        = local.layers
  tracing_mode  = local.tracing_mode

  # EventBridge invokes it asynchronously. A missed run is repeated by the
  # next scheduled one, so retries only add runs that overlap it (0 by
  # default); one that failed for good is recorded in the failure queue.
  async_invoke_config_enabled        = true
  async_maximum_retry_attempts       = var.heartbeat_maximum_retry_attempts
  async_maximum_event_age_in_seconds = var.heartbeat_maximum_event_age_in_seconds
  async_on_failure_destination_arn   = module.queues.heartbeat_failure_queue_arn

  role_permissions_boundary      = var.permissions_boundary_arn
  reserved_concurrent_executions = local.reserved_concurrent_executions.heartbeat
  kms_key_arn                    = var.kms_key_arn
  log_kms_key_id                 = var.log_kms_key_arn

  log_retention_in_days = var.log_retention_in_days
  # Its runs log no "handled" lines: nothing to count.
  metrics_enabled = false
  alarms_enabled  = var.alarms_enabled
  alarm_actions   = var.alarm_actions
  tags            = var.tags
}

module "heartbeat_schedule" {
  source = "../schedule"
  count  = var.heartbeat_enabled && var.heartbeat_schedule_enabled ? 1 : 0

  name                = local.function_names.heartbeat
  description         = "Runs the FaaSKeeper ${var.name} heartbeat"
  schedule_expression = var.heartbeat_schedule_expression
  function_arn        = module.heartbeat[0].lambda_function_arn
  function_name       = module.heartbeat[0].lambda_function_name
  tags                = var.tags
}
