//! The FIFO batch loop every queue-driven function runs.
//!
//! Records are handled one at a time, in order: on a FIFO queue a later
//! record of the same group must not overtake an earlier one. A record that
//! cannot be read goes to the dead-letter queue at once and the batch goes
//! on; the first backend failure stops the batch and fails the invocation,
//! so the queue delivers the whole batch again (the handlers are idempotent).

use std::future::Future;
use std::time::Instant;

use aws_lambda_events::event::sqs::SqsMessage;
use tracing::Instrument as _;

use aws_lambda_events::event::sqs::SqsEvent;
use fk_aws::calls::CallCounter;
use fk_core::{Message, StoreError};

/// What the loop needs besides the handler.
pub struct BatchContext {
    pub sqs: aws_sdk_sqs::Client,
    /// Where unreadable records go.
    pub dead_letter_url: String,
    /// The calls counter every AWS client of the function reports to.
    pub calls: CallCounter,
}

/// How a batch went.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub handled: usize,
    pub buried: usize,
}

/// Handles the batch's records in order with `handle(message, receive_count)`,
/// which returns a short outcome for the log.
pub async fn for_each_in_order<M, F, Fut>(
    event: &SqsEvent,
    ctx: &BatchContext,
    mut handle: F,
) -> Result<BatchSummary, StoreError>
where
    M: Message,
    F: FnMut(M, u32) -> Fut,
    Fut: Future<Output = Result<String, StoreError>>,
{
    let mut summary = BatchSummary::default();
    for record in &event.records {
        let started = Instant::now();
        let id = record.message_id.as_deref().unwrap_or("-");
        let deliveries = fk_aws::sqs::receive_count(record);
        let span = record_span(record, deliveries);
        let message = match M::decode(fk_aws::sqs::envelope_from_event(record)) {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(message_id = id, error = %e, "unreadable message: moved to the dead-letter queue");
                fk_aws::sqs::bury(&ctx.sqs, &ctx.dead_letter_url, record, &e.to_string()).await?;
                ctx.calls.take();
                summary.buried += 1;
                continue;
            }
        };
        match handle(message, deliveries).instrument(span.clone()).await {
            Ok(outcome) => {
                let calls = ctx.calls.take();
                tracing::info!(
                    message_id = id,
                    deliveries,
                    outcome = %outcome,
                    aws_calls = calls.values().sum::<u64>(),
                    calls = %serde_json::to_string(&calls).unwrap_or_default(),
                    duration_ms = started.elapsed().as_secs_f64() * 1e3,
                    "handled"
                );
                summary.handled += 1;
            }
            Err(e) => {
                tracing::warn!(message_id = id, deliveries, error = %e, "backend failure: the batch will be delivered again");
                ctx.calls.take();
                return Err(e);
            }
        }
    }
    Ok(summary)
}

/// The span of one record: a consumer span that continues the trace the
/// producer put in the message's attributes.
fn record_span(record: &SqsMessage, deliveries: u32) -> tracing::Span {
    let queue = record
        .event_source_arn
        .as_deref()
        .and_then(|arn| arn.rsplit(':').next())
        .unwrap_or("sqs");
    let span = tracing::info_span!(
        "process",
        otel.name = format!("process {queue}"),
        otel.kind = "consumer",
        messaging.system = "aws_sqs",
        messaging.operation.type = "process",
        messaging.destination.name = queue,
        messaging.message.id = record.message_id.as_deref().unwrap_or("-"),
        messaging.aws_sqs.receive_count = deliveries,
    );
    fk_telemetry::continue_trace(&span, |name| fk_aws::sqs::trace_attribute(record, name));
    span
}
