//! The environment variables Terraform (or the local runner) sets for the
//! functions. One name, one place.

/// DynamoDB table of node system state and the commit counter.
pub const SYSTEM_TABLE: &str = "FK_SYSTEM_TABLE";
/// DynamoDB table of sessions.
pub const SESSIONS_TABLE: &str = "FK_SESSIONS_TABLE";
/// URL of the writer FIFO queue (the heartbeat sends session closes to it).
pub const WRITER_QUEUE_URL: &str = "FK_WRITER_QUEUE_URL";
/// URL of the distributor FIFO queue.
pub const DISTRIBUTOR_QUEUE_URL: &str = "FK_DISTRIBUTOR_QUEUE_URL";
/// URL of the watch FIFO queue (the distributor pushes fired events to it).
pub const WATCH_QUEUE_URL: &str = "FK_WATCH_QUEUE_URL";
/// URL of the dead-letter queue the function moves unreadable messages to.
pub const DEAD_LETTER_QUEUE_URL: &str = "FK_DEAD_LETTER_QUEUE_URL";
/// `s3`, `dynamodb` or `redis`.
pub const USER_STORE: &str = "FK_USER_STORE";
/// S3 bucket of the `s3` user store.
pub const USER_BUCKET: &str = "FK_USER_BUCKET";
/// DynamoDB table of the `dynamodb` user store.
pub const USER_TABLE: &str = "FK_USER_TABLE";
/// Redis URL of the `redis` user store.
pub const REDIS_URL: &str = "FK_REDIS_URL";
/// Secrets Manager secret whose value is the password of `FK_REDIS_URL`'s
/// user (ElastiCache RBAC); unset when the URL carries its own.
pub const REDIS_PASSWORD_SECRET_ARN: &str = "FK_REDIS_PASSWORD_SECRET_ARN";
/// A PEM file of the CA that signed a `rediss://` server's certificate, when
/// it is not a public one (ElastiCache's are); read by functions and clients.
pub const REDIS_CA_FILE: &str = "FK_REDIS_CA_FILE";
/// Key prefix of the `redis` user store.
pub const REDIS_PREFIX: &str = "FK_REDIS_PREFIX";
/// Lifetime of a node lock, in milliseconds.
pub const LOCK_TTL_MS: &str = "FK_LOCK_TTL_MS";
/// The distributor commits each batch's writes as groups: `true` (the
/// default) or `false` (one at a time).
pub const GROUP_COMMIT: &str = "FK_GROUP_COMMIT";
/// How the functions send the calls every write makes (the writer's lock
/// and push, the distributor's commit and reply, its writes to an S3 or
/// DynamoDB user store):
/// `lean` (the default: signed requests without the SDK's orchestrator,
/// the SDK only when one gets no answer it takes) or `sdk` (the SDK
/// alone). See [`crate::lean`].
pub const AWS_TRANSPORT: &str = "FK_AWS_TRANSPORT";
/// An endpoint that replaces AWS's (the local emulator). Unset in production.
pub const AWS_ENDPOINT: &str = "FK_AWS_ENDPOINT";
/// AWS region (set by Lambda itself).
pub const REGION: &str = "AWS_REGION";
