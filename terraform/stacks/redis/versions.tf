terraform {
  required_version = ">= 1.2"

  # State: local by default; for a team or a pipeline, add an S3 backend in
  # backend_override.tf (README, "Deploy"; deploy.yml writes one).

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x and 6.x only: ../../modules/user-storage-redis uses the 5.0
      # argument names of the replication group. The offline 3.39 validate
      # leaves this stack out; scripts/provider-schema-check.py checks every
      # resource, argument and attribute against the 5.100 and 6.69 schemas.
      # provided.al2023 needs >= 5.27, which `terraform init` picks where it can.
      version = ">= 5.0, < 7.0"
    }
  }
}
