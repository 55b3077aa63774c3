# The CloudWatch dashboard: where a write's time and failures show up in
# metrics AWS records anyway. Functions: duration (p50, p99) and errors;
# queues: age of the oldest message (the queue wait a trace shows as
# "queued") and depth; dead-letter queues: depth (any message there is a
# write that failed for good), with the heartbeat's failure queue (a run
# that failed for good); DynamoDB: throttled reads and writes; with
# metrics_enabled, the lean transport's fallbacks (calls the SDK made
# again: a steady rate means the lean path is not working there). The
# traces themselves are in X-Ray or Tempo (observability/README.md).

locals {
  dashboard_functions = [
    for f in ["writer", "distributor", "watch", "heartbeat"] : local.function_names[f]
    if f != "heartbeat" || var.heartbeat_enabled
  ]

  # A queue's name is the last segment of its URL.
  dashboard_queues = {
    for q, url in {
      writer      = module.queues.writer_queue_url
      distributor = module.queues.distributor_queue_url
      watch       = module.queues.watch_queue_url
    } : q => regex("[^/]+$", url)
  }
  dashboard_dlqs = [
    for url in concat(
      [module.queues.writer_dlq_url, module.queues.distributor_dlq_url, module.queues.watch_dlq_url],
      var.heartbeat_enabled ? [module.queues.heartbeat_failure_queue_url] : [],
    ) : regex("[^/]+$", url)
  ]

  dashboard_tables = concat(
    [module.system_storage.system_table_name, module.system_storage.sessions_table_name],
    [for t in module.user_storage_dynamodb : t.dynamodb_table_name],
  )

  dashboard_widget = {
    type   = "metric"
    width  = 12
    height = 6
  }

  dashboard_lean_fallbacks = [
    for m in [module.writer, module.distributor, module.watch] :
    [var.metrics_namespace, m.lean_fallbacks_metric_name] if m.lean_fallbacks_metric_name != null
  ]

  dashboard_widgets = concat([
    {
      title   = "Function duration p50 (ms)"
      stat    = "p50"
      metrics = [for f in local.dashboard_functions : ["AWS/Lambda", "Duration", "FunctionName", f]]
    },
    {
      title   = "Function duration p99 (ms)"
      stat    = "p99"
      metrics = [for f in local.dashboard_functions : ["AWS/Lambda", "Duration", "FunctionName", f]]
    },
    {
      title   = "Function errors"
      stat    = "Sum"
      metrics = [for f in local.dashboard_functions : ["AWS/Lambda", "Errors", "FunctionName", f]]
    },
    {
      title   = "Age of the oldest message (s): the queue wait"
      stat    = "Maximum"
      metrics = [for q in values(local.dashboard_queues) : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q]]
    },
    {
      title   = "Queue depth (visible messages)"
      stat    = "Maximum"
      metrics = [for q in values(local.dashboard_queues) : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]]
    },
    {
      title   = "Dead-letter queue depth (writes, and heartbeat runs, that failed for good)"
      stat    = "Maximum"
      metrics = [for q in local.dashboard_dlqs : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]]
    },
    {
      title = "DynamoDB throttled reads and writes"
      stat  = "Sum"
      metrics = concat(
        [for t in local.dashboard_tables : ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", t]],
        [for t in local.dashboard_tables : ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", t]],
      )
    },
    ], length(local.dashboard_lean_fallbacks) == 0 ? [] : [
    {
      title   = "Lean transport fallbacks (calls the AWS SDK made again)"
      stat    = "Sum"
      metrics = local.dashboard_lean_fallbacks
    },
  ])
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.dashboard_enabled ? 1 : 0

  # Dashboards are global to the account (their ARN has no region): the
  # region in the name keeps two regions' deployments of one name apart.
  dashboard_name = "${var.name}-${local.region}"
  dashboard_body = jsonencode({
    widgets = [
      for i, w in local.dashboard_widgets : merge(local.dashboard_widget, {
        x = (i % 2) * 12
        y = floor(i / 2) * 6
        properties = {
          title   = w.title
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = 60
          stat    = w.stat
          metrics = w.metrics
        }
      })
    ]
  })
}
