# What keeps the only copy of node data safe: versioning with a bounded
# history, encryption at rest under the deployment's key when it has one,
# and ACLs switched off. Provider 4.0+ resources (3.39 has only the inline
# blocks of aws_s3_bucket that 4.0 deprecated), so this file is left out of
# the offline 3.39 copy (scripts/terraform.sh, emulator_copy) and the
# bucket the local stack creates in moto has none of it.
#
# S3 refuses concurrent changes to one bucket's configuration
# (OperationAborted), so each resource here waits for the one before it,
# starting from the bucket policy (main.tf).

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    # ACLs disabled: the bucket's account owns every object, whoever wrote it.
    object_ownership = "BucketOwnerEnforced"
  }

  depends_on = [aws_s3_bucket_policy.this]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn != null ? "aws:kms" : "AES256"
      kms_master_key_id = var.kms_key_arn
    }
    # A bucket key cuts the KMS requests (and their cost) of SSE-KMS; it
    # means nothing for SSE-S3.
    bucket_key_enabled = var.kms_key_arn != null
  }

  depends_on = [aws_s3_bucket_ownership_controls.this]
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    # Suspended, not Disabled: S3 cannot return a bucket to unversioned.
    status = var.versioning_enabled ? "Enabled" : "Suspended"
  }

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # Every write replaces a node's object, so versioning keeps one old copy
  # per write: they go after noncurrent_version_expiration_days, and so do
  # the delete markers left once every version of a key is gone.
  rule {
    id     = "expire-old-node-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  # The distributor writes whole objects with PutObject; a multipart upload
  # left unfinished (by hand, or a tool) would be billed until removed.
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
