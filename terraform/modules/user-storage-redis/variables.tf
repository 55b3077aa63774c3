variable "name" {
  description = "Deployment name: the replication group is `<name>-redis`, the RBAC users `fk-<name>-*`; keys default to the prefix `<name>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,33}$", var.name))
    error_message = "The name must be 3 to 34 lowercase letters, digits and '-' (replication group ids are at most 40 characters)."
  }
}

variable "url" {
  description = "URL of an existing Redis server (redis:// or rediss://, with its user and password if it has them): nothing is created, and this, read_url and the secret ARNs pass through. Null: create an ElastiCache replication group."
  type        = string
  default     = null

  validation {
    condition     = var.url == null || can(regex("^rediss?://", var.url))
    error_message = "The url must start with redis:// or rediss://."
  }
}

variable "read_url" {
  description = "With url: the same server as a read-only user, for clients; null: clients use url."
  type        = string
  default     = null

  validation {
    condition     = var.read_url == null || can(regex("^rediss?://", var.read_url))
    error_message = "The read_url must start with redis:// or rediss://."
  }
}

variable "password_secret_arn" {
  description = "With url: a Secrets Manager secret holding the password of url's user (passed through as password_secret_arn); null: none."
  type        = string
  default     = null

  validation {
    condition     = var.password_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.password_secret_arn))
    error_message = "The password_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "read_password_secret_arn" {
  description = "With read_url: a Secrets Manager secret holding the password of read_url's user (passed through as read_password_secret_arn); null: none."
  type        = string
  default     = null

  validation {
    condition     = var.read_password_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.read_password_secret_arn))
    error_message = "The read_password_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "prefix" {
  description = "Key prefix of the store (FK_REDIS_PREFIX): keys are `<prefix>:…`, and the RBAC users may touch no others. Null means the deployment name."
  type        = string
  default     = null

  validation {
    # No glob characters: the users' key pattern is `~<prefix>:*`.
    condition     = var.prefix == null || can(regex("^[^\\s*?\\[\\]\\\\]{1,64}$", var.prefix))
    error_message = "The prefix must be 1 to 64 characters without spaces or the glob characters * ? [ ] \\."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the replication group (when url is null), in two or more zones for Multi-AZ."
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
  description = "Redis OSS engine version, as ElastiCache spells it; 6.0 or newer (RBAC). The parameter group is the version's default (default.redis7, default.redis6.x)."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9x]+)*$", var.engine_version)) && try(tonumber(split(".", var.engine_version)[0]) >= 6, false)
    error_message = "The engine_version must look like 7.1 or 6.2 (6.0 or newer: RBAC users need it)."
  }
}

variable "num_cache_clusters" {
  description = "Nodes in the group: 1 primary plus replicas; 2 or more enables automatic failover and Multi-AZ."
  type        = number
  default     = 2

  validation {
    condition     = var.num_cache_clusters >= 1 && var.num_cache_clusters <= 6 && floor(var.num_cache_clusters) == var.num_cache_clusters
    error_message = "The num_cache_clusters must be a whole number from 1 to 6."
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

variable "read_from_replicas" {
  description = "Give clients the reader endpoint (the replicas) instead of the primary. Replication is asynchronous: a client may then miss its own latest write and see a node go back in time between two reads. False keeps every read on the primary."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer managed KMS key (ARN) that encrypts the replication group at rest and the password secrets; null: the AWS managed keys. ElastiCache cannot change a group's key: a new one replaces the group (and its data)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
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

variable "restore_snapshot_name" {
  description = "An ElastiCache snapshot the new replication group starts from (moving an existing deployment's data over, README); read only at creation. Null: an empty group."
  type        = string
  default     = null
}

variable "auto_minor_version_upgrade" {
  description = "Let ElastiCache apply minor engine upgrades in the maintenance window."
  type        = bool
  default     = true
}

variable "secret_recovery_window_in_days" {
  description = "Days a deleted password secret can still be restored (7 to 30), or 0 to delete at once."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_in_days == 0 || (var.secret_recovery_window_in_days >= 7 && var.secret_recovery_window_in_days <= 30)
    error_message = "The secret_recovery_window_in_days must be 0 or from 7 to 30."
  }
}

variable "tags" {
  description = "Tags of everything created here."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}
