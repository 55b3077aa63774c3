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
}

variable "region" {
  description = "Region the emulator pretends to be."
  type        = string
  default     = "us-east-1"
}

variable "store" {
  description = "User store: s3, dynamodb or redis (redis_url)."
  type        = string
  default     = "s3"
}

variable "redis_url" {
  description = "Redis server of store = redis (FK_REDIS_URL from scripts/backends.sh)."
  type        = string
  default     = null
}

variable "package_dir" {
  description = "Where `make package-local` put <binary>/bootstrap.zip."
  type        = string
  default     = "../../../target/lambda-local"
}

variable "lock_ttl_ms" {
  description = "Lifetime of a node lock (FK_LOCK_TTL_MS)."
  type        = number
  default     = 5000
}

variable "function_timeout" {
  description = "Function timeout in seconds; the queues' visibility timeout is 2 s more (as `fk-local up`)."
  type        = number
  default     = 8
}

variable "max_receive_count" {
  description = "Receives before a message moves to its dead-letter queue."
  type        = number
  default     = 5
}
