//! How a client connects: its options and the builder that sets them.

use std::time::Duration;

use fk_aws::deployment::Deployment;
use fk_aws::sqs::MAX_BATCH_ENTRIES;

use crate::{Client, Error, RetryPolicy};

/// How a client connects. Build one with [`Client::builder`], or start
/// from `ConnectOptions::default()` and its setters.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// ZooKeeper's session timeout: how long the session outlives silence.
    pub session_timeout: Duration,
    /// How long a write waits for its reply before `ConnectionLoss`.
    pub request_timeout: Duration,
    /// What is retried after a transient failure; none by default.
    pub retry_policy: RetryPolicy,
    /// How many writes issued while another is being sent may leave
    /// together, in one SendMessageBatch: 1 sends each alone, 10 (SQS's
    /// most) as many as have been issued. `None` (the default) decides by
    /// the deployment's user store ([`default_batch_sends`]). Batched, a
    /// pipelining session pays fewer calls, and on DynamoDB and Redis its
    /// writes also commit and apply together; on S3 a session's changes
    /// are written one after another, so writes that arrive together wait
    /// for each other (docs/write-path.md, "The client's side").
    pub batch_sends: Option<usize>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            session_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            retry_policy: RetryPolicy::none(),
            batch_sends: None,
        }
    }
}

impl ConnectOptions {
    pub fn with_session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// At most `writes` (1 to 10) in one send; see [`Self::batch_sends`].
    pub fn with_batch_sends(mut self, writes: usize) -> Self {
        self.batch_sends = Some(writes);
        self
    }

    /// The most writes one send carries to a deployment whose user store
    /// is `store` (`s3`, `dynamodb`, `redis`): what was set, within 1 to
    /// 10, or the store's default.
    pub fn max_batch_sends(&self, store: &str) -> usize {
        self.batch_sends
            .unwrap_or_else(|| default_batch_sends(store))
            .clamp(1, MAX_BATCH_ENTRIES)
    }
}

/// The most writes one send carries by default, by user store: ten (every
/// write issued meanwhile) on DynamoDB and Redis, where a session's writes
/// that arrive together commit and apply together; [`S3_BATCH_SENDS`] on S3.
pub fn default_batch_sends(store: &str) -> usize {
    if store == "s3" {
        S3_BATCH_SENDS
    } else {
        MAX_BATCH_ENTRIES
    }
}

/// The most writes one send carries by default on an S3 deployment. A
/// session's changes reach S3 one after another (20 ms or so each), so the
/// more of its writes arrive together the longer the one total order
/// waits for them; each call that carries more than one saves calls, and
/// the replies of writes that travel together share a message. Two is
/// where `make bench-model` finds both of issue 14's targets met at 64
/// pipelining sessions (docs/write-path.md, "The client's side").
pub const S3_BATCH_SENDS: usize = 2;

/// Builds a [`Client`]: `Client::builder(&deployment).session_timeout(..)
/// .connect().await`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `connect`"]
pub struct ClientBuilder {
    deployment: Deployment,
    options: ConnectOptions,
    read_only: bool,
}

impl ClientBuilder {
    pub(crate) fn new(deployment: &Deployment) -> Self {
        ClientBuilder {
            deployment: deployment.clone(),
            options: ConnectOptions::default(),
            read_only: false,
        }
    }

    /// ZooKeeper's session timeout (default 30 s).
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.options.session_timeout = timeout;
        self
    }

    /// How long a write waits for its reply (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = timeout;
        self
    }

    /// Retries after transient failures (default: none).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.options.retry_policy = policy;
        self
    }

    /// At most `writes` (1 to 10) issued while another is being sent
    /// leave together in one call (default: by the user store; see
    /// [`ConnectOptions::batch_sends`]).
    pub fn batch_sends(mut self, writes: usize) -> Self {
        self.options.batch_sends = Some(writes);
        self
    }

    /// All options at once.
    pub fn options(mut self, options: ConnectOptions) -> Self {
        self.options = options;
        self
    }

    /// A client without a session: it reads, refuses writes and watches
    /// with `NotReadOnly`, and creates nothing in the deployment.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Checks that the deployment's resources exist and may be used, then
    /// opens the session (unless read-only).
    pub async fn connect(self) -> Result<Client, Error> {
        if self.read_only {
            Client::open_read_only(&self.deployment, self.options).await
        } else {
            Client::open(&self.deployment, self.options).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_carry_ten_writes_by_default_except_on_s3_unless_told() {
        let default = ConnectOptions::default();
        assert_eq!(default.max_batch_sends("dynamodb"), 10);
        assert_eq!(default.max_batch_sends("redis"), 10);
        assert_eq!(default.max_batch_sends("s3"), S3_BATCH_SENDS);
        assert_eq!(
            default.clone().with_batch_sends(10).max_batch_sends("s3"),
            10
        );
        assert_eq!(
            default.clone().with_batch_sends(1).max_batch_sends("redis"),
            1
        );
        // outside what one call can carry: the nearest that it can
        assert_eq!(
            default.clone().with_batch_sends(0).max_batch_sends("redis"),
            1
        );
        assert_eq!(default.with_batch_sends(11).max_batch_sends("s3"), 10);
    }
}
