terraform {
  required_version = ">= 1.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The offline checks' provider (scripts/setup.sh installs it into .tools/tf-mirror).
      version = "3.39.0"
    }
  }
}
