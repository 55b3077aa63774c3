# One function: its role (with the least-privilege policy the caller passes,
# see ../iam), its log group, the Lambda function from a zip built by
# `make package`, optionally the SQS event source mapping that feeds it or
# the settings of its asynchronous invocations (retries, event age, an
# on-failure destination), and an alarm on its errors.

data "aws_region" "current" {}

locals {
  # IAM names are global to the account, Lambda's are regional: the role
  # carries the region, so that the same deployment name can run in two
  # regions of one account. At most 64 characters: a name that would be
  # longer keeps its start and gets a hash of the whole function name, so
  # it stays unique and the same from plan to plan.
  region         = data.aws_region.current.name
  role_name_full = "${var.function_name}-${local.region}"
  role_name = length(local.role_name_full) <= 64 ? local.role_name_full : format(
    "%s-%s-%s",
    substr(var.function_name, 0, 64 - length(local.region) - 10),
    substr(sha1(var.function_name), 0, 8),
    local.region,
  )

  errors_alarm_description = var.async_invoke_config_enabled ? (
    "The ${var.function_name} function failed; Lambda retries an event ${var.async_maximum_retry_attempts} times, then records it at its on-failure destination."
  ) : "The ${var.function_name} function failed; its messages are retried and, after the queue's maxReceiveCount, dead-lettered."
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Execution role of the ${var.function_name} function (${local.region})"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary

  tags = var.tags

  # A new name (e.g. a role named before it carried the region) replaces
  # the role: the function moves to the new one before the old one goes.
  lifecycle {
    create_before_destroy = true
  }
}

# An inline policy's name is scoped to its role, so it needs no region.
resource "aws_iam_role_policy" "this" {
  name   = var.function_name
  role   = aws_iam_role.this.id
  policy = var.policy_json

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:log data is encrypted by CloudWatch Logs by default; pass log_kms_key_id for a customer managed key
  #checkov:skip=CKV_AWS_338:retention is a variable (default 30 days): function logs are for debugging, not an audit trail
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_id

  tags = var.tags
}

# The lean transport's fallbacks (crates/aws/src/lean.rs): calls the AWS SDK
# made again because a lean call got no answer the function takes. A few
# under throttling or errors are expected; a steady rate means the lean path
# is not working here, and every such call is paid twice.
resource "aws_cloudwatch_log_metric_filter" "lean_fallbacks" {
  count = var.metrics_enabled ? 1 : 0

  name           = "${var.function_name}-lean-fallbacks"
  log_group_name = aws_cloudwatch_log_group.this.name
  pattern        = "{ $.fields.lean_fallbacks > 0 }"

  metric_transformation {
    name      = "${var.function_name}-LeanFallbacks"
    namespace = var.metrics_namespace
    value     = "$.fields.lean_fallbacks"
  }
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_50:traces go through OpenTelemetry (observability/); tracing_mode = "Active" turns X-Ray on
  #checkov:skip=CKV_AWS_115:reserved_concurrent_executions is an input, unreserved (-1) by default: a reservation takes capacity from the account's pool, and queue-fed functions are already bounded by their FIFO message groups
  #checkov:skip=CKV_AWS_116:queue-fed functions dead-letter through their queue's redrive policy; an asynchronously invoked one (the heartbeat) records failed events through an on-failure destination (aws_lambda_function_event_invoke_config below), which keeps the error beside the event, unlike dead_letter_config
  #checkov:skip=CKV_AWS_117:needs a VPC only to reach a Redis user store; vpc_subnet_ids puts it in one
  #checkov:skip=CKV_AWS_173:the environment holds resource names, and for an ElastiCache store the ARN of the password secret, not the password (a redis_url given by hand may carry one, as the local stack's throwaway server does); kms_key_arn sets a customer managed key
  #checkov:skip=CKV_AWS_272:zips come from this repository's release pipeline; code signing needs an AWS Signer profile the deployment does not own
  function_name    = var.function_name
  description      = var.description
  role             = aws_iam_role.this.arn
  filename         = var.zip_path
  source_code_hash = filebase64sha256(var.zip_path)
  handler          = var.handler
  runtime          = var.runtime
  memory_size      = var.memory_size
  timeout          = var.timeout

  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn
  layers                         = var.layers

  dynamic "environment" {
    for_each = length(var.environment) > 0 ? [var.environment] : []
    content {
      variables = environment.value
    }
  }

  dynamic "vpc_config" {
    for_each = length(var.vpc_subnet_ids) > 0 ? [true] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  # The log group first, so that Lambda does not create one without retention.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_event_source_mapping" "this" {
  count = var.event_source_mapping_enabled ? 1 : 0

  event_source_arn = var.event_source_arn
  function_name    = aws_lambda_function.this.arn
  batch_size       = var.batch_size
  enabled          = true
  # Nothing else: on a FIFO queue Lambda delivers each message group in
  # order, one batch at a time, and scales with the number of groups (one
  # per session for the writer, one for the distributor). Batching windows
  # are not allowed on FIFO queues, and a partial-batch response would break
  # a group's order (the functions fail a batch from its first failure on).
}

# Asynchronous invocations (EventBridge's schedule): how often Lambda retries
# a failed event, how long an event may wait for a run, and where a record
# of an event that failed for good goes. The role must be allowed to send
# there (Lambda sends as the function's role).
resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.async_invoke_config_enabled ? 1 : 0

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_maximum_event_age_in_seconds

  dynamic "destination_config" {
    for_each = var.async_on_failure_destination_arn == null ? [] : [var.async_on_failure_destination_arn]
    content {
      on_failure {
        destination = destination_config.value
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${var.function_name}-errors"
  alarm_description   = local.errors_alarm_description
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.errors_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags
}
