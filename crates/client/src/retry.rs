//! Retrying requests that failed for a transient cause.
//!
//! Which requests are retried, and how, is decided where they are sent
//! (`client.rs`); this module only says when and how long to wait.

use std::future::Future;
use std::time::Duration;

use crate::Error;

/// When the client tries a request again after a retryable error
/// ([`Error::is_retryable`]); set with
/// [`ClientBuilder::retry_policy`](crate::ClientBuilder::retry_policy).
/// The default, [`RetryPolicy::none`], retries nothing.
///
/// Retried only where that cannot apply a write twice:
///
/// - reads, always (they change nothing);
/// - a write whose `SendMessage` failed or whose reply is overdue is sent
///   again *as the same request* (same seq, same token, same
///   deduplication id): the deployment decides each seq of a session once
///   (docs/write-path.md, "Exactly once"), so a copy never commits twice,
///   and its reply is the original's;
/// - a write the deployment refused with a retryable code
///   (`OperationTimeout`: it lost a lock; `ThrottledOp`) is sent again as
///   a new request: a refusal is recorded before it is answered, so the
///   refused request can never commit later.
///
/// Errors that will repeat (`NoNode`, a missing queue, `AccessDenied`) are
/// never retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    base: Duration,
    max: Duration,
    retries: u32,
}

impl RetryPolicy {
    /// No retries: every error reaches the caller at once.
    pub const fn none() -> Self {
        RetryPolicy {
            base: Duration::ZERO,
            max: Duration::ZERO,
            retries: 0,
        }
    }

    /// Up to `retries` retries, the first after `base`, each later one
    /// after twice the wait before it, at most `max`.
    pub fn exponential(base: Duration, max: Duration, retries: u32) -> Self {
        RetryPolicy {
            base,
            max: max.max(base),
            retries,
        }
    }

    /// How many retries the policy allows.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The wait before retry `done + 1` of a request that failed with
    /// `error`, or `None` if it is not to be retried.
    pub(crate) fn delay(&self, done: u32, error: &Error) -> Option<Duration> {
        if done >= self.retries || !error.is_retryable() {
            return None;
        }
        let factor = 2u32.saturating_pow(done.min(31));
        Some(self.base.saturating_mul(factor).min(self.max))
    }

    /// Runs `call` until it succeeds, fails for good, or the retries are
    /// spent.
    pub(crate) async fn run<T, F, Fut>(&self, mut call: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut done = 0;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(error) => match self.delay(done, &error) {
                    Some(wait) => {
                        tracing::debug!(error = %error, ?wait, retry = done + 1, "retrying");
                        tokio::time::sleep(wait).await;
                        done += 1;
                    }
                    None => return Err(error),
                },
            }
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::none()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use fk_core::{FailureKind, StoreError};

    use super::*;
    use crate::Code;

    fn transient() -> Error {
        Error::store(
            "writer queue q",
            StoreError::transient("sqs", "connection reset"),
        )
    }

    fn missing() -> Error {
        let store = StoreError::permanent("sqs", "NonExistentQueue")
            .with_kind(FailureKind::MissingResource);
        Error::store("writer queue q", store)
    }

    #[test]
    fn the_waits_double_up_to_the_maximum() {
        let policy =
            RetryPolicy::exponential(Duration::from_millis(10), Duration::from_millis(35), 4);
        let waits: Vec<_> = (0..5).map(|n| policy.delay(n, &transient())).collect();
        assert_eq!(
            waits,
            [10, 20, 35, 35]
                .map(|ms| Some(Duration::from_millis(ms)))
                .into_iter()
                .chain([None])
                .collect::<Vec<_>>()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn when_a_call_fails_transiently_the_policy_calls_it_again() {
        // given a call that fails once for a transient cause
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(8), 3);
        // when the policy runs it
        let result = policy
            .run(|| async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(transient()),
                    _ => Ok("done"),
                }
            })
            .await;
        // then it succeeds on the second call
        assert_eq!(result, Ok("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn when_a_call_fails_for_good_the_policy_does_not_call_it_again() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(8), 3);
        let result: Result<(), Error> = policy
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(missing())
            })
            .await;
        assert_eq!(result.unwrap_err().code(), Code::SystemError);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        calls.store(0, Ordering::SeqCst);
        let answered: Result<(), Error> = policy
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Code::NoNode.into())
            })
            .await;
        assert_eq!(answered.unwrap_err(), Code::NoNode);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "an answer is not retried");
    }

    #[tokio::test(start_paused = true)]
    async fn when_the_retries_are_spent_the_last_error_is_returned() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(8), 2);
        let result: Result<(), Error> = policy
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(transient())
            })
            .await;
        assert_eq!(result.unwrap_err().code(), Code::ConnectionLoss);
        assert_eq!(calls.load(Ordering::SeqCst), 3, "one call and two retries");
    }
}
