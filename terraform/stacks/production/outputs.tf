output "client_config" {
  description = "What clients read: `terraform output -raw client_config > deployment.json`, then FK_DEPLOYMENT=deployment.json."
  value       = module.faaskeeper.client_config
}

output "client_policy_json" {
  description = "IAM policy to attach to the role or user of every client application."
  value       = module.faaskeeper.client_policy_json
}

output "lambda_function_arns" {
  description = "ARNs of the functions."
  value       = module.faaskeeper.lambda_function_arns
}

output "iam_actions" {
  description = "The IAM actions each function's role and the client policy allow, by principal (for review)."
  value       = module.faaskeeper.iam_actions
}
