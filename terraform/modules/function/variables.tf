variable "function_name" {
  description = "Name of the function, of its log group (`/aws/lambda/<function_name>`) and of its role with the region added (`<function_name>-<region>`, shortened with a hash past IAM's 64 characters)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "The function_name must be 1 to 64 letters, digits, '-' or '_'."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "The description must be at most 256 characters."
  }
}

variable "zip_path" {
  description = "Path of the deployment package: a zip holding the executable `bootstrap` (`make package` builds them in target/lambda/<binary>/bootstrap.zip)."
  type        = string

  validation {
    condition     = can(regex("\\.zip$", var.zip_path))
    error_message = "The zip_path must name a .zip file."
  }
}

variable "runtime" {
  description = "Lambda runtime. provided.al2023 is current; AWS provider 3.39 (the offline checks) only knows provided.al2."
  type        = string
  default     = "provided.al2023"

  validation {
    condition     = contains(["provided.al2023", "provided.al2"], var.runtime)
    error_message = "The runtime must be provided.al2023 or provided.al2 (the functions are native binaries)."
  }
}

variable "handler" {
  description = "Handler; custom runtimes ignore it, by convention `bootstrap`."
  type        = string
  default     = "bootstrap"

  validation {
    condition     = length(var.handler) >= 1 && length(var.handler) <= 128
    error_message = "The handler must be 1 to 128 characters."
  }
}

variable "memory_size" {
  description = "Memory in MB (CPU grows with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "The memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds. The feeding queue's visibility timeout must be longer."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "The timeout must be between 1 and 900 seconds."
  }
}

variable "environment" {
  description = "Environment variables of the function (crates/aws/src/env.rs names them)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.environment : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k))])
    error_message = "Environment variable names must be letters, digits and '_', starting with a letter."
  }
}

variable "policy_json" {
  description = "The role's inline policy (JSON), least privilege: one of ../iam's outputs."
  type        = string

  validation {
    condition     = can(jsondecode(var.policy_json).Statement)
    error_message = "The policy_json must be an IAM policy document with a Statement."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a managed policy set as the role's permissions boundary, if the account requires one; null: none."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:[a-z-]+:iam::([0-9]{12}|aws):policy/.+", var.role_permissions_boundary))
    error_message = "The role_permissions_boundary must be an IAM managed policy ARN (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "log_retention_in_days" {
  description = "Days CloudWatch Logs keeps the function's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_in_days)
    error_message = "The log_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)."
  }
}

variable "log_kms_key_id" {
  description = "KMS key ARN that encrypts the log group; null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_id == null || can(regex("^arn:[a-z-]+:kms:", var.log_kms_key_id))
    error_message = "The log_kms_key_id must be a KMS key ARN."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN that encrypts the environment variables; null uses the AWS managed key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; -1 leaves it unreserved, 0 stops every invocation. Order never depends on it: FIFO message groups do."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "The reserved_concurrent_executions must be a whole number, -1 (unreserved) or more."
  }
}

variable "async_invoke_config_enabled" {
  description = "Configure asynchronous invocations (a schedule's): async_maximum_retry_attempts, async_maximum_event_age_in_seconds and async_on_failure_destination_arn. False: Lambda's defaults (2 retries, 6 hours, no destination)."
  type        = bool
  default     = false
}

variable "async_maximum_retry_attempts" {
  description = "Retries of an asynchronous event whose run failed (0 to 2), when async_invoke_config_enabled."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_maximum_retry_attempts)
    error_message = "The async_maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "async_maximum_event_age_in_seconds" {
  description = "How long an asynchronous event may wait for a run (60 to 21600 s) before Lambda discards it (to the on-failure destination), when async_invoke_config_enabled."
  type        = number
  default     = 21600

  validation {
    condition     = var.async_maximum_event_age_in_seconds >= 60 && var.async_maximum_event_age_in_seconds <= 21600 && floor(var.async_maximum_event_age_in_seconds) == var.async_maximum_event_age_in_seconds
    error_message = "The async_maximum_event_age_in_seconds must be a whole number from 60 to 21600."
  }
}

variable "async_on_failure_destination_arn" {
  description = "Where Lambda records an asynchronous event that failed for good: a standard (not FIFO) SQS queue, SNS topic, Lambda function or EventBridge bus ARN that policy_json lets the role send to; null: none."
  type        = string
  default     = null

  validation {
    condition     = var.async_on_failure_destination_arn == null || can(regex("^arn:[a-z-]+:(sqs|sns|lambda|events):", var.async_on_failure_destination_arn))
    error_message = "The async_on_failure_destination_arn must be an SQS queue, SNS topic, Lambda function or EventBridge bus ARN."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: PassThrough (off unless the caller traces) or Active (needs xray:PutTraceSegments in policy_json)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "The tracing_mode must be PassThrough or Active."
  }
}

variable "layers" {
  description = "Lambda layer version ARNs (at most 5), e.g. an OpenTelemetry collector and its configuration."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.layers) <= 5 && alltrue([for l in var.layers : can(regex("^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", l))])
    error_message = "The layers must be at most 5 layer version ARNs (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets to run in (to reach a Redis user store); empty runs outside any VPC. They need routes to SQS and DynamoDB (NAT or VPC endpoints)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "The vpc_subnet_ids must be subnet ids (subnet-…)."
  }
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function when vpc_subnet_ids is set."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "The vpc_security_group_ids must be security group ids (sg-…)."
  }
}

variable "event_source_mapping_enabled" {
  description = "Feed the function from event_source_arn (an SQS queue). False for scheduled functions and for the local stack, whose runner plays the mapping."
  type        = bool
  default     = false
}

variable "event_source_arn" {
  description = "ARN of the SQS FIFO queue that feeds the function, when event_source_mapping_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.event_source_arn == null || can(regex("^arn:[a-z-]+:sqs:", var.event_source_arn))
    error_message = "The event_source_arn must be an SQS queue ARN."
  }
}

variable "batch_size" {
  description = "Messages per invocation from the queue (a FIFO queue allows 1 to 10)."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10
    error_message = "The batch_size must be between 1 and 10 (SQS FIFO)."
  }
}

variable "metrics_enabled" {
  description = "Turn the function's \"handled\" log lines into CloudWatch metrics (a metric filter on its log group): LeanFallbacks, the calls the AWS SDK made again after the lean transport got no answer."
  type        = bool
  default     = true
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics metrics_enabled creates; each is named after the function (<function_name>-LeanFallbacks)."
  type        = string
  default     = "FaaSKeeper"

  validation {
    condition     = length(var.metrics_namespace) > 0 && length(var.metrics_namespace) <= 255 && !can(regex("^AWS/", var.metrics_namespace))
    error_message = "The metrics_namespace must be 1 to 255 characters and not start with \"AWS/\" (reserved for AWS's own)."
  }
}

variable "alarms_enabled" {
  description = "Create the errors alarm."
  type        = bool
  default     = true
}

variable "errors_alarm_threshold" {
  description = "Errors in 5 minutes above which the alarm fires."
  type        = number
  default     = 0

  validation {
    condition     = var.errors_alarm_threshold >= 0
    error_message = "The errors_alarm_threshold must be 0 or more."
  }
}

variable "alarm_actions" {
  description = "ARNs (SNS topics, …, at most 5) notified when the errors alarm goes to ALARM and back to OK. Empty (the default): it notifies nobody."
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
