# Copy to terraform.tfvars (git-ignored) or pass with VARS=…: `make deploy` uses it.
region = "us-east-1"
name   = "faaskeeper"
# alarm_actions = ["arn:aws:sns:us-east-1:123456789012:ops"]
vpc_id     = "vpc-0123456789abcdef0"
subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
