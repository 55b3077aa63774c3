# The Redis user store (crates/aws/src/user/redis.rs): either an existing
# server, whose URL (and optional read URL and password secrets) passes
# through, or, when no url is given, an ElastiCache replication group
# created here in the caller's subnets and security groups, encrypted at
# rest and in transit, with RBAC users whose passwords live in Secrets
# Manager. The functions and clients must run where they can reach it (README).
#
# Provider 5.x and 6.x only (5.0's argument names of the replication group);
# the offline 3.39 validate does not read this module.

locals {
  create = var.url == null
  prefix = var.prefix != null ? var.prefix : var.name

  # Every key the store writes is `<prefix>:n:<path>` or `<prefix>:c:<path>`
  # (crates/aws/src/user/redis.rs): `<prefix>:*` covers them and no other
  # deployment's keys.
  keys = "~${local.prefix}:*"

  # The users of the group, by name. The ACLs are scripts/backends.sh's local
  # ones, limited to the store's keys: the distributor writes (its commits
  # are Lua scripts), clients read. ElastiCache requires a user named
  # `default` in every group; this one can neither log in nor run anything.
  users = {
    default = {
      id     = "fk-${var.name}-off"
      access = "off -@all"
    }
    "fk-distributor" = {
      id     = "fk-${var.name}-distributor"
      access = "on ${local.keys} +@read +@write +@scripting +@transaction +@connection -@dangerous"
    }
    "fk-client" = {
      id     = "fk-${var.name}-client"
      access = "on ${local.keys} +@read +@transaction +@connection -@dangerous"
    }
  }
  # The users that connect, each with a password secret.
  service_users = toset(["fk-distributor", "fk-client"])

  # Parameter groups are per major version: default.redis7, default.redis6.x.
  major_version   = split(".", var.engine_version)[0]
  parameter_group = local.major_version == "6" ? "default.redis6.x" : "default.redis${local.major_version}"

  primary_address = try(aws_elasticache_replication_group.this[0].primary_endpoint_address, null)
  # Clients read from the replicas only when asked (read_from_replicas): a
  # replica lags the primary, so a client could miss its own last write.
  read_address = try(
    var.read_from_replicas ? coalesce(aws_elasticache_replication_group.this[0].reader_endpoint_address, local.primary_address) : local.primary_address,
    null,
  )

  # No password in a URL: the functions and clients read it from the
  # user's secret (FK_REDIS_PASSWORD_SECRET_ARN, password_secret_arn).
  url      = local.create ? "rediss://fk-distributor@${local.primary_address}:${var.port}" : var.url
  read_url = local.create ? "rediss://fk-client@${local.read_address}:${var.port}" : var.read_url

  password_secret_arn      = local.create ? aws_secretsmanager_secret.password["fk-distributor"].arn : var.password_secret_arn
  read_password_secret_arn = local.create ? aws_secretsmanager_secret.password["fk-client"].arn : var.read_password_secret_arn

  # What clients are given: the read-only user when there is one.
  client_url                 = local.read_url != null ? local.read_url : local.url
  client_password_secret_arn = local.read_url != null ? local.read_password_secret_arn : local.password_secret_arn
}

# ---- passwords ---------------------------------------------------------------

# A data source yields a new password at every plan: the secret versions and
# the default user ignore later ones (lifecycle below), so only their first
# value is ever used. 64 letters and digits: within ElastiCache's 16 to 128,
# and nothing that must be escaped in a URL or a shell.
data "aws_secretsmanager_random_password" "this" {
  for_each = { for u, spec in local.users : u => spec if local.create }

  password_length            = 64
  exclude_punctuation        = true
  include_space              = false
  require_each_included_type = true
}

resource "aws_secretsmanager_secret" "password" {
  #checkov:skip=CKV_AWS_149:encrypted with the AWS managed key aws/secretsmanager by default; pass kms_key_arn for a customer managed key
  #checkov:skip=CKV2_AWS_57:no rotation Lambda: a new password must reach the ElastiCache user in the same step, which `terraform apply -replace` of the secret version does (README, "Rotating a password")
  for_each = local.create ? local.service_users : toset([])

  # A prefix, not a name: a destroyed secret keeps its name for the
  # recovery window, and a new deployment of the same name must not wait.
  name_prefix             = "${var.name}/redis/${each.key}-"
  description             = "Password of the ElastiCache user ${each.key} of FaaSKeeper ${var.name} (${local.users[each.key].id})"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_in_days

  tags = var.tags
}

# The value is the password alone (crates/aws/src/secrets.rs reads it as is).
resource "aws_secretsmanager_secret_version" "password" {
  for_each = local.create ? local.service_users : toset([])

  secret_id     = aws_secretsmanager_secret.password[each.key].id
  secret_string = data.aws_secretsmanager_random_password.this[each.key].random_password

  lifecycle {
    # Only the first password: later plans read a new one from the data
    # source. `terraform apply -replace` of this resource rotates (README).
    ignore_changes = [secret_string]
  }
}

# ---- RBAC: users and their group ----------------------------------------------

resource "aws_elasticache_user" "default" {
  count = local.create ? 1 : 0

  user_id       = local.users["default"].id
  user_name     = "default"
  engine        = "redis"
  access_string = local.users["default"].access
  # Disabled ("off"), but a user needs a password or no_password_required:
  # a random one, in no secret (the state holds it, as it holds the others).
  passwords = [data.aws_secretsmanager_random_password.this["default"].random_password]

  tags = var.tags

  lifecycle {
    # The data source's later passwords: this user never logs in anyway.
    ignore_changes = [passwords]
  }
}

resource "aws_elasticache_user" "this" {
  for_each = local.create ? local.service_users : toset([])

  user_id       = local.users[each.key].id
  user_name     = each.key
  engine        = "redis"
  access_string = local.users[each.key].access
  # Always the secret's value: the secret version keeps its first password
  # (ignore_changes there), so this changes only when the version is
  # replaced, and then ElastiCache gets the new password in the same apply.
  passwords = [aws_secretsmanager_secret_version.password[each.key].secret_string]

  tags = var.tags
}

resource "aws_elasticache_user_group" "this" {
  count = local.create ? 1 : 0

  user_group_id = "fk-${var.name}"
  engine        = "redis"
  user_ids = concat(
    [aws_elasticache_user.default[0].user_id],
    [for u in sort(tolist(local.service_users)) : aws_elasticache_user.this[u].user_id],
  )

  tags = var.tags
}

# ---- the replication group -------------------------------------------------------

resource "aws_elasticache_subnet_group" "this" {
  count = local.create ? 1 : 0

  name       = "${var.name}-redis"
  subnet_ids = var.subnet_ids

  tags = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV_AWS_191:encrypted at rest with the AWS managed key by default; pass kms_key_arn for a customer managed key
  #checkov:skip=CKV2_AWS_50:automatic failover (and Multi-AZ) is on whenever num_cache_clusters > 1, the default being 2; a single node has nothing to fail over to
  count = local.create ? 1 : 0

  replication_group_id = "${var.name}-redis"
  description          = "FaaSKeeper ${var.name} user store"

  engine               = "redis"
  engine_version       = var.engine_version
  parameter_group_name = local.parameter_group
  node_type            = var.node_type
  num_cache_clusters   = var.num_cache_clusters
  port                 = var.port

  subnet_group_name  = aws_elasticache_subnet_group.this[0].name
  security_group_ids = var.security_group_ids

  # A second node in another zone takes over when the primary fails.
  automatic_failover_enabled = var.num_cache_clusters > 1
  multi_az_enabled           = var.num_cache_clusters > 1

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  # RBAC needs TLS: the URLs are rediss://.
  transit_encryption_enabled = true
  user_group_ids             = [aws_elasticache_user_group.this[0].user_group_id]

  # Seeded from a snapshot when given (moving a deployment over, README);
  # only at creation: ignore_changes below, or dropping the name later would
  # replace the group and its data.
  snapshot_name = var.restore_snapshot_name

  # Node data lives only here: daily snapshots, kept snapshot_retention_limit days.
  snapshot_retention_limit   = var.snapshot_retention_limit
  auto_minor_version_upgrade = var.auto_minor_version_upgrade
  # Changes wait for the maintenance window instead of restarting nodes now.
  apply_immediately = false

  tags = var.tags

  lifecycle {
    ignore_changes = [snapshot_name]
  }

  # A group takes 10 to 20 minutes to create.
  timeouts {
    create = "60m"
    update = "60m"
    delete = "60m"
  }
}
