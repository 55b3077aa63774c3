variable "region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region name, e.g. us-east-1."
  }
}

variable "name" {
  description = "Deployment name: every resource name starts with it."
  type        = string
  default     = "faaskeeper"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,39}$", var.name))
    error_message = "The name must be 3 to 40 lowercase letters, digits and '-', starting with a letter or digit."
  }
}

variable "vpc_id" {
  description = "VPC of Redis and the distributor."
  type        = string

  validation {
    condition     = can(regex("^vpc-", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-…)."
  }
}

variable "subnet_ids" {
  description = "Private subnets (two or more zones) of Redis and the distributor, with routes to SQS and DynamoDB."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-", s))])
    error_message = "The subnet_ids must be one or more subnet ids (subnet-…)."
  }
}

variable "client_security_group_ids" {
  description = "Security groups of the client applications, admitted to Redis."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.client_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "The client_security_group_ids must be security group ids (sg-…)."
  }
}

variable "redis_url" {
  description = "An existing Redis server (redis:// or rediss://) instead of a new ElastiCache replication group; null: create one, with RBAC users whose passwords are in Secrets Manager."
  type        = string
  default     = null

  validation {
    condition     = var.redis_url == null || can(regex("^rediss?://", var.redis_url))
    error_message = "The redis_url must start with redis:// or rediss://."
  }
}

variable "redis_read_url" {
  description = "With redis_url: the same server as a read-only user, for clients; null: clients use redis_url."
  type        = string
  default     = null

  validation {
    condition     = var.redis_read_url == null || can(regex("^rediss?://", var.redis_read_url))
    error_message = "The redis_read_url must start with redis:// or rediss://."
  }
}

variable "redis_password_secret_arn" {
  description = "With redis_url: a Secrets Manager secret holding the password of redis_url's user (the distributor may read it); null: the URL carries its password, or none."
  type        = string
  default     = null

  validation {
    condition     = var.redis_password_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.redis_password_secret_arn))
    error_message = "The redis_password_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "redis_read_password_secret_arn" {
  description = "With redis_read_url: a Secrets Manager secret holding the password of redis_read_url's user (the client policy may read it); null: none."
  type        = string
  default     = null

  validation {
    condition     = var.redis_read_password_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.redis_read_password_secret_arn))
    error_message = "The redis_read_password_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "redis_read_from_replicas" {
  description = "Give clients the replication group's reader endpoint instead of the primary. Replicas lag: a client may miss its own latest write (see modules/user-storage-redis)."
  type        = bool
  default     = false
}

variable "redis_restore_snapshot_name" {
  description = "An ElastiCache snapshot the new replication group starts from (moving a deployment's data over, README); read only when the group is created."
  type        = string
  default     = null
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t3.micro"

  validation {
    condition     = can(regex("^cache\\.", var.redis_node_type))
    error_message = "The redis_node_type must be an ElastiCache node type (cache.*)."
  }
}

variable "redis_nodes" {
  description = "Nodes of the replication group (2 or more: automatic failover and Multi-AZ)."
  type        = number
  default     = 2

  validation {
    condition     = var.redis_nodes >= 1 && var.redis_nodes <= 6
    error_message = "The redis_nodes must be between 1 and 6."
  }
}

variable "package_dir" {
  description = "Where `make package` put <binary>/bootstrap.zip."
  type        = string
  default     = "../../../target/lambda"

  validation {
    condition     = fileexists("${var.package_dir}/fk-writer/bootstrap.zip")
    error_message = "The package_dir must hold fk-writer/bootstrap.zip (and the other functions' zips): run `make package` first."
  }
}

variable "runtime" {
  description = "Lambda runtime (provided.al2023; provided.al2 with AWS provider < 5.27)."
  type        = string
  default     = "provided.al2023"

  validation {
    condition     = contains(["provided.al2023", "provided.al2"], var.runtime)
    error_message = "The runtime must be provided.al2023 or provided.al2."
  }
}

variable "function_memory_size" {
  description = "Memory of every function, in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.function_memory_size >= 128 && var.function_memory_size <= 10240
    error_message = "The function_memory_size must be between 128 and 10240 MB."
  }
}

variable "function_timeout" {
  description = "Timeout of every function, in seconds (the queues' visibility timeout is 6 times it)."
  type        = number
  default     = 30

  validation {
    condition     = var.function_timeout >= 1 && var.function_timeout <= 900
    error_message = "The function_timeout must be between 1 and 900 seconds."
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

variable "heartbeat_enabled" {
  description = "Deploy the heartbeat function (fk-heartbeat in package_dir) and its EventBridge schedule, which expire silent sessions."
  type        = bool
  default     = true
}

variable "log_retention_in_days" {
  description = "Days CloudWatch Logs keeps the functions' logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_in_days)
    error_message = "The log_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, …, 3653)."
  }
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic; at most 5) notified when any alarm goes to ALARM and back to OK. WARNING: empty (the default) means the alarms notify nobody; set an SNS topic (example.tfvars)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alarm_actions) <= 5 && alltrue([for a in var.alarm_actions : can(regex("^arn:[a-z-]+:", a))])
    error_message = "The alarm_actions must be at most 5 ARNs (CloudWatch's limit per alarm state)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}

variable "otlp_endpoint" {
  description = "OpenTelemetry collector (OTLP/HTTP) the functions send traces to; null: no tracing."
  type        = string
  default     = null

  validation {
    condition     = var.otlp_endpoint == null || can(regex("^https?://", var.otlp_endpoint))
    error_message = "The otlp_endpoint must be an http(s) URL."
  }
}

variable "collector_layer_arn" {
  description = "An OpenTelemetry collector Lambda layer version ARN (ADOT or opentelemetry-lambda, for your region); the functions export to it and it forwards to collector_exporter. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.collector_layer_arn == null || can(regex("^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.collector_layer_arn))
    error_message = "The collector_layer_arn must be a layer version ARN."
  }
}

variable "collector_exporter" {
  description = "Where the collector layer sends traces: xray, or otlp (the backend at otlp_endpoint)."
  type        = string
  default     = "xray"

  validation {
    condition     = contains(["xray", "otlp"], var.collector_exporter)
    error_message = "The collector_exporter must be xray or otlp."
  }
}

variable "xray_tracing" {
  description = "X-Ray active tracing of every function."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "Managed policy ARN set as the permissions boundary of every IAM role the stack creates, if the account requires one; null: none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:[a-z-]+:iam::([0-9]{12}|aws):policy/.+", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM managed policy ARN (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency by function (writer, distributor, watch, heartbeat); left out or -1: unreserved. A reservation is also a cap (see modules/faaskeeper)."
  type        = map(number)
  default     = {}

  validation {
    condition = alltrue([
      for f, n in var.reserved_concurrent_executions :
      contains(["writer", "distributor", "watch", "heartbeat"], f) && n >= -1 && floor(n) == n
    ])
    error_message = "The reserved_concurrent_executions keys must be writer, distributor, watch or heartbeat, and each value a whole number, -1 (unreserved) or more."
  }
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection of the system and sessions tables: `terraform destroy` fails until it is set false and applied."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer managed KMS key ARN for the tables, queues and function environments (the roles and the client policy get kms:Decrypt and kms:GenerateDataKey on it), and for the ElastiCache replication group and password secrets created here (its key policy must allow ElastiCache and Secrets Manager; a new key replaces the group and loses its nodes: set it before creating); null: AWS managed keys."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key ARN for the functions' log groups (its key policy must allow logs.<region>.amazonaws.com); null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/", var.log_kms_key_arn))
    error_message = "The log_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}
