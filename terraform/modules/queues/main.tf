# The writer, distributor and watch FIFO queues, each with its dead-letter
# queue and an alarm on the DLQ's depth, optionally the heartbeat's
# failure queue (with the same alarm), and a policy on each that denies
# requests not made over TLS. Senders always give explicit
# deduplication ids (a write's token; crates/aws/src/sqs.rs), so
# content-based deduplication is off. Reply queues
# (`<name>-reply-<session>.fifo`) are created and deleted by clients at run
# time; this module only names their prefix (and sets no policy on them).

locals {
  # SQS's maximum (1 MiB): node data travels in the message, and the writer
  # and the client refuse a write whose message would be larger
  # (fk_core::message::MAX_MESSAGE_BYTES, checked against the applied queues
  # by tests/tests/terraform.rs).
  max_message_size = 1048576

  queues = {
    writer      = { visibility_timeout_seconds = var.writer_visibility_timeout_seconds }
    distributor = { visibility_timeout_seconds = var.distributor_visibility_timeout_seconds }
    watch       = { visibility_timeout_seconds = var.watch_visibility_timeout_seconds }
  }
}

resource "aws_sqs_queue" "dlq" {
  #checkov:skip=CKV2_AWS_73:encrypted with the AWS managed key alias/aws/sqs by default (no key policy to keep in step with reply queues' senders); kms_master_key_id takes a customer managed key
  for_each = local.queues

  name                        = "${var.name}-${each.key}-dlq.fifo"
  fifo_queue                  = true
  content_based_deduplication = false
  message_retention_seconds   = var.dlq_message_retention_seconds
  max_message_size            = local.max_message_size
  kms_master_key_id           = var.kms_master_key_id

  tags = var.tags
}

resource "aws_sqs_queue" "this" {
  #checkov:skip=CKV2_AWS_73:encrypted with the AWS managed key alias/aws/sqs by default; kms_master_key_id takes a customer managed key
  for_each = local.queues

  name                        = "${var.name}-${each.key}.fifo"
  fifo_queue                  = true
  content_based_deduplication = false
  # High-throughput FIFO: SQS's quota (300 calls/s, 3,000 messages with
  # batches) applies per message group rather than to the whole queue. The
  # writer queue has a group per session, so clients are not held to 300
  # writes/s together; the distributor queue's one group carries ten writes
  # a call (docs/write-path.md, "Group commit"). Deduplication ids are
  # unique within their group (tokens), so its scope changes nothing.
  # (Provider 3.39, the emulator copy's, predates both arguments.)
  deduplication_scope        = "messageGroup"      # aws>=5
  fifo_throughput_limit      = "perMessageGroupId" # aws>=5
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  max_message_size           = local.max_message_size
  kms_master_key_id          = var.kms_master_key_id

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  for_each = var.alarms_enabled ? local.queues : {}

  alarm_name          = "${var.name}-${each.key}-dlq-not-empty"
  alarm_description   = "Messages in ${aws_sqs_queue.dlq[each.key].name} failed ${var.max_receive_count} times or could not be read (see their fk_error attribute)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags
}

# A commit waiting longer than a node lock lives can lose its locks to a
# later write and fail with OperationTimeout: warn well before that.
resource "aws_cloudwatch_metric_alarm" "distributor_age" {
  count = var.alarms_enabled && var.distributor_age_alarm_seconds != null ? 1 : 0

  alarm_name          = "${var.name}-distributor-backlog"
  alarm_description   = "The oldest commit in ${aws_sqs_queue.this["distributor"].name} waited over ${var.distributor_age_alarm_seconds} s; past the lock lifetime, writes start failing with OperationTimeout."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.this["distributor"].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.distributor_age_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags
}

# Where Lambda records a heartbeat run that failed for good (an on-failure
# destination of its asynchronous invocations, see ../function). Standard,
# not FIFO: Lambda does not deliver to FIFO destinations. Nothing reads it
# but operators; a missed run is repeated by the next scheduled one.
resource "aws_sqs_queue" "heartbeat_failures" {
  #checkov:skip=CKV2_AWS_73:encrypted with the AWS managed key alias/aws/sqs by default; kms_master_key_id takes a customer managed key
  count = var.heartbeat_failure_queue_enabled ? 1 : 0

  name                      = "${var.name}-heartbeat-failures"
  message_retention_seconds = var.dlq_message_retention_seconds
  kms_master_key_id         = var.kms_master_key_id

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "heartbeat_failures" {
  count = var.alarms_enabled && var.heartbeat_failure_queue_enabled ? 1 : 0

  alarm_name          = "${var.name}-heartbeat-failures-not-empty"
  alarm_description   = "Heartbeat runs failed for good (records in ${aws_sqs_queue.heartbeat_failures[0].name}); until one succeeds, expired sessions stay open and their ephemeral nodes stay."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.heartbeat_failures[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags
}

# TLS only, like the S3 user store's bucket policy: every SQS action is
# denied to a request not made over HTTPS, whoever makes it. Allows come
# from IAM (../iam), so the policy holds no Allow. The clients' reply queues
# are created at run time and are not Terraform's: they get no policy here.
locals {
  tls_only_queues = merge(
    { for k, q in aws_sqs_queue.this : k => { url = q.id, arn = q.arn } if var.deny_insecure_transport },
    { for k, q in aws_sqs_queue.dlq : "${k}-dlq" => { url = q.id, arn = q.arn } if var.deny_insecure_transport },
    { for q in aws_sqs_queue.heartbeat_failures : "heartbeat-failures" => { url = q.id, arn = q.arn } if var.deny_insecure_transport },
  )
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.tls_only_queues

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"] # every action: a deny of plain-HTTP requests
    resources = [each.value.arn]

    principals {
      type        = "*"
      identifiers = ["*"] # everyone: this is a deny
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "tls_only" {
  for_each = local.tls_only_queues

  queue_url = each.value.url
  policy    = data.aws_iam_policy_document.tls_only[each.key].json
}
