output "client_config" {
  description = "The deployment document clients read (crates/aws/src/deployment.rs), as JSON."
  value       = module.faaskeeper.client_config
}

output "function_environments" {
  description = "Each function's environment, for crates/local's runner (fk-local up --terraform-outputs)."
  value       = module.faaskeeper.function_environments
}

output "distributor_queue_url" {
  description = "The queue the runner feeds the distributor from."
  value       = module.faaskeeper.distributor_queue_url
}

output "client_policy_json" {
  description = "IAM policy a client application attaches."
  value       = module.faaskeeper.client_policy_json
}

output "iam_actions" {
  description = "The IAM actions each function's role and the client policy allow, by principal (for review)."
  value       = module.faaskeeper.iam_actions
}
