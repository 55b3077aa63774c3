//! An SQS event source mapping for one function instance.
//!
//! Like Lambda's mapping for a FIFO queue: receive a batch, invoke the
//! function with it, delete the whole batch if the function succeeded and
//! nothing otherwise. Undeleted messages reappear after the queue's
//! visibility timeout, with `ApproximateReceiveCount` one higher, and SQS
//! moves them to the dead-letter queue after `maxReceiveCount` receives.
//! While a group has messages in flight SQS hands none of its later messages
//! to anyone, so concurrent instances work on different groups and each
//! group stays in order (moto needs `scripts/moto_server.py` for that).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use axum::body::Bytes;
use tokio::sync::watch;

use crate::sandbox::{Outcome, Sandbox, SandboxSpec};
use crate::sqs_event;

/// Long-poll wait of one receive: short, so that stopping is quick.
const RECEIVE_WAIT_S: i32 = 1;
/// Pause after a failed receive or a process that died right after start.
pub(crate) const BACKOFF_AFTER_CRASH: Duration = Duration::from_secs(1);
/// How long `stop` lets a running invocation finish.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(3);

/// Everything an instance's loop needs.
pub(crate) struct QueueSource {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub queue_arn: String,
    pub region: String,
    pub batch_size: i32,
    pub timeout: Duration,
    pub sandbox: SandboxSpec,
    pub invocations: Arc<AtomicU64>,
}

impl QueueSource {
    /// Runs until `stop` turns true.
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        let name = format!("{}-{}", self.sandbox.function, self.sandbox.instance);
        let mut sandbox: Option<Sandbox> = None;
        let mut generation = 0u64;
        while !*stop.borrow() {
            let alive = sandbox.as_mut().is_some_and(|s| !s.has_exited());
            if !alive {
                if let Some(old) = sandbox.take() {
                    // Died while idle (e.g. in its init): Lambda would start
                    // a new sandbox, but not in a hot loop.
                    tracing::warn!(instance = %name, "function process exited while idle; restarting");
                    if old.age() < BACKOFF_AFTER_CRASH
                        && pause(&mut stop, BACKOFF_AFTER_CRASH).await
                    {
                        break;
                    }
                }
                generation += 1;
                match Sandbox::start(&self.sandbox, generation).await {
                    Ok(s) => sandbox = Some(s),
                    Err(error) => {
                        tracing::error!(instance = %name, error = format!("{error:#}"), "cannot start function");
                        if pause(&mut stop, BACKOFF_AFTER_CRASH).await {
                            break;
                        }
                        continue;
                    }
                }
            }
            let Some(box_) = sandbox.as_mut() else {
                continue;
            };

            let messages = tokio::select! {
                received = self.receive() => received,
                _ = stop.changed() => break,
            };
            let messages = match messages {
                Ok(m) if m.is_empty() => continue,
                Ok(m) => m,
                Err(error) => {
                    tracing::warn!(instance = %name, error = format!("{error:#}"), "receive failed");
                    if pause(&mut stop, BACKOFF_AFTER_CRASH).await {
                        break;
                    }
                    continue;
                }
            };

            let event = sqs_event::event(&messages, &self.queue_arn, &self.region);
            let payload = match serde_json::to_vec(&event) {
                Ok(p) => Bytes::from(p),
                Err(error) => {
                    tracing::error!(instance = %name, %error, "cannot serialise the event");
                    continue;
                }
            };
            self.invocations.fetch_add(1, Ordering::Relaxed);
            let outcome = with_grace(&mut stop, box_.invoke(payload, self.timeout)).await;
            match outcome {
                Some(Outcome::Success(_)) => self.delete(&name, &messages).await,
                Some(Outcome::FunctionError(error)) => tracing::warn!(
                    instance = %name,
                    messages = messages.len(),
                    error = %String::from_utf8_lossy(&error),
                    "function returned an error; the batch will be retried"
                ),
                Some(Outcome::TimedOut) => {
                    tracing::warn!(instance = %name, timeout = ?self.timeout, "function timed out; restarting it");
                    sandbox = None;
                }
                Some(Outcome::Died(status)) => {
                    tracing::warn!(instance = %name, %status, "function process died during an invocation; restarting it");
                    sandbox = None;
                }
                None => break,
            }
        }
        if let Some(mut s) = sandbox {
            s.kill().await;
        }
    }

    async fn receive(&self) -> anyhow::Result<Vec<Message>> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(RECEIVE_WAIT_S)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        Ok(out.messages.unwrap_or_default())
    }

    async fn delete(&self, name: &str, messages: &[Message]) {
        for chunk in messages.chunks(10) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                        .build()
                        .ok()
                })
                .collect();
            let result = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            match result {
                Ok(out) if out.failed.is_empty() => {}
                Ok(out) => {
                    tracing::warn!(instance = %name, failed = ?out.failed, "some messages were not deleted; they will be redelivered")
                }
                Err(error) => {
                    tracing::warn!(instance = %name, error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "delete failed; the batch will be redelivered")
                }
            }
        }
    }
}

/// Sleeps `d`; true if `stop` turned true meanwhile.
pub(crate) async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    let stopped = tokio::time::timeout(d, stop.wait_for(|s| *s)).await;
    stopped.is_ok()
}

/// Runs `invocation` to its end, or until [`STOP_GRACE`] after `stop`
/// (then `None`: the process is killed with its sandbox, and SQS redelivers).
pub(crate) async fn with_grace<F: std::future::Future>(
    stop: &mut watch::Receiver<bool>,
    invocation: F,
) -> Option<F::Output> {
    tokio::pin!(invocation);
    tokio::select! {
        out = &mut invocation => return Some(out),
        _ = stop.wait_for(|s| *s) => {}
    }
    tokio::time::timeout(STOP_GRACE, invocation).await.ok()
}
