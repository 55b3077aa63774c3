# Copy to terraform.tfvars (git-ignored) or pass with VARS=…: `make deploy` uses it.
region     = "us-east-1"
name       = "faaskeeper"
vpc_id     = "vpc-0123456789abcdef0"
subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]

# Alarms (DLQ depth, heartbeat failures, distributor backlog, function
# errors) notify nobody until alarm_actions names an SNS topic in the
# stack's region; left commented here because the deploy workflow applies
# this file when FK_TFVARS is unset, and a made-up topic would be wrong.
# alarm_actions = ["arn:aws:sns:us-east-1:123456789012:faaskeeper-alarms"]

# Platform settings, all optional (see the README's inputs):
# permissions_boundary_arn       = "arn:aws:iam::123456789012:policy/workload-boundary"
# reserved_concurrent_executions = { distributor = 5 }
# kms_key_arn                    = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# log_kms_key_arn                = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
