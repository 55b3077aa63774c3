variable "name" {
  description = "Deployment name: the table is `<name>-user`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,39}$", var.name))
    error_message = "The name must be 3 to 40 lowercase letters, digits and '-', starting with a letter or digit."
  }
}

variable "point_in_time_recovery_enabled" {
  description = "Keep 35 days of continuous backups of the table."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection of the table: a delete (and `terraform destroy`) fails until it is set false and applied."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for encryption at rest; null uses the AWS managed key (aws/dynamodb)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags of the table."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}
