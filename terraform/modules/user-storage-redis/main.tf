# The Redis user store (crates/aws/src/user/redis.rs): either an existing
# server (its URL passes through) or an ElastiCache replication group created
# here (through a CloudFormation stack, see below), in the VPC subnets and security groups the caller gives. The
# functions and clients must run where they can reach it (see README).

locals {
  prefix = var.prefix != null ? var.prefix : var.name
  # redis:// only: fk-aws's Redis client is built without TLS (README, "Encryption in transit").
  url = var.create_replication_group ? "redis://${aws_cloudformation_stack.redis[0].outputs["PrimaryAddress"]}:${var.port}" : var.url
}

resource "aws_elasticache_subnet_group" "this" {
  count = var.create_replication_group ? 1 : 0

  name       = "${var.name}-redis"
  subnet_ids = var.subnet_ids
}

# The replication group is declared through CloudFormation: its Terraform
# resource has no argument names that both provider 3.39 (the offline
# checks) and 5.x accept (4.0 renamed replication_group_description and
# number_cache_clusters, 5.0 removed the old names), while this resource and
# CloudFormation's schema are the same in every provider version.
resource "aws_cloudformation_stack" "redis" {
  #checkov:skip=CKV_AWS_124:the stack holds one replication group; its state changes are followed through CloudWatch and the Terraform plan, not SNS
  count = var.create_replication_group ? 1 : 0

  name = "${var.name}-redis"
  template_body = jsonencode({
    AWSTemplateFormatVersion = "2010-09-09"
    Description              = "FaaSKeeper ${var.name} user store (terraform/modules/user-storage-redis)"
    Resources = {
      ReplicationGroup = {
        Type = "AWS::ElastiCache::ReplicationGroup"
        Properties = merge(
          {
            ReplicationGroupId          = "${var.name}-redis"
            ReplicationGroupDescription = "FaaSKeeper ${var.name} user store"
            Engine                      = "redis"
            EngineVersion               = var.engine_version
            CacheNodeType               = var.node_type
            NumCacheClusters            = var.number_cache_clusters
            Port                        = var.port
            CacheSubnetGroupName        = aws_elasticache_subnet_group.this[0].name
            SecurityGroupIds            = var.security_group_ids
            AutomaticFailoverEnabled    = var.number_cache_clusters > 1
            MultiAZEnabled              = var.number_cache_clusters > 1
            # Always encrypted at rest; in transit only once the functions'
            # client speaks TLS (README, "Encryption in transit").
            AtRestEncryptionEnabled  = true
            TransitEncryptionEnabled = var.transit_encryption_enabled
            SnapshotRetentionLimit   = var.snapshot_retention_limit
            AutoMinorVersionUpgrade  = true
            Tags                     = [for k, v in var.tags : { Key = k, Value = v }]
          },
          var.kms_key_id == null ? {} : { KmsKeyId = var.kms_key_id },
        )
      }
    }
    Outputs = {
      PrimaryAddress = { Value = { "Fn::GetAtt" = ["ReplicationGroup", "PrimaryEndPoint.Address"] } }
      GroupId        = { Value = { Ref = "ReplicationGroup" } }
    }
  })
  # A replication group takes 10 to 20 minutes to create.
  timeout_in_minutes = 60
  on_failure         = "DELETE"

  tags = var.tags
}
