# Least-privilege policy documents, one per function and one for clients,
# derived from the calls the code makes (crates/aws: system/, user/, sqs.rs;
# lambdas/*; crates/client). Only data sources: the function module attaches
# a function's document to its role; an application attaches
# client_policy_json to its own role or user.
#
# DynamoDB's TransactWriteItems is authorised per item action (the
# distributor's commit is Update and Delete items), so it has no action of
# its own here. DeleteMessageBatch is authorised by sqs:DeleteMessage.
#
# Every statement is listed in `local.statements` and rendered by one data
# source, so that each function's policy reads as a table.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  # Clients create and delete their own reply queues at run time
  # (`<prefix><session>.fifo`), so the only name known here is the prefix:
  # a trailing `*` is the narrowest ARN that covers them.
  reply_queues_arn = "arn:${local.partition}:sqs:${local.region}:${local.account}:${var.reply_queue_prefix}*"

  # Lambda names a function's log streams at run time; `:*` after the log
  # group (created by ../function) is the narrowest ARN that covers them.
  log_streams_arn = {
    for f, name in var.function_names :
    f => "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${name}:*"
  }

  s3       = var.user_store_kind == "s3"
  dynamodb = var.user_store_kind == "dynamodb"
  # Node objects are keyed `n<path>` (crates/aws/src/user/s3.rs): every node,
  # and nothing else in the bucket, is under `n/*`.
  user_objects_arn = "${var.user_bucket_arn == null ? "" : var.user_bucket_arn}/n/*"

  # What Lambda needs to attach a function to VPC subnets.
  eni_actions = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
  ]

  consume = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]

  logs = { for f, arn in local.log_streams_arn : f => [{
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [arn]
  }] }

  kms = length(var.kms_key_arns) == 0 ? [] : [{
    sid       = "CustomerManagedKeys"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = var.kms_key_arns
  }]

  # The password of a Redis user (ElastiCache RBAC), kept in Secrets
  # Manager and read at start-up by the principal that connects as that
  # user; if its KMS key is customer managed, it is among kms_key_arns
  # (kms:Decrypt, above). The writer and the heartbeat carry the Redis
  # variables but never open the store (and run outside its VPC).
  redis_secret_distributor = var.redis_password_secret_arn == null ? [] : [{
    sid       = "ReadRedisPassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.redis_password_secret_arn]
  }]
  redis_secret_client = var.redis_client_password_secret_arn == null ? [] : [{
    sid       = "ReadRedisPassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.redis_client_password_secret_arn]
  }]

  # Lambda's active tracing and a collector layer's X-Ray exporter send
  # segments as the function's role.
  xray = var.xray_enabled ? [{
    sid     = "XRaySegments"
    actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    # `*`: X-Ray offers no resource-level permissions for these actions
    # (AWS's AWSXRayDaemonWriteAccess grants them on `*` too).
    resources = ["*"]
  }] : []

  statements = {
    # ---- writer: lock, validate, push ---------------------------------------
    writer = concat([
      {
        sid       = "LockNodes"
        actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        resources = [var.system_table_arn]
      },
      {
        # UpdateItem: a refused write's seq is recorded as decided before the
        # client hears it (docs/write-path.md, "Exactly once").
        sid       = "ReadSessionsRecordRefusals"
        actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        resources = [var.sessions_table_arn]
      },
      {
        sid     = "PushCommitsRefuseAndDeadLetter"
        actions = ["sqs:SendMessage"]
        # The writer answers refused writes on the session's reply queue.
        resources = [var.distributor_queue_arn, var.writer_dlq_arn, local.reply_queues_arn]
      },
      {
        sid       = "EventSourceMapping"
        actions   = local.consume
        resources = [var.writer_queue_arn]
      },
    ], local.logs["writer"], local.kms, local.xray)

    # ---- distributor: commit, apply, reply, hand watches on -------------------
    distributor = concat([
      {
        sid       = "CommitNodesAndCounter"
        actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        resources = [var.system_table_arn]
      },
      {
        # GetItem: a commit whose session condition failed tells a closed
        # session from a duplicate; UpdateItem also records refusals.
        sid       = "CommitSessions"
        actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        resources = [var.sessions_table_arn]
      },
      ], local.s3 ? [
      {
        sid = "ApplyToUserBucket"
        # GetObject also covers HeadObject; a delete writes a tombstone.
        actions   = ["s3:GetObject", "s3:PutObject"]
        resources = [local.user_objects_arn]
      },
      {
        # Without it a GetObject of a missing node answers 403, not 404.
        sid       = "TellMissingNodes"
        actions   = ["s3:ListBucket"]
        resources = [var.user_bucket_arn]
      },
      ] : [], local.dynamodb ? [
      {
        sid = "ApplyToUserTable"
        # A delete writes a tombstone (PutItem); DynamoDB's TTL removes it.
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources = [var.user_table_arn]
      },
      ] : [], [
      {
        sid       = "ReplyWatchAndDeadLetter"
        actions   = ["sqs:SendMessage"]
        resources = [local.reply_queues_arn, var.watch_queue_arn, var.distributor_dlq_arn]
      },
      {
        sid       = "DiscardExpiredSessionsReplyQueues"
        actions   = ["sqs:DeleteQueue"]
        resources = [local.reply_queues_arn]
      },
      {
        sid       = "EventSourceMapping"
        actions   = local.consume
        resources = [var.distributor_queue_arn]
      },
      ], var.vpc_enabled ? [
      {
        sid     = "VpcNetworkInterfaces"
        actions = local.eni_actions
        # `*`: EC2 offers no resource-level permissions for these actions
        # (AWS's AWSLambdaVPCAccessExecutionRole grants them on `*` too).
        resources = ["*"]
      },
    ] : [], local.redis_secret_distributor, local.logs["distributor"], local.kms, local.xray)

    # ---- watch: deliver fired events to the sessions that set them ----------
    # Each event names the session's reply queue URL (lambdas/watch,
    # fk_core::watch::deliver), so sending is all it does.
    watch = concat([
      {
        sid       = "NotifySessionsAndDeadLetter"
        actions   = ["sqs:SendMessage"]
        resources = [local.reply_queues_arn, var.watch_dlq_arn]
      },
      {
        sid       = "EventSourceMapping"
        actions   = local.consume
        resources = [var.watch_queue_arn]
      },
    ], local.logs["watch"], local.kms, local.xray)

    # ---- heartbeat: find expired sessions, close them through the writer ----
    heartbeat = concat([
      {
        sid       = "ScanSessions"
        actions   = ["dynamodb:Scan"]
        resources = [var.sessions_table_arn]
      },
      {
        sid       = "SendSessionCloses"
        actions   = ["sqs:SendMessage"]
        resources = [var.writer_queue_arn]
      },
      ], var.heartbeat_failure_queue_arn == null ? [] : [
      {
        # Lambda records a run that failed for good at the heartbeat's
        # on-failure destination, sending as the function's role.
        sid       = "RecordFailedRuns"
        actions   = ["sqs:SendMessage"]
        resources = [var.heartbeat_failure_queue_arn]
      },
    ], local.logs["heartbeat"], local.kms, local.xray)

    # ---- clients (crates/client): what an application's role needs ----------
    client = concat([
      {
        # GetQueueAttributes: connect checks that the queue exists
        # (crates/aws/src/probe.rs), so a wrong URL fails there, named.
        sid       = "SendWrites"
        actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
        resources = [var.writer_queue_arn]
      },
      {
        sid       = "OwnReplyQueue"
        actions   = ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
        resources = [local.reply_queues_arn]
      },
      {
        # Open (PutItem), keep alive (UpdateItem), getEphemerals (GetItem).
        sid       = "OwnSession"
        actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"]
        resources = [var.sessions_table_arn]
      },
      {
        # A watched read registers its one-shot watch on the node's system
        # item, and removeWatches removes it (conditional UpdateItems,
        # crates/aws/src/system/mod.rs). Not narrowed by the
        # dynamodb:Attributes condition key: the request also reads and
        # removes the lock attributes, and moto, where this is tested, does
        # not enforce IAM. A client can update any attribute of a node's
        # system item (README, "One grant is wider than its use").
        sid       = "RegisterWatches"
        actions   = ["dynamodb:UpdateItem"]
        resources = [var.system_table_arn]
      },
      ], local.s3 ? [
      {
        sid       = "ReadUserBucket"
        actions   = ["s3:GetObject"]
        resources = [local.user_objects_arn]
      },
      {
        # Without it a GetObject of a missing node answers 403, not 404.
        sid       = "TellMissingNodes"
        actions   = ["s3:ListBucket"]
        resources = [var.user_bucket_arn]
      },
      ] : [], local.dynamodb ? [
      {
        sid       = "ReadUserTable"
        actions   = ["dynamodb:GetItem"]
        resources = [var.user_table_arn]
      },
    ] : [], local.redis_secret_client, local.kms)
  }
}

data "aws_iam_policy_document" "this" {
  for_each = local.statements

  dynamic "statement" {
    for_each = each.value
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}
