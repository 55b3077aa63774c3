//! How a client connects: its options and the builder that sets them.

use std::time::Duration;

use fk_aws::deployment::Deployment;

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
    /// Whether writes issued while another is being sent leave together,
    /// up to ten in one SendMessageBatch. `None` (the default) decides by
    /// the deployment's user store: yes on DynamoDB and Redis, no on S3.
    /// Batched, a pipelining session pays fewer calls, and on DynamoDB and
    /// Redis its writes also commit and apply together; on S3 a session's
    /// changes are written one after another, so writes that arrive
    /// together wait for each other (docs/write-path.md, "The client's
    /// side").
    pub batch_sends: Option<bool>,
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

    pub fn with_batch_sends(mut self, batch: bool) -> Self {
        self.batch_sends = Some(batch);
        self
    }

    /// Whether to batch sends to a deployment whose user store is `store`
    /// (`s3`, `dynamodb`, `redis`).
    pub(crate) fn batches_sends(&self, store: &str) -> bool {
        self.batch_sends.unwrap_or(store != "s3")
    }
}

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

    /// Whether writes issued while another is being sent leave together in
    /// one call (default: by the user store; see
    /// [`ConnectOptions::batch_sends`]).
    pub fn batch_sends(mut self, batch: bool) -> Self {
        self.options.batch_sends = Some(batch);
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
    fn sends_are_batched_by_default_except_on_s3_unless_told() {
        let default = ConnectOptions::default();
        assert!(default.batches_sends("dynamodb"));
        assert!(default.batches_sends("redis"));
        assert!(!default.batches_sends("s3"));
        assert!(default.clone().with_batch_sends(true).batches_sends("s3"));
        assert!(!default.with_batch_sends(false).batches_sends("redis"));
    }
}
