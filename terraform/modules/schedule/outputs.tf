output "cloudwatch_event_rule_arn" {
  description = "ARN of the rule."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "cloudwatch_event_rule_name" {
  description = "Name of the rule."
  value       = aws_cloudwatch_event_rule.this.name
}
