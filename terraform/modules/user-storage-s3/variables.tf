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

variable "tags" {
  description = "Tags of the bucket."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}
