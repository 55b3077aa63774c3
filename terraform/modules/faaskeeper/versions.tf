terraform {
  required_version = ">= 1.2"

  # Written for provider 5.x and 6.x. scripts/terraform.sh validates a copy
  # rewritten for the offline 3.39 (terraform/README.md, "Provider versions").
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
