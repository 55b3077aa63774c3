terraform {
  required_version = ">= 1.0"

  # State: local by default; for a team or a pipeline, add an S3 backend in
  # backend_override.tf (README, "Deploy"; deploy.yml writes one).

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 3.39 is what the offline checks validate and apply with; every
      # resource, argument and attribute is also checked against the 5.100
      # and 6.69 schemas (scripts/provider-schema-check.py). provided.al2023
      # needs >= 5.27, which `terraform init` picks where it can.
      version = ">= 3.39, < 7.0"
    }
  }
}
