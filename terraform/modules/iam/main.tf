# Least-privilege policy documents, one per function and one for clients,
# derived from the calls the code makes (crates/aws: system/, user/, sqs.rs;
# lambdas/*; crates/client). Only data sources: the function module attaches
# a function's document to its role; an application attaches
# client_policy_json to its own role or user.
#
# DynamoDB's TransactWriteItems is authorised per item action (the
# distributor's commit is Update and Delete items), so it has no action of
# its own here. DeleteMessageBatch is authorised by sqs:DeleteMessage.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  # Clients create and delete their own reply queues at run time, so the
  # only name known here is the prefix.
  reply_queues_arn = "arn:${local.partition}:sqs:${local.region}:${local.account}:${var.reply_queue_prefix}*"

  log_streams_arn = {
    for f, name in var.function_names :
    f => "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${name}:*"
  }

  s3          = var.user_store_kind == "s3"
  dynamodb    = var.user_store_kind == "dynamodb"
  user_prefix = "${var.user_bucket_arn == null ? "" : var.user_bucket_arn}/n/*"
}

# ---- writer: lock, validate, push --------------------------------------------
data "aws_iam_policy_document" "writer" {
  statement {
    sid       = "LockNodes"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [var.system_table_arn]
  }

  statement {
    sid       = "ReadSessions"
    actions   = ["dynamodb:GetItem"]
    resources = [var.sessions_table_arn]
  }

  statement {
    sid     = "PushCommitsReplyAndDeadLetter"
    actions = ["sqs:SendMessage"]
    resources = [
      var.distributor_queue_arn,
      var.writer_dlq_arn,
      local.reply_queues_arn, # refusals are answered by the writer
    ]
  }

  statement {
    sid       = "EventSourceMapping"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [var.writer_queue_arn]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_streams_arn["writer"]]
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [true] : []
    content {
      sid       = "CustomerManagedKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }
}

# ---- distributor: commit, apply, reply ---------------------------------------
data "aws_iam_policy_document" "distributor" {
  statement {
    sid       = "CommitNodesAndCounter"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [var.system_table_arn]
  }

  statement {
    sid       = "CommitSessions"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [var.sessions_table_arn]
  }

  dynamic "statement" {
    for_each = local.s3 ? [true] : []
    content {
      sid       = "ApplyToUserBucket"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = [local.user_prefix]
    }
  }

  dynamic "statement" {
    for_each = local.s3 ? [true] : []
    content {
      # Without it a GetObject of a missing node answers 403, not 404.
      sid       = "TellMissingNodes"
      actions   = ["s3:ListBucket"]
      resources = [var.user_bucket_arn]
    }
  }

  dynamic "statement" {
    for_each = local.dynamodb ? [true] : []
    content {
      sid       = "ApplyToUserTable"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      resources = [var.user_table_arn]
    }
  }

  statement {
    sid       = "ReplyAndDeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [local.reply_queues_arn, var.distributor_dlq_arn]
  }

  statement {
    sid       = "DiscardExpiredSessionsReplyQueues"
    actions   = ["sqs:DeleteQueue"]
    resources = [local.reply_queues_arn]
  }

  statement {
    sid       = "EventSourceMapping"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [var.distributor_queue_arn]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_streams_arn["distributor"]]
  }

  dynamic "statement" {
    for_each = var.vpc_enabled ? [true] : []
    content {
      sid       = "VpcNetworkInterfaces"
      actions   = local.eni_actions
      resources = ["*"] # EC2 offers no resource-level permissions for these (AWSLambdaVPCAccessExecutionRole does the same)
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [true] : []
    content {
      sid       = "CustomerManagedKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }
}

# ---- heartbeat: find expired sessions, close them through the writer ---------
data "aws_iam_policy_document" "heartbeat" {
  statement {
    sid       = "ScanSessions"
    actions   = ["dynamodb:Scan"]
    resources = [var.sessions_table_arn]
  }

  statement {
    sid       = "SendSessionCloses"
    actions   = ["sqs:SendMessage"]
    resources = [var.writer_queue_arn]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_streams_arn["heartbeat"]]
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [true] : []
    content {
      sid       = "CustomerManagedKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }
}

# ---- clients (crates/client): what an application's role needs ---------------
data "aws_iam_policy_document" "client" {
  statement {
    sid       = "SendWrites"
    actions   = ["sqs:SendMessage"]
    resources = [var.writer_queue_arn]
  }

  statement {
    sid       = "OwnReplyQueue"
    actions   = ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
    resources = [local.reply_queues_arn]
  }

  statement {
    sid       = "OpenAndTouchSession"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [var.sessions_table_arn]
  }

  dynamic "statement" {
    for_each = local.s3 ? [true] : []
    content {
      sid       = "ReadUserBucket"
      actions   = ["s3:GetObject"]
      resources = [local.user_prefix]
    }
  }

  dynamic "statement" {
    for_each = local.s3 ? [true] : []
    content {
      # Without it a GetObject of a missing node answers 403, not 404.
      sid       = "TellMissingNodes"
      actions   = ["s3:ListBucket"]
      resources = [var.user_bucket_arn]
    }
  }

  dynamic "statement" {
    for_each = local.dynamodb ? [true] : []
    content {
      sid       = "ReadUserTable"
      actions   = ["dynamodb:GetItem"]
      resources = [var.user_table_arn]
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [true] : []
    content {
      sid       = "CustomerManagedKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }
}

locals {
  # What Lambda needs to attach a function to VPC subnets.
  eni_actions = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
  ]
}
