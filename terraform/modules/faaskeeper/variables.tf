variable "name" {
  description = "Deployment name: every resource name starts with it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,39}$", var.name))
    error_message = "The name must be 3 to 40 lowercase letters, digits and '-', starting with a letter or digit."
  }
}

variable "user_store" {
  description = "Where node data lives: s3, dynamodb, or redis (a server given by redis_url)."
  type        = string
  default     = "s3"

  validation {
    condition     = contains(["s3", "dynamodb", "redis"], var.user_store)
    error_message = "The user_store must be s3, dynamodb or redis."
  }
}

variable "redis_url" {
  description = "URL of the Redis user store (user_store = redis), e.g. ../user-storage-redis's redis_url."
  type        = string
  default     = null

  validation {
    condition     = var.redis_url == null || can(regex("^rediss?://", var.redis_url))
    error_message = "The redis_url must start with redis:// or rediss://."
  }
}

variable "redis_read_url" {
  description = "URL of the same Redis server as a read-only user, for the clients' deployment document (user_store = redis); null: clients get redis_url."
  type        = string
  default     = null

  validation {
    condition     = var.redis_read_url == null || can(regex("^rediss?://", var.redis_read_url))
    error_message = "The redis_read_url must start with redis:// or rediss://."
  }
}

variable "redis_password_secret_arn" {
  description = "Secrets Manager secret holding the password of redis_url's user (user_store = redis; ../user-storage-redis's password_secret_arn): the functions with FK_REDIS_URL get it as FK_REDIS_PASSWORD_SECRET_ARN and the distributor may read it. Null: the URL carries its own password, or none."
  type        = string
  default     = null

  validation {
    condition     = var.redis_password_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.redis_password_secret_arn))
    error_message = "The redis_password_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
}

variable "redis_read_password_secret_arn" {
  description = "Secrets Manager secret holding the password of redis_read_url's user: the clients' deployment document names it and client_policy_json may read it. Without redis_read_url, clients use redis_url and redis_password_secret_arn instead."
  type        = string
  default     = null

  validation {
    condition     = var.redis_read_password_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.redis_read_password_secret_arn))
    error_message = "The redis_read_password_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
}

variable "redis_prefix" {
  description = "Key prefix of the Redis user store; null means the deployment name."
  type        = string
  default     = null

  validation {
    condition     = var.redis_prefix == null || can(regex("^[^\\s]{1,64}$", var.redis_prefix))
    error_message = "The redis_prefix must be 1 to 64 characters without spaces."
  }
}

variable "user_bucket_name" {
  description = "Name of the user bucket (user_store = s3), when `<name>-user` is taken."
  type        = string
  default     = null

  validation {
    condition     = var.user_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.user_bucket_name))
    error_message = "The user_bucket_name must be a valid S3 bucket name."
  }
}

variable "user_store_force_destroy" {
  description = "Let destroy delete a user bucket that still holds nodes."
  type        = bool
  default     = false
}

variable "user_bucket_versioning_enabled" {
  description = "S3 versioning of the user bucket (user_store = s3): overwritten and deleted node objects stay recoverable for user_bucket_noncurrent_version_expiration_days."
  type        = bool
  default     = true
}

variable "user_bucket_noncurrent_version_expiration_days" {
  description = "Days the user bucket keeps a node object's earlier versions (1 to 3650)."
  type        = number
  default     = 30

  validation {
    condition     = var.user_bucket_noncurrent_version_expiration_days >= 1 && var.user_bucket_noncurrent_version_expiration_days <= 3650 && floor(var.user_bucket_noncurrent_version_expiration_days) == var.user_bucket_noncurrent_version_expiration_days
    error_message = "The user_bucket_noncurrent_version_expiration_days must be a whole number from 1 to 3650."
  }
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection of the system, sessions and (user_store = dynamodb) user tables: deleting them, `terraform destroy` included, fails until this is set false and applied."
  type        = bool
  default     = true
}

variable "point_in_time_recovery_enabled" {
  description = "Continuous backups of every DynamoDB table."
  type        = bool
  default     = true
}

variable "endpoint" {
  description = "An endpoint that replaces AWS's (the local emulator): given to the functions (FK_AWS_ENDPOINT) and clients. Null in AWS."
  type        = string
  default     = null

  validation {
    condition     = var.endpoint == null || can(regex("^https?://", var.endpoint))
    error_message = "The endpoint must be an http(s) URL."
  }
}

variable "otlp_endpoint" {
  description = "OpenTelemetry collector (OTLP/HTTP) base URL the functions export their traces to (OTEL_EXPORTER_OTLP_ENDPOINT); null turns tracing off."
  type        = string
  default     = null

  validation {
    condition     = var.otlp_endpoint == null || can(regex("^https?://", var.otlp_endpoint))
    error_message = "The otlp_endpoint must be an http(s) URL."
  }
}

variable "collector_layer_arn" {
  description = "An OpenTelemetry collector Lambda layer (ADOT's aws-otel-collector, or opentelemetry-lambda's collector) version ARN: the functions export to it on localhost:4318 and it forwards to collector_exporter. Null: no collector layer."
  type        = string
  default     = null

  validation {
    condition     = var.collector_layer_arn == null || can(regex("^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.collector_layer_arn))
    error_message = "The collector_layer_arn must be a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }
}

variable "collector_config_zip_path" {
  description = "The collector's configuration as a layer (target/lambda/collector-config.zip from `make package`, observability/collector/*.yaml); required with collector_layer_arn."
  type        = string
  default     = null

  validation {
    condition     = var.collector_config_zip_path == null || can(regex("\\.zip$", var.collector_config_zip_path))
    error_message = "The collector_config_zip_path must name a .zip file."
  }
}

variable "collector_exporter" {
  description = "Where the collector layer sends traces: xray (AWS X-Ray, in the function's region) or otlp (the OTLP/HTTP backend at otlp_endpoint, e.g. Grafana Tempo)."
  type        = string
  default     = "xray"

  validation {
    condition     = contains(["xray", "otlp"], var.collector_exporter)
    error_message = "The collector_exporter must be xray or otlp."
  }
}

variable "xray_tracing" {
  description = "X-Ray active tracing of every function (Lambda's own segments: invocation, init, overhead), with the X-Ray actions added to their roles."
  type        = bool
  default     = false
}

variable "dashboard_enabled" {
  description = "Create a CloudWatch dashboard: function durations and errors, queue age and depth, dead-letter queue depth, DynamoDB throttles."
  type        = bool
  default     = true
}

variable "writer_zip_path" {
  description = "Deployment package of the writer (target/lambda/fk-writer/bootstrap.zip from `make package`)."
  type        = string

  validation {
    condition     = can(regex("\\.zip$", var.writer_zip_path))
    error_message = "The writer_zip_path must name a .zip file."
  }
}

variable "distributor_zip_path" {
  description = "Deployment package of the distributor (target/lambda/fk-distributor/bootstrap.zip)."
  type        = string

  validation {
    condition     = can(regex("\\.zip$", var.distributor_zip_path))
    error_message = "The distributor_zip_path must name a .zip file."
  }
}

variable "heartbeat_zip_path" {
  description = "Deployment package of the heartbeat (target/lambda/fk-heartbeat/bootstrap.zip), when heartbeat_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.heartbeat_zip_path == null || can(regex("\\.zip$", var.heartbeat_zip_path))
    error_message = "The heartbeat_zip_path must name a .zip file."
  }
}

variable "watch_zip_path" {
  description = "Deployment package of the watch function (target/lambda/fk-watch/bootstrap.zip)."
  type        = string

  validation {
    condition     = can(regex("\\.zip$", var.watch_zip_path))
    error_message = "The watch_zip_path must name a .zip file."
  }
}

variable "runtime" {
  description = "Lambda runtime of every function (provided.al2023; AWS provider 3.39 only knows provided.al2)."
  type        = string
  default     = "provided.al2023"

  validation {
    condition     = contains(["provided.al2023", "provided.al2"], var.runtime)
    error_message = "The runtime must be provided.al2023 or provided.al2."
  }
}

variable "function_memory_size" {
  description = "Memory of every function, in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.function_memory_size >= 128 && var.function_memory_size <= 10240
    error_message = "The function_memory_size must be between 128 and 10240 MB."
  }
}

variable "function_timeout" {
  description = "Timeout of every function, in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.function_timeout >= 1 && var.function_timeout <= 900
    error_message = "The function_timeout must be between 1 and 900 seconds."
  }
}

variable "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the writer, distributor and watch queues; null means 6 × function_timeout. Must exceed function_timeout."
  type        = number
  default     = null

  validation {
    condition     = var.queue_visibility_timeout_seconds == null || try(var.queue_visibility_timeout_seconds >= 1, false)
    error_message = "The queue_visibility_timeout_seconds must be at least 1."
  }
}

variable "max_receive_count" {
  description = "Receives without a delete before a message moves to its dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "The max_receive_count must be between 1 and 1000."
  }
}

variable "lock_ttl_ms" {
  description = "Lifetime of a node lock in milliseconds (FK_LOCK_TTL_MS). A write holds its nodes' locks until the distributor commits it; a later write may take over a lock older than this, and the earlier write then fails with OperationTimeout. Keep it above the distributor queue's worst backlog (alarm: distributor queue age)."
  type        = number
  default     = 30000

  validation {
    condition     = var.lock_ttl_ms >= 100
    error_message = "The lock_ttl_ms must be at least 100."
  }
}

variable "group_commit" {
  description = "Batch the write path (FK_GROUP_COMMIT): the writer pushes each batch's validated writes as one message (a bundle), and the distributor commits each batch's writes (up to ten bundles) as groups of consecutive zxids (DynamoDB transactions of up to 100 items) and applies them to user storage together. False: one write at a time. See docs/write-path.md, \"Group commit\"."
  type        = bool
  default     = true
}

variable "aws_transport" {
  description = "How the functions send the calls every write makes, the writer's lock (DynamoDB UpdateItem) and push (SQS SendMessage), the distributor's commit (DynamoDB TransactWriteItems) and reply (SQS SendMessage) and its writes to user storage (S3 PutObject and GetObject; DynamoDB PutItem, UpdateItem and TransactWriteItems) (FK_AWS_TRANSPORT): \"lean\" signs and sends them as plain requests, about half the SDK's CPU per call, and lets the SDK make a call again whenever one gets no answer it takes (error, throttling, refused credentials); \"sdk\" sends every call through the AWS SDK. See docs/write-path.md, \"The lock and the reply without the SDK's orchestrator\"."
  type        = string
  default     = "lean"

  validation {
    condition     = contains(["lean", "sdk"], var.aws_transport)
    error_message = "The aws_transport must be \"lean\" or \"sdk\"."
  }
}

variable "event_source_mappings_enabled" {
  description = "Feed the writer, distributor and watch functions from their queues. False in the local stack, whose runner (crates/local) plays the mappings."
  type        = bool
  default     = true
}

variable "writer_batch_size" {
  description = "Writes per writer invocation (1 to 10)."
  type        = number
  default     = 10

  validation {
    condition     = var.writer_batch_size >= 1 && var.writer_batch_size <= 10
    error_message = "The writer_batch_size must be between 1 and 10."
  }
}

variable "distributor_batch_size" {
  description = "Commits per distributor invocation (1 to 10)."
  type        = number
  default     = 10

  validation {
    condition     = var.distributor_batch_size >= 1 && var.distributor_batch_size <= 10
    error_message = "The distributor_batch_size must be between 1 and 10."
  }
}

variable "watch_batch_size" {
  description = "Watch events per watch function invocation (1 to 10)."
  type        = number
  default     = 10

  validation {
    condition     = var.watch_batch_size >= 1 && var.watch_batch_size <= 10
    error_message = "The watch_batch_size must be between 1 and 10."
  }
}

variable "heartbeat_enabled" {
  description = "Deploy the heartbeat function (needs heartbeat_zip_path)."
  type        = bool
  default     = false
}

variable "heartbeat_schedule_enabled" {
  description = "Run the heartbeat on heartbeat_schedule_expression (EventBridge). False in the local stack, whose runner schedules it."
  type        = bool
  default     = true
}

variable "heartbeat_schedule_expression" {
  description = "When the heartbeat runs."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition     = can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", var.heartbeat_schedule_expression))
    error_message = "The heartbeat_schedule_expression must be rate(N unit) or cron(...)."
  }
}

variable "heartbeat_maximum_retry_attempts" {
  description = "Retries of a failed heartbeat run (0 to 2; EventBridge invokes it asynchronously). 0: the next scheduled run is the retry, and a retry would only overlap it; a run that failed for good is recorded in `<name>-heartbeat-failures` (alarmed)."
  type        = number
  default     = 0

  validation {
    condition     = contains([0, 1, 2], var.heartbeat_maximum_retry_attempts)
    error_message = "The heartbeat_maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "heartbeat_maximum_event_age_in_seconds" {
  description = "How long a heartbeat event may wait for a run (60 to 21600 s; Lambda queues asynchronous events, e.g. while throttled) before it is dropped to `<name>-heartbeat-failures`. 60: a run older than the 1-minute schedule is superseded by the next one; raise it with a slower schedule."
  type        = number
  default     = 60

  validation {
    condition     = var.heartbeat_maximum_event_age_in_seconds >= 60 && var.heartbeat_maximum_event_age_in_seconds <= 21600 && floor(var.heartbeat_maximum_event_age_in_seconds) == var.heartbeat_maximum_event_age_in_seconds
    error_message = "The heartbeat_maximum_event_age_in_seconds must be a whole number from 60 to 21600."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency by function (keys writer, distributor, watch, heartbeat); a function left out, or -1, is unreserved, 0 stops it. A reservation is also a cap: below the number of active message groups (sessions, for the writer), messages wait or, throttled, count towards max_receive_count."
  type        = map(number)
  default     = {}

  validation {
    condition = alltrue([
      for f, n in var.reserved_concurrent_executions :
      contains(["writer", "distributor", "watch", "heartbeat"], f) && n >= -1 && floor(n) == n
    ])
    error_message = "The reserved_concurrent_executions keys must be writer, distributor, watch or heartbeat, and each value a whole number, -1 (unreserved) or more."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a managed policy set as the permissions boundary of every IAM role created here (the functions' execution roles), if the account requires one; null: none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:[a-z-]+:iam::([0-9]{12}|aws):policy/.+", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM managed policy ARN (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "distributor_vpc_subnet_ids" {
  description = "Subnets of the distributor, to reach a Redis user store in a VPC (they need routes to SQS and DynamoDB)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.distributor_vpc_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "The distributor_vpc_subnet_ids must be subnet ids (subnet-…)."
  }
}

variable "distributor_vpc_security_group_ids" {
  description = "Security groups of the distributor when distributor_vpc_subnet_ids is set."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.distributor_vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "The distributor_vpc_security_group_ids must be security group ids (sg-…)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key (ARN) that encrypts the DynamoDB tables, every queue here, the functions' environment variables and new objects of the S3 user bucket (SSE-KMS with a bucket key); the functions' roles and client_policy_json get kms:Decrypt and kms:GenerateDataKey on it. Null: AWS managed keys (aws/dynamodb, alias/aws/sqs, aws/lambda) and SSE-S3. Its key policy must let the account's principals use it."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key (ARN) that encrypts the functions' log groups; its key policy must allow the logs.<region>.amazonaws.com service principal. Null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/", var.log_kms_key_arn))
    error_message = "The log_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "kms_key_arns" {
  description = "Further customer managed KMS keys the functions and clients must be allowed to use (kms_key_arn is added by itself); empty with AWS managed keys (the default)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.kms_key_arns : can(regex("^arn:[a-z-]+:kms:", k))])
    error_message = "The kms_key_arns must be KMS key ARNs."
  }
}

variable "log_retention_in_days" {
  description = "Days CloudWatch Logs keeps the functions' logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_in_days)
    error_message = "The log_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, …, 3653)."
  }
}

variable "metrics_enabled" {
  description = "Count the lean transport's fallbacks (calls the AWS SDK made again after a lean call got no answer the function takes) as CloudWatch metrics: a log metric filter on the writer's, distributor's and watch function's log groups, and a widget on the dashboard."
  type        = bool
  default     = true
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics metrics_enabled creates (<function name>-LeanFallbacks)."
  type        = string
  default     = "FaaSKeeper"

  validation {
    condition     = length(var.metrics_namespace) > 0 && length(var.metrics_namespace) <= 255 && !can(regex("^AWS/", var.metrics_namespace))
    error_message = "The metrics_namespace must be 1 to 255 characters and not start with \"AWS/\" (reserved for AWS's own)."
  }
}

variable "alarms_enabled" {
  description = "Create the alarms: DLQ depth, heartbeat failures, distributor backlog, function errors."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "ARNs (SNS topics, …, at most 5) notified when any alarm here goes to ALARM and back to OK. WARNING: empty (the default) means the alarms change state in CloudWatch and notify nobody; give an SNS topic in production."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alarm_actions) <= 5 && alltrue([for a in var.alarm_actions : can(regex("^arn:[a-z-]+:", a))])
    error_message = "The alarm_actions must be at most 5 ARNs (CloudWatch's limit per alarm state)."
  }
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}
