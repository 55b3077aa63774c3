terraform {
  required_version = ">= 1.0"

  # Provider 5.x and 6.x only (the 5.0 argument names of the replication
  # group, RBAC users, Secrets Manager): the offline 3.39 validate leaves the
  # redis stack out, and the 5.x/6.x schema check covers this module.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
