variable "name" {
  description = "Deployment name: queues are `<name>-writer.fifo`, `<name>-distributor.fifo`, `<name>-watch.fifo` and their `-dlq.fifo`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,39}$", var.name))
    error_message = "The name must be 3 to 40 lowercase letters, digits and '-', starting with a letter or digit."
  }
}

variable "writer_visibility_timeout_seconds" {
  description = "How long a received write stays invisible: more than the writer function's timeout (AWS advises 6 times it)."
  type        = number
  default     = 180

  validation {
    condition     = var.writer_visibility_timeout_seconds >= 1 && var.writer_visibility_timeout_seconds <= 43200
    error_message = "The visibility timeout must be between 1 and 43200 seconds."
  }
}

variable "distributor_visibility_timeout_seconds" {
  description = "How long a received commit stays invisible: more than the distributor function's timeout (AWS advises 6 times it)."
  type        = number
  default     = 180

  validation {
    condition     = var.distributor_visibility_timeout_seconds >= 1 && var.distributor_visibility_timeout_seconds <= 43200
    error_message = "The visibility timeout must be between 1 and 43200 seconds."
  }
}

variable "watch_visibility_timeout_seconds" {
  description = "How long a received watch event stays invisible: more than the watch function's timeout (AWS advises 6 times it)."
  type        = number
  default     = 180

  validation {
    condition     = var.watch_visibility_timeout_seconds >= 1 && var.watch_visibility_timeout_seconds <= 43200
    error_message = "The visibility timeout must be between 1 and 43200 seconds."
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

variable "message_retention_seconds" {
  description = "How long an unprocessed message waits in the writer, distributor and watch queues."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "The message retention must be between 60 and 1209600 seconds."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long a dead letter is kept (default and maximum: 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "The DLQ message retention must be between 60 and 1209600 seconds."
  }
}

variable "kms_master_key_id" {
  description = "KMS key of server-side encryption of every queue here: the AWS managed alias/aws/sqs by default, or a customer managed key's id, ARN or alias (its senders and consumers need kms:GenerateDataKey and kms:Decrypt on it)."
  type        = string
  default     = "alias/aws/sqs"

  validation {
    condition     = length(var.kms_master_key_id) > 0
    error_message = "Every queue is encrypted: give a KMS key (alias/aws/sqs is free of key management)."
  }
}

variable "heartbeat_failure_queue_enabled" {
  description = "Create `<name>-heartbeat-failures`, a standard queue where Lambda records heartbeat runs that failed for good (the heartbeat's on-failure destination), with the same depth alarm as the DLQs."
  type        = bool
  default     = false
}

variable "deny_insecure_transport" {
  description = "A queue policy on every queue here that denies each SQS action to requests not made over TLS. The local stack turns it off: its emulator speaks plain HTTP."
  type        = bool
  default     = true
}

variable "alarms_enabled" {
  description = "Create the DLQ-depth alarms (and the heartbeat failure queue's)."
  type        = bool
  default     = true
}

variable "distributor_age_alarm_seconds" {
  description = "Alarm when the oldest message of the distributor queue is older than this many seconds; null: no such alarm. Set it below the lock lifetime."
  type        = number
  default     = null

  validation {
    condition     = var.distributor_age_alarm_seconds == null || try(var.distributor_age_alarm_seconds >= 1, false)
    error_message = "The distributor_age_alarm_seconds must be at least 1."
  }
}

variable "alarm_actions" {
  description = "ARNs (SNS topics, …) notified when an alarm here goes to ALARM and back to OK. Empty (the default): the alarms notify nobody."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alarm_actions) <= 5 && alltrue([for a in var.alarm_actions : can(regex("^arn:[a-z-]+:", a))])
    error_message = "The alarm_actions must be at most 5 ARNs (CloudWatch's limit per alarm state)."
  }
}

variable "tags" {
  description = "Tags of every queue and alarm."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}
