# Runs a function on a schedule: an EventBridge (CloudWatch Events) rule, its
# target, and the permission that lets EventBridge invoke the function.
# Provider 3.39 has no EventBridge Scheduler (aws_scheduler_schedule), so a
# rule with schedule_expression it is; it behaves the same for a fixed rate.

resource "aws_cloudwatch_event_rule" "this" {
  name                = var.name
  description         = var.description
  schedule_expression = var.schedule_expression

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule      = aws_cloudwatch_event_rule.this.name
  target_id = "function"
  arn       = var.function_arn
}

resource "aws_lambda_permission" "this" {
  statement_id  = "AllowEventBridge-${var.name}"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}
