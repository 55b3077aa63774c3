variable "region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Deployment name: every resource name starts with it."
  type        = string
  default     = "faaskeeper"
}

variable "package_dir" {
  description = "Where `make package` put <binary>/bootstrap.zip."
  type        = string
  default     = "../../../target/lambda"
}

variable "runtime" {
  description = "Lambda runtime (provided.al2023; provided.al2 with AWS provider < 5.27)."
  type        = string
  default     = "provided.al2023"
}

variable "function_memory_size" {
  description = "Memory of every function, in MB."
  type        = number
  default     = 256
}

variable "function_timeout" {
  description = "Timeout of every function, in seconds (the queues' visibility timeout is 6 times it)."
  type        = number
  default     = 30
}

variable "lock_ttl_ms" {
  description = "Lifetime of a node lock in milliseconds."
  type        = number
  default     = 5000
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
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified by the DLQ and function-error alarms."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "user_bucket_name" {
  description = "Name of the user bucket when `<name>-user` is taken (S3 bucket names are global)."
  type        = string
  default     = null
}
