terraform {
  required_version = ">= 1.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The one root pinned to the offline checks' provider (scripts/setup.sh
      # installs it into .tools/tf-mirror): it only ever runs, on moto, from
      # the copy scripts/terraform.sh stages, where the modules' ">= 5.0"
      # reads ">= 3.39" and what needs 5.x is left out. Its provider block
      # (skip_get_ec2_platforms, s3_force_path_style) is 3.39's own: 5.0
      # removed both, so this root does not claim 5.x.
      version = "3.39.0"
    }
  }
}
