# The S3 user store: one object per node, key "n" + path (crates/aws/src/user/s3.rs).
# Clients read it directly with their own credentials; nothing is public.

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:access logging needs a second bucket the deployment does not own; CloudTrail data events are the place for it
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery choice with its own cost, not a default
  # Encryption and versioning are left to their own resources (README):
  # S3 encrypts every new object with SSE-S3 whatever the configuration,
  # and the inline blocks provider 3.39 offers are deprecated from 4.0 on.
  #checkov:skip=CKV_AWS_19:S3 encrypts every new object with SSE-S3 by default (since January 2023); no configuration can turn it off
  #checkov:skip=CKV_AWS_145:SSE-S3 (no per-request KMS cost or key policy); README shows how to attach an SSE-KMS configuration
  #checkov:skip=CKV_AWS_21:node objects are rewritten on every write; versioning would keep every old copy (README shows how to attach it)
  #checkov:skip=CKV2_AWS_61:no lifecycle rule: every object is a live node, deleted by the service when the node is
  #checkov:skip=CKV2_AWS_62:no event notifications: clients read the bucket directly, nothing reacts to its changes
  bucket        = var.bucket_name != null ? var.bucket_name : "${var.name}-user"
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  #checkov:skip=CKV2_AWS_65:provider 3.39 refuses BucketOwnerEnforced (ACLs disabled); public ACLs are blocked above and every object is written by the bucket's own account
  bucket = aws_s3_bucket.this.id

  rule {
    # BucketOwnerEnforced (ACLs disabled) is newer than provider 3.39 (it
    # fails validation); with public ACLs blocked above, BucketOwnerPreferred
    # is the closest it has. Switch when moving to provider 4+ (README).
    object_ownership = "BucketOwnerPreferred"
  }

  depends_on = [aws_s3_bucket_public_access_block.this]
}

data "aws_iam_policy_document" "this" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"] # every action: a deny of plain-HTTP requests
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"] # everyone: this is a deny
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = var.deny_insecure_transport ? 1 : 0

  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  depends_on = [aws_s3_bucket_ownership_controls.this]
}
