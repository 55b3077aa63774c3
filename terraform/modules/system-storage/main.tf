# The system state of a deployment: per-node system state and the commit
# counter (key `path`), and the sessions (key `session`). Key names are
# crates/aws/src/schema.rs's; the functions and clients do every access by
# key, so neither table has an index.

locals {
  tables = {
    system   = { name = "${var.name}-system", hash_key = "path" }
    sessions = { name = "${var.name}-sessions", hash_key = "session" }
  }
}

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS managed key by default; pass kms_key_arn for a customer managed key
  for_each = local.tables

  name         = each.value.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = each.value.hash_key

  attribute {
    name = each.value.hash_key
    type = "S"
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
