variable "system_table_arn" {
  description = "ARN of the system table."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:dynamodb:", var.system_table_arn))
    error_message = "The system_table_arn must be a DynamoDB table ARN."
  }
}

variable "sessions_table_arn" {
  description = "ARN of the sessions table."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:dynamodb:", var.sessions_table_arn))
    error_message = "The sessions_table_arn must be a DynamoDB table ARN."
  }
}

variable "writer_queue_arn" {
  description = "ARN of the writer FIFO queue."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sqs:", var.writer_queue_arn))
    error_message = "The writer_queue_arn must be an SQS queue ARN."
  }
}

variable "writer_dlq_arn" {
  description = "ARN of the writer's dead-letter queue."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sqs:", var.writer_dlq_arn))
    error_message = "The writer_dlq_arn must be an SQS queue ARN."
  }
}

variable "distributor_queue_arn" {
  description = "ARN of the distributor FIFO queue."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sqs:", var.distributor_queue_arn))
    error_message = "The distributor_queue_arn must be an SQS queue ARN."
  }
}

variable "distributor_dlq_arn" {
  description = "ARN of the distributor's dead-letter queue."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sqs:", var.distributor_dlq_arn))
    error_message = "The distributor_dlq_arn must be an SQS queue ARN."
  }
}

variable "watch_queue_arn" {
  description = "ARN of the watch FIFO queue (the distributor sends to it, the watch function consumes it)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sqs:", var.watch_queue_arn))
    error_message = "The watch_queue_arn must be an SQS queue ARN."
  }
}

variable "watch_dlq_arn" {
  description = "ARN of the watch function's dead-letter queue."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sqs:", var.watch_dlq_arn))
    error_message = "The watch_dlq_arn must be an SQS queue ARN."
  }
}

variable "heartbeat_failure_queue_arn" {
  description = "ARN of the heartbeat's on-failure destination queue, which Lambda sends to as the heartbeat's role; null: none."
  type        = string
  default     = null

  validation {
    condition     = var.heartbeat_failure_queue_arn == null || can(regex("^arn:[a-z-]+:sqs:", var.heartbeat_failure_queue_arn))
    error_message = "The heartbeat_failure_queue_arn must be an SQS queue ARN."
  }
}

variable "reply_queue_prefix" {
  description = "Name prefix of the clients' reply queues (`<name>-reply-`)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.reply_queue_prefix))
    error_message = "The reply_queue_prefix must be a queue name prefix (letters, digits, '-', '_')."
  }
}

variable "user_store_kind" {
  description = "Where node data lives: s3, dynamodb or redis (Redis is reached over the network: no IAM, but its users' passwords may be Secrets Manager secrets)."
  type        = string

  validation {
    condition     = contains(["s3", "dynamodb", "redis"], var.user_store_kind)
    error_message = "The user_store_kind must be s3, dynamodb or redis."
  }
}

variable "user_bucket_arn" {
  description = "ARN of the user bucket (user_store_kind = s3)."
  type        = string
  default     = null

  validation {
    condition     = var.user_bucket_arn == null || can(regex("^arn:[a-z-]+:s3:", var.user_bucket_arn))
    error_message = "The user_bucket_arn must be an S3 bucket ARN."
  }
}

variable "user_table_arn" {
  description = "ARN of the user table (user_store_kind = dynamodb)."
  type        = string
  default     = null

  validation {
    condition     = var.user_table_arn == null || can(regex("^arn:[a-z-]+:dynamodb:", var.user_table_arn))
    error_message = "The user_table_arn must be a DynamoDB table ARN."
  }
}

variable "redis_password_secret_arn" {
  description = "Secrets Manager secret with the password of the Redis user the distributor connects as (user_store_kind = redis); the distributor gets secretsmanager:GetSecretValue on it. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.redis_password_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:", var.redis_password_secret_arn))
    error_message = "The redis_password_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "redis_client_password_secret_arn" {
  description = "Secrets Manager secret with the password of the Redis user clients read as (user_store_kind = redis); the client policy gets secretsmanager:GetSecretValue on it. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.redis_client_password_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:", var.redis_client_password_secret_arn))
    error_message = "The redis_client_password_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "function_names" {
  description = "Names of the functions, for their log groups' ARNs."
  type = object({
    writer      = string
    distributor = string
    watch       = string
    heartbeat   = string
  })

  validation {
    condition     = alltrue([for f, n in var.function_names : can(regex("^[A-Za-z0-9_-]{1,64}$", n))])
    error_message = "Every function name must be 1 to 64 letters, digits, '-' or '_'."
  }
}

variable "vpc_enabled" {
  description = "The distributor runs in VPC subnets (to reach a Redis user store): add the network-interface permissions Lambda needs."
  type        = bool
  default     = false
}

variable "xray_enabled" {
  description = "Let every function send trace segments to X-Ray (active tracing, or a collector layer exporting to X-Ray)."
  type        = bool
  default     = false
}

variable "kms_key_arns" {
  description = "Customer managed KMS keys of the tables, queues, function environments, user bucket or Redis password secrets that every principal here must use (kms:Decrypt, kms:GenerateDataKey); empty with AWS managed keys."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.kms_key_arns : can(regex("^arn:[a-z-]+:kms:", k))])
    error_message = "The kms_key_arns must be KMS key ARNs."
  }
}
