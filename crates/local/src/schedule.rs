//! An EventBridge schedule (`rate(...)`) for one function.
//!
//! Every period the function gets the event EventBridge sends for a
//! scheduled rule: `detail-type` "Scheduled Event", `source` "aws.events",
//! the rule's ARN in `resources` and an empty `detail`. As with EventBridge,
//! the first event comes one period after start, and an invocation that
//! fails is not retried here (the next tick comes anyway).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use axum::body::Bytes;
use tokio::sync::watch;

use crate::queue_source::{pause, with_grace, BACKOFF_AFTER_CRASH};
use crate::sandbox::{Outcome, Sandbox, SandboxSpec};

/// The account id moto uses; it appears in ARNs.
pub(crate) const ACCOUNT: &str = "123456789012";

pub(crate) struct Schedule {
    pub every: Duration,
    pub timeout: Duration,
    pub rule_arn: String,
    pub region: String,
    pub sandbox: SandboxSpec,
    pub invocations: Arc<AtomicU64>,
}

impl Schedule {
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        let name = self.sandbox.function.clone();
        let mut sandbox: Option<Sandbox> = None;
        let mut generation = 0u64;
        let mut next = tokio::time::Instant::now() + self.every;
        loop {
            // Ticks that passed while the last invocation ran are skipped
            // (EventBridge would start another instance; one is enough
            // here, and catching up would run it back to back).
            let now = tokio::time::Instant::now();
            while next < now {
                next += self.every;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            next += self.every;
            if sandbox.as_mut().is_none_or(|s| s.has_exited()) {
                generation += 1;
                match Sandbox::start(&self.sandbox, generation).await {
                    Ok(s) => sandbox = Some(s),
                    Err(error) => {
                        tracing::error!(function = %name, error = format!("{error:#}"), "cannot start function");
                        if pause(&mut stop, BACKOFF_AFTER_CRASH).await {
                            break;
                        }
                        continue;
                    }
                }
            }
            let Some(running) = sandbox.as_mut() else {
                continue;
            };
            self.invocations.fetch_add(1, Ordering::Relaxed);
            let payload = match serde_json::to_vec(&self.event()) {
                Ok(p) => Bytes::from(p),
                Err(error) => {
                    tracing::error!(function = %name, %error, "cannot serialise the event");
                    continue;
                }
            };
            match with_grace(&mut stop, running.invoke(payload, self.timeout)).await {
                Some(Outcome::Success(response)) => tracing::debug!(
                    function = %name,
                    response = %String::from_utf8_lossy(&response),
                    "scheduled invocation succeeded"
                ),
                Some(Outcome::FunctionError(error)) => tracing::warn!(
                    function = %name,
                    error = %String::from_utf8_lossy(&error),
                    "scheduled invocation failed"
                ),
                Some(Outcome::TimedOut) => {
                    tracing::warn!(function = %name, "scheduled invocation timed out");
                    sandbox = None;
                }
                Some(Outcome::Died(status)) => {
                    tracing::warn!(function = %name, %status, "function process died during a scheduled invocation");
                    sandbox = None;
                }
                None => break,
            }
        }
        if let Some(mut s) = sandbox {
            s.kill().await;
        }
    }

    fn event(&self) -> CloudWatchEvent {
        let mut event = CloudWatchEvent::default();
        event.version = Some("0".into());
        event.id = Some(crate::runtime_api::request_id());
        event.detail_type = Some("Scheduled Event".into());
        event.source = Some("aws.events".into());
        event.account_id = Some(ACCOUNT.into());
        event.time = chrono::Utc::now();
        event.region = Some(self.region.clone());
        event.resources = vec![self.rule_arn.clone()];
        event.detail = Some(serde_json::json!({}));
        event
    }
}
