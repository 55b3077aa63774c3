variable "endpoint" {
  description = "The emulator (FK_AWS_ENDPOINT from scripts/backends.sh)."
  type        = string

  validation {
    condition     = can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]+/?$", var.endpoint))
    error_message = "The endpoint must be a loopback emulator URL, http://127.0.0.1:PORT."
  }
}

variable "name" {
  description = "Deployment name: every resource name starts with it."
  type        = string
  default     = "fk-local"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,39}$", var.name))
    error_message = "The name must be 3 to 40 lowercase letters, digits and '-', starting with a letter or digit."
  }
}

variable "region" {
  description = "Region the emulator pretends to be."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region name, e.g. us-east-1."
  }
}

variable "store" {
  description = "User store: s3, dynamodb or redis (redis_url)."
  type        = string
  default     = "s3"

  validation {
    condition     = contains(["s3", "dynamodb", "redis"], var.store)
    error_message = "The store must be s3, dynamodb or redis."
  }
}

variable "redis_url" {
  description = "Redis server of store = redis (FK_REDIS_URL from scripts/backends.sh)."
  type        = string
  default     = null

  validation {
    condition     = var.redis_url == null || can(regex("^redis://", var.redis_url))
    error_message = "The redis_url must start with redis://."
  }
}

variable "redis_read_url" {
  description = "The same Redis server as the read-only user clients read as (FK_REDIS_READ_URL from scripts/backends.sh); null: redis_url."
  type        = string
  default     = null

  validation {
    condition     = var.redis_read_url == null || can(regex("^redis://", var.redis_read_url))
    error_message = "The redis_read_url must start with redis://."
  }
}

variable "package_dir" {
  description = "Where `make package-local` put <binary>/bootstrap.zip."
  type        = string
  default     = "../../../target/lambda-local"

  validation {
    condition     = fileexists("${var.package_dir}/fk-writer/bootstrap.zip")
    error_message = "The package_dir must hold fk-writer/bootstrap.zip and the other functions' zips: run `make package-local` first."
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

variable "function_timeout" {
  description = "Function timeout in seconds; the queues' visibility timeout is 2 s more (as `fk-local up`)."
  type        = number
  default     = 8

  validation {
    condition     = var.function_timeout >= 1 && var.function_timeout <= 900
    error_message = "The function_timeout must be between 1 and 900 seconds."
  }
}

variable "max_receive_count" {
  description = "Receives before a message moves to its dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "The max_receive_count must be between 1 and 1000."
  }
}
