variable "region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region name, e.g. us-east-1."
  }
}

variable "name" {
  description = "Deployment name: every resource name starts with it."
  type        = string
  default     = "faaskeeper"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,39}$", var.name))
    error_message = "The name must be 3 to 40 lowercase letters, digits and '-', starting with a letter or digit."
  }
}

variable "package_dir" {
  description = "Where `make package` put <binary>/bootstrap.zip."
  type        = string
  default     = "../../../target/lambda"

  validation {
    condition     = fileexists("${var.package_dir}/fk-writer/bootstrap.zip")
    error_message = "The package_dir must hold fk-writer/bootstrap.zip (and the other functions' zips): run `make package` first."
  }
}

variable "runtime" {
  description = "Lambda runtime (provided.al2023; provided.al2 with AWS provider < 5.27)."
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
  description = "Timeout of every function, in seconds (the queues' visibility timeout is 6 times it)."
  type        = number
  default     = 30

  validation {
    condition     = var.function_timeout >= 1 && var.function_timeout <= 900
    error_message = "The function_timeout must be between 1 and 900 seconds."
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

variable "heartbeat_enabled" {
  description = "Deploy the heartbeat function (fk-heartbeat in package_dir) and its EventBridge schedule, which expire silent sessions."
  type        = bool
  default     = true
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

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic; at most 5) notified when any alarm goes to ALARM and back to OK. WARNING: empty (the default) means the alarms notify nobody; set an SNS topic (example.tfvars)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alarm_actions) <= 5 && alltrue([for a in var.alarm_actions : can(regex("^arn:[a-z-]+:", a))])
    error_message = "The alarm_actions must be at most 5 ARNs (CloudWatch's limit per alarm state)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}

variable "user_bucket_name" {
  description = "Name of the user bucket when `<name>-user` is taken (S3 bucket names are global)."
  type        = string
  default     = null

  validation {
    condition     = var.user_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.user_bucket_name))
    error_message = "The user_bucket_name must be a valid S3 bucket name."
  }
}

variable "otlp_endpoint" {
  description = "OpenTelemetry collector (OTLP/HTTP) the functions send traces to; null: no tracing."
  type        = string
  default     = null

  validation {
    condition     = var.otlp_endpoint == null || can(regex("^https?://", var.otlp_endpoint))
    error_message = "The otlp_endpoint must be an http(s) URL."
  }
}

variable "collector_layer_arn" {
  description = "An OpenTelemetry collector Lambda layer version ARN (ADOT or opentelemetry-lambda, for your region); the functions export to it and it forwards to collector_exporter. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.collector_layer_arn == null || can(regex("^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.collector_layer_arn))
    error_message = "The collector_layer_arn must be a layer version ARN."
  }
}

variable "collector_exporter" {
  description = "Where the collector layer sends traces: xray, or otlp (the backend at otlp_endpoint)."
  type        = string
  default     = "xray"

  validation {
    condition     = contains(["xray", "otlp"], var.collector_exporter)
    error_message = "The collector_exporter must be xray or otlp."
  }
}

variable "xray_tracing" {
  description = "X-Ray active tracing of every function."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "Managed policy ARN set as the permissions boundary of every IAM role the stack creates, if the account requires one; null: none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:[a-z-]+:iam::([0-9]{12}|aws):policy/.+", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM managed policy ARN (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency by function (writer, distributor, watch, heartbeat); left out or -1: unreserved. A reservation is also a cap (see modules/faaskeeper)."
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

variable "deletion_protection" {
  description = "DynamoDB deletion protection of the tables: `terraform destroy` fails until it is set false and applied."
  type        = bool
  default     = true
}

variable "user_bucket_versioning_enabled" {
  description = "S3 versioning of the user bucket: overwritten and deleted node objects stay recoverable for user_bucket_noncurrent_version_expiration_days."
  type        = bool
  default     = true
}

variable "user_bucket_noncurrent_version_expiration_days" {
  description = "Days the user bucket keeps earlier versions of a node object (1 to 3650)."
  type        = number
  default     = 30

  validation {
    condition     = var.user_bucket_noncurrent_version_expiration_days >= 1 && var.user_bucket_noncurrent_version_expiration_days <= 3650 && floor(var.user_bucket_noncurrent_version_expiration_days) == var.user_bucket_noncurrent_version_expiration_days
    error_message = "The user_bucket_noncurrent_version_expiration_days must be a whole number from 1 to 3650."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key ARN for the tables, queues, function environments and the S3 user bucket (SSE-KMS with a bucket key; the roles and the client policy get kms:Decrypt and kms:GenerateDataKey on it); null: AWS managed keys and SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key ARN for the functions' log groups (its key policy must allow logs.<region>.amazonaws.com); null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/", var.log_kms_key_arn))
    error_message = "The log_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}
