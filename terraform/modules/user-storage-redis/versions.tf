terraform {
  required_version = ">= 1.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # aws_elasticache_replication_group's `number_cache_clusters` and
      # `replication_group_description` are 3.x names, removed in 5.0 (see README).
      version = ">= 3.39, < 5.0"
    }
  }
}
