# The DynamoDB user store: one item per node, key `path`
# (crates/aws/src/user/dynamodb.rs). Clients read it directly.

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS managed key by default; pass kms_key_arn for a customer managed key
  name         = "${var.name}-user"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "path"

  attribute {
    name = "path"
    type = "S"
  }

  # A deleted node leaves a tombstone for a day (crates/aws/src/user/dynamodb.rs).
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  # Newer than provider 3.39: its offline copy leaves the line out.
  deletion_protection_enabled = var.deletion_protection # aws>=5

  tags = var.tags
}
