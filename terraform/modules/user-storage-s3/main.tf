# The S3 user store: one object per node, key "n" + path (crates/aws/src/user/s3.rs).
# Clients read it directly with their own credentials; nothing is public.
# The bucket is the only copy of node data: protection.aws5.tf versions,
# encrypts and owns it.

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:access logging needs a second bucket the deployment does not own; CloudTrail data events are the place for it
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery choice with its own cost, not a default
  #checkov:skip=CKV_AWS_145:SSE-S3 unless kms_key_arn is given (then SSE-KMS with a bucket key, protection.aws5.tf); no per-request KMS cost or key policy by default
  #checkov:skip=CKV2_AWS_62:no event notifications: clients read the bucket directly, nothing reacts to its changes
  # Versioning, lifecycle, encryption and ownership are in protection.aws5.tf
  # (provider 4+ resources, which the offline 3.39 copy leaves out).
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

  # One change of the bucket's configuration at a time (S3 answers
  # OperationAborted to concurrent ones); protection.aws5.tf continues the
  # chain from here.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
