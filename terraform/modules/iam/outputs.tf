output "writer_policy_json" {
  description = "Inline policy of the writer function's role."
  value       = data.aws_iam_policy_document.this["writer"].json
}

output "distributor_policy_json" {
  description = "Inline policy of the distributor function's role."
  value       = data.aws_iam_policy_document.this["distributor"].json
}

output "watch_policy_json" {
  description = "Inline policy of the watch function's role."
  value       = data.aws_iam_policy_document.this["watch"].json
}

output "heartbeat_policy_json" {
  description = "Inline policy of the heartbeat function's role."
  value       = data.aws_iam_policy_document.this["heartbeat"].json
}

output "client_policy_json" {
  description = "What a client application needs: attach it to the application's role or user."
  value       = data.aws_iam_policy_document.this["client"].json
}

output "actions" {
  description = "The actions each principal (writer, distributor, watch, heartbeat, client) is allowed, sorted: the policies at a glance."
  value       = { for p, statements in local.statements : p => sort(distinct(flatten([for s in statements : s.actions]))) }
}
