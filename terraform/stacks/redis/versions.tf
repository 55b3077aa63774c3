terraform {
  required_version = ">= 1.0"

  # State: local by default; for a team or a pipeline, add an S3 backend in
  # backend_override.tf (README, "Deploy"; deploy.yml writes one).

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # < 5.0: ../../modules/user-storage-redis uses the replication group's
      # 3.x/4.x argument names (its README says how to move to 5.x).
      version = ">= 3.39, < 5.0"
    }
  }
}
