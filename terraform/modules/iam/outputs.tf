output "writer_policy_json" {
  description = "Inline policy of the writer function's role."
  value       = data.aws_iam_policy_document.writer.json
}

output "distributor_policy_json" {
  description = "Inline policy of the distributor function's role."
  value       = data.aws_iam_policy_document.distributor.json
}

output "heartbeat_policy_json" {
  description = "Inline policy of the heartbeat function's role."
  value       = data.aws_iam_policy_document.heartbeat.json
}

output "client_policy_json" {
  description = "What a client application needs: attach it to the application's role or user."
  value       = data.aws_iam_policy_document.client.json
}
