variable "name" {
  description = "Deployment name: the replication group is `<name>-redis`; keys default to the prefix `<name>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,33}$", var.name))
    error_message = "The name must be 3 to 34 lowercase letters, digits and '-' (replication group ids are at most 40 characters)."
  }
}

variable "create_replication_group" {
  description = "Create an ElastiCache replication group; false passes `url` through."
  type        = bool
  default     = false
}

variable "url" {
  description = "URL of an existing Redis server (redis://host:port/), used when create_replication_group is false."
  type        = string
  default     = null

  validation {
    condition     = var.url == null || can(regex("^rediss?://", var.url))
    error_message = "The url must start with redis:// or rediss://."
  }
}

variable "prefix" {
  description = "Key prefix of the store (FK_REDIS_PREFIX); null means the deployment name."
  type        = string
  default     = null

  validation {
    condition     = var.prefix == null || can(regex("^[^\\s]{1,64}$", var.prefix))
    error_message = "The prefix must be 1 to 64 characters without spaces."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the replication group (create_replication_group only)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "The subnet_ids must be subnet ids (subnet-…)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the replication group: they must admit the functions and the clients on `port`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "The security_group_ids must be security group ids (sg-…)."
  }
}

variable "node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t3.micro"

  validation {
    condition     = can(regex("^cache\\.", var.node_type))
    error_message = "The node_type must be an ElastiCache node type (cache.*)."
  }
}

variable "engine_version" {
  description = "Redis OSS engine version, as ElastiCache spells it."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9x]+)*$", var.engine_version))
    error_message = "The engine_version must look like 7.1 or 6.2."
  }
}

variable "number_cache_clusters" {
  description = "Nodes in the group: 1 primary plus replicas; 2 or more enables automatic failover across zones."
  type        = number
  default     = 2

  validation {
    condition     = var.number_cache_clusters >= 1 && var.number_cache_clusters <= 6
    error_message = "The number_cache_clusters must be between 1 and 6."
  }
}

variable "port" {
  description = "Redis port."
  type        = number
  default     = 6379

  validation {
    condition     = var.port >= 1 && var.port <= 65535
    error_message = "The port must be between 1 and 65535."
  }
}

variable "kms_key_id" {
  description = "Customer managed KMS key for encryption at rest; null uses the AWS managed key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_id == null || can(regex("^arn:[a-z-]+:kms:", var.kms_key_id))
    error_message = "The kms_key_id must be a KMS key ARN."
  }
}

variable "transit_encryption_enabled" {
  description = "TLS between clients and Redis. Leave false until fk-aws's Redis client is built with TLS (README)."
  type        = bool
  default     = false
}

variable "snapshot_retention_limit" {
  description = "Days of daily snapshots kept (0 disables them). Node data lives only here."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_limit >= 0 && var.snapshot_retention_limit <= 35
    error_message = "The snapshot_retention_limit must be between 0 and 35."
  }
}

variable "tags" {
  description = "Tags of the replication group and its CloudFormation stack."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}
