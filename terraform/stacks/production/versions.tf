terraform {
  required_version = ">= 1.2"

  # State: local by default; for a team or a pipeline, add an S3 backend in
  # backend_override.tf (README, "Deploy"; deploy.yml writes one).

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Written for 5.x and 6.x (every resource, argument and attribute is
      # checked against the 5.100 and 6.69 schemas by
      # scripts/provider-schema-check.py). The offline checks validate a
      # copy that leaves out what needs 5.x and reads ">= 3.39" here
      # (terraform/README.md, "Provider versions"). provided.al2023 needs
      # >= 5.27, which `terraform init` picks where it can.
      version = ">= 5.0, < 7.0"
    }
  }
}
