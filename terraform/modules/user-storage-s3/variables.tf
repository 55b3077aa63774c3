variable "name" {
  description = "Deployment name: the bucket is `<name>-user` unless bucket_name is set."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,39}$", var.name))
    error_message = "The name must be 3 to 40 lowercase letters, digits and '-', starting with a letter or digit."
  }
}

variable "bucket_name" {
  description = "Bucket name, when `<name>-user` is taken (bucket names are global)."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "The bucket_name must be a valid S3 bucket name."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a bucket that still holds nodes (their data is lost)."
  type        = bool
  default     = false
}

variable "deny_insecure_transport" {
  description = "A bucket policy that denies every request not made over TLS. The local stack turns it off: its emulator speaks plain HTTP and enforces bucket policies."
  type        = bool
  default     = true
}

variable "versioning_enabled" {
  description = "Keep earlier versions of every node object (S3 versioning): an overwrite or delete by mistake can be undone for noncurrent_version_expiration_days. False suspends versioning (S3 cannot return a bucket to unversioned)."
  type        = bool
  default     = true
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted version of a node object is kept before S3 expires it (1 to 3650). Every write leaves one such version."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "The noncurrent_version_expiration_days must be a whole number from 1 to 3650."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key (ARN) for SSE-KMS of new objects, with a bucket key; null: SSE-S3 (AES256). Writers and readers need kms:GenerateDataKey and kms:Decrypt on it (../iam grants them when ../faaskeeper's kms_key_arn is this key)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags of the bucket."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}
