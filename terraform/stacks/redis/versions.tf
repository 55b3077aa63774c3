terraform {
  required_version = ">= 1.0"

  # State: local by default; for a team or a pipeline, add an S3 backend in
  # backend_override.tf (README, "Deploy"; deploy.yml writes one).

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 3.39 is what the offline checks validate with; provided.al2023 needs a
      # newer provider (>= 5.27), which `terraform init` picks where it can.
      version = ">= 3.39, < 6.0"
    }
  }
}
