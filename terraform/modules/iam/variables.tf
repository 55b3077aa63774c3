variable "system_table_arn" {
  description = "ARN of the system table."
  type        = string
}

variable "sessions_table_arn" {
  description = "ARN of the sessions table."
  type        = string
}

variable "writer_queue_arn" {
  description = "ARN of the writer FIFO queue."
  type        = string
}

variable "writer_dlq_arn" {
  description = "ARN of the writer's dead-letter queue."
  type        = string
}

variable "distributor_queue_arn" {
  description = "ARN of the distributor FIFO queue."
  type        = string
}

variable "distributor_dlq_arn" {
  description = "ARN of the distributor's dead-letter queue."
  type        = string
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
  description = "Where node data lives: s3, dynamodb or redis (Redis is reached over the network: no IAM)."
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
}

variable "user_table_arn" {
  description = "ARN of the user table (user_store_kind = dynamodb)."
  type        = string
  default     = null
}

variable "function_names" {
  description = "Names of the functions, for their log groups' ARNs."
  type = object({
    writer      = string
    distributor = string
    heartbeat   = string
  })
}

variable "vpc_enabled" {
  description = "The distributor runs in VPC subnets (to reach a Redis user store): add the network-interface permissions Lambda needs."
  type        = bool
  default     = false
}

variable "kms_key_arns" {
  description = "Customer managed KMS keys of the tables, queues or bucket that every principal here must use; empty with AWS managed keys."
  type        = list(string)
  default     = []
}
