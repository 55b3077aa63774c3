variable "name" {
  description = "Name of the rule."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.name))
    error_message = "The name must be 1 to 64 letters, digits, '.', '-' or '_'."
  }
}

variable "description" {
  description = "Description of the rule."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 512
    error_message = "The description must be at most 512 characters."
  }
}

variable "schedule_expression" {
  description = "When to run: rate(…) or cron(…)."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition     = can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", var.schedule_expression))
    error_message = "The schedule_expression must be rate(N unit) or cron(...)."
  }
}

variable "function_arn" {
  description = "ARN of the function to run."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:lambda:", var.function_arn))
    error_message = "The function_arn must be a Lambda function ARN."
  }
}

variable "function_name" {
  description = "Name of the function to run (for its invoke permission)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "The function_name must be a Lambda function name."
  }
}

variable "tags" {
  description = "Tags of the rule."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1 to 128 characters and values at most 256."
  }
}
