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
use fk_core::message::DecodeError;
use fk_core::{CommitBundle, CommitRequest, Message, StoreError};

/// What the loop needs besides the handler.
pub struct BatchContext {
    pub sqs: aws_sdk_sqs::Client,
    /// Where unreadable records go.
    pub dead_letter_url: String,
    /// The calls counter every AWS client of the function reports to.
    pub calls: CallCounter,
}

/// Where a record stands in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// How many times SQS has delivered it (1 the first time).
    pub count: u32,
    /// It is the batch's last record: whatever the handler left in flight
    /// must be done before it returns.
    pub last: bool,
}

/// How a batch went.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub handled: usize,
    pub buried: usize,
}

/// Handles the batch's records in order with `handle(message, delivery)`,
/// which returns a short outcome for the log.
pub async fn for_each_in_order<M, F, Fut>(
    event: &SqsEvent,
    ctx: &BatchContext,
    mut handle: F,
) -> Result<BatchSummary, StoreError>
where
    M: Message,
    F: FnMut(M, Delivery) -> Fut,
    Fut: Future<Output = Result<String, StoreError>>,
{
    let mut summary = BatchSummary::default();
    for (i, record) in event.records.iter().enumerate() {
        let started = Instant::now();
        let last = i + 1 == event.records.len();
        let id = record.message_id.as_deref().unwrap_or("-");
        let deliveries = fk_aws::sqs::receive_count(record);
        let span = record_span(record, deliveries, None);
        let message = match M::decode(fk_aws::sqs::envelope_from_event(record)) {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(message_id = id, error = %e, "unreadable message: moved to the dead-letter queue");
                fk_aws::sqs::bury(&ctx.sqs, &ctx.dead_letter_url, record, &e.to_string()).await?;
                ctx.calls.reset();
                summary.buried += 1;
                continue;
            }
        };
        let delivery = Delivery {
            count: deliveries,
            last,
        };
        match handle(message, delivery).instrument(span.clone()).await {
            Ok(outcome) => {
                let calls = ctx.calls.take();
                let fallbacks = ctx.calls.take_fallbacks();
                tracing::info!(
                    message_id = id,
                    deliveries,
                    outcome = %outcome,
                    aws_calls = calls.values().sum::<u64>(),
                    calls = %serde_json::to_string(&calls).unwrap_or_default(),
                    lean_fallbacks = fallbacks.values().sum::<u64>(),
                    duration_ms = started.elapsed().as_secs_f64() * 1e3,
                    "handled"
                );
                summary.handled += 1;
            }
            Err(e) => {
                tracing::warn!(message_id = id, deliveries, error = %e, "backend failure: the batch will be delivered again");
                ctx.calls.reset();
                return Err(e);
            }
        }
    }
    Ok(summary)
}

/// A readable record of a batch handed over whole.
pub struct Received<M> {
    pub message: M,
    pub delivery: Delivery,
    /// The record's span, continuing the producer's trace.
    pub span: tracing::Span,
    message_id: String,
}

/// Hands the batch's readable records to `handle` at once, in order (the
/// writer validates them side by side); `handle` returns a short outcome
/// per record for the log. Unreadable records go to the dead-letter queue
/// first. The AWS calls of the whole batch are logged on its last record.
pub async fn for_whole_batch<M, F, Fut>(
    event: &SqsEvent,
    ctx: &BatchContext,
    handle: F,
) -> Result<BatchSummary, StoreError>
where
    M: Message,
    F: FnOnce(Vec<Received<M>>) -> Fut,
    Fut: Future<Output = Result<(Vec<Received<M>>, Vec<String>), StoreError>>,
{
    let unpack = |record: &SqsMessage, deliveries| {
        let message = M::decode(fk_aws::sqs::envelope_from_event(record))?;
        Ok(vec![(message, record_span(record, deliveries, None))])
    };
    whole_batch(event, ctx, unpack, handle).await
}

/// As [`for_whole_batch`], for the distributor queue, whose messages are
/// [`CommitBundle`]s: `handle` gets every commit of the batch in queue
/// order, each under a consumer span that continues its own write's trace
/// (the context its bundle entry carries; a single-commit message's, from
/// the message's attributes). An unreadable message goes whole to the
/// dead-letter queue.
pub async fn for_whole_batch_of_commits<F, Fut>(
    event: &SqsEvent,
    ctx: &BatchContext,
    handle: F,
) -> Result<BatchSummary, StoreError>
where
    F: FnOnce(Vec<Received<CommitRequest>>) -> Fut,
    Fut: Future<Output = Result<(Vec<Received<CommitRequest>>, Vec<String>), StoreError>>,
{
    let unpack = |record: &SqsMessage, deliveries| {
        let bundle = CommitBundle::decode(fk_aws::sqs::envelope_from_event(record))?;
        Ok(bundle
            .commits
            .into_iter()
            .map(|b| {
                let trace = (!b.trace.is_empty()).then_some(b.trace.as_slice());
                let span = record_span(record, deliveries, trace);
                (b.commit, span)
            })
            .collect())
    };
    whole_batch(event, ctx, unpack, handle).await
}

/// The items of each record (`unpack`), handed to `handle` at once.
async fn whole_batch<M, U, F, Fut>(
    event: &SqsEvent,
    ctx: &BatchContext,
    unpack: U,
    handle: F,
) -> Result<BatchSummary, StoreError>
where
    U: Fn(&SqsMessage, u32) -> Result<Vec<(M, tracing::Span)>, DecodeError>,
    F: FnOnce(Vec<Received<M>>) -> Fut,
    Fut: Future<Output = Result<(Vec<Received<M>>, Vec<String>), StoreError>>,
{
    let started = Instant::now();
    let mut summary = BatchSummary::default();
    let mut received = Vec::with_capacity(event.records.len());
    for (i, record) in event.records.iter().enumerate() {
        let id = record.message_id.as_deref().unwrap_or("-");
        let deliveries = fk_aws::sqs::receive_count(record);
        match unpack(record, deliveries) {
            Ok(items) => {
                let n = items.len();
                received.extend(items.into_iter().enumerate().map(|(j, (message, span))| {
                    Received {
                        message,
                        delivery: Delivery {
                            count: deliveries,
                            last: i + 1 == event.records.len() && j + 1 == n,
                        },
                        span,
                        message_id: id.to_string(),
                    }
                }));
            }
            Err(e) => {
                let span = record_span(record, deliveries, None);
                // In the record's span when it is made, else in the invocation's.
                span.in_scope(|| tracing::error!(message_id = id, error = %e, "unreadable message: moved to the dead-letter queue"));
                fk_aws::sqs::bury(&ctx.sqs, &ctx.dead_letter_url, record, &e.to_string()).await?;
                summary.buried += 1;
            }
        }
    }
    if received.is_empty() {
        ctx.calls.reset();
        return Ok(summary);
    }
    let size = received.len();
    match handle(received).await {
        Ok((received, outcomes)) => {
            let calls = ctx.calls.take();
            let fallbacks = ctx.calls.take_fallbacks();
            for (i, (r, outcome)) in received.iter().zip(&outcomes).enumerate() {
                let last = i + 1 == size;
                let (aws_calls, call_list, lean_fallbacks) = if last {
                    (
                        calls.values().sum::<u64>(),
                        serde_json::to_string(&calls).unwrap_or_default(),
                        fallbacks.values().sum::<u64>(),
                    )
                } else {
                    (0, "{}".to_string(), 0)
                };
                // In the record's span when it is made (traces on), else in
                // the invocation's, whose id the log line then carries.
                r.span.in_scope(|| {
                    tracing::info!(
                        message_id = %r.message_id,
                        deliveries = r.delivery.count,
                        outcome = %outcome,
                        batch = size,
                        aws_calls,
                        calls = %call_list,
                        lean_fallbacks,
                        duration_ms = started.elapsed().as_secs_f64() * 1e3,
                        "handled"
                    )
                });
            }
            summary.handled += outcomes.len();
            Ok(summary)
        }
        Err(e) => {
            tracing::warn!(batch = size, error = %e, "backend failure: the batch will be delivered again");
            ctx.calls.reset();
            Err(e)
        }
    }
}

/// The span of one record (or one item of it): a consumer span that
/// continues the trace the producer put in the message's attributes, or in
/// `trace` when the item carries its own.
fn record_span(
    record: &SqsMessage,
    deliveries: u32,
    trace: Option<&[(String, String)]>,
) -> tracing::Span {
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
    match trace {
        Some(trace) => fk_telemetry::continue_trace(&span, |name| {
            trace
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        }),
        None => {
            fk_telemetry::continue_trace(&span, |name| fk_aws::sqs::trace_attribute(record, name))
        }
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use fk_core::message::{DecodeError, Envelope};

    /// A message that is its body.
    struct Text(String);

    impl Message for Text {
        fn encode(&self) -> Envelope {
            Envelope {
                body: self.0.clone(),
                payload: None,
            }
        }

        fn decode(envelope: Envelope) -> Result<Self, DecodeError> {
            Ok(Text(envelope.body))
        }
    }

    fn event(bodies: &[&str]) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = bodies
            .iter()
            .map(|body| {
                let mut record = SqsMessage::default();
                record.body = Some(body.to_string());
                record
            })
            .collect();
        event
    }

    fn context() -> BatchContext {
        // Never called: every record here is readable.
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
                .region(aws_sdk_sqs::config::Region::new("us-east-1"))
                .build(),
        );
        BatchContext {
            sqs,
            dead_letter_url: String::new(),
            calls: CallCounter::new(),
        }
    }

    #[tokio::test]
    async fn records_come_in_order_and_only_the_last_is_marked_last() {
        let mut seen = Vec::new();
        let summary = for_each_in_order(&event(&["a", "b", "c"]), &context(), |m: Text, d| {
            seen.push((m.0, d));
            async { Ok(String::new()) }
        })
        .await
        .unwrap();
        assert_eq!(summary.handled, 3);
        let first = Delivery {
            count: 1,
            last: false,
        };
        let last = Delivery {
            count: 1,
            last: true,
        };
        assert_eq!(
            seen,
            vec![("a".into(), first), ("b".into(), first), ("c".into(), last)]
        );
    }

    fn delete(seq: u64) -> CommitRequest {
        let session: fk_core::SessionId = "0x00000000000000ab".parse().unwrap();
        CommitRequest {
            token: fk_core::message::token(session, seq),
            session,
            seq,
            reply_to: "q".into(),
            time_ms: 0,
            op: fk_core::Op::Delete {
                path: format!("/n{seq}"),
                version: None,
            },
            pre: Vec::new(),
            close_session: false,
        }
    }

    #[tokio::test]
    async fn the_commits_of_bundles_and_single_messages_come_in_queue_order() {
        let bundle = fk_core::CommitBundle {
            commits: (1..=3)
                .map(|seq| fk_core::Bundled {
                    commit: delete(seq),
                    trace: Vec::new(),
                })
                .collect(),
        };
        let (bundle, single) = (bundle.encode().body, delete(4).encode().body);
        let mut seen = Vec::new();
        let summary =
            for_whole_batch_of_commits(&event(&[&bundle, &single]), &context(), |received| {
                seen = received
                    .iter()
                    .map(|r| (r.message.seq, r.delivery.last))
                    .collect();
                let outcomes = vec![String::new(); received.len()];
                async { Ok((received, outcomes)) }
            })
            .await
            .unwrap();
        assert_eq!(summary.handled, 4);
        assert_eq!(seen, [(1, false), (2, false), (3, false), (4, true)]);
    }

    /// The `"handled"` lines' fields, as the functions log them.
    fn handled_lines(captured: &crate::testing::Captured) -> Vec<serde_json::Value> {
        captured
            .lines()
            .into_iter()
            .filter(|line| line["fields"]["message"] == "handled")
            .map(|line| line["fields"].clone())
            .collect()
    }

    #[tokio::test]
    async fn the_handled_line_counts_the_calls_and_the_lean_fallbacks_of_its_message() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let captured = crate::testing::Captured::default();
        let subscriber = tracing_subscriber::registry().with(crate::log_layer(
            tracing_subscriber::EnvFilter::new("info"),
            captured.clone(),
        ));
        let _guard = tracing::subscriber::set_default(subscriber);
        let ctx = context();

        for_each_in_order(&event(&["a", "b"]), &ctx, |m: Text, _| {
            if m.0 == "a" {
                ctx.calls.record("DynamoDB.UpdateItem");
                ctx.calls.record("DynamoDB.UpdateItem");
                ctx.calls.record_fallback("DynamoDB.UpdateItem");
            } else {
                ctx.calls.record("SQS.SendMessage");
            }
            async { Ok(String::new()) }
        })
        .await
        .unwrap();

        let lines = handled_lines(&captured);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            (&lines[0]["aws_calls"], &lines[0]["lean_fallbacks"]),
            (&2.into(), &1.into())
        );
        assert_eq!(
            (&lines[1]["aws_calls"], &lines[1]["lean_fallbacks"]),
            (&1.into(), &0.into())
        );
    }

    #[tokio::test]
    async fn a_backend_failure_stops_the_batch() {
        let mut seen = Vec::new();
        let failed = for_each_in_order(&event(&["a", "b", "c"]), &context(), |m: Text, _| {
            let fail = m.0 == "b";
            seen.push(m.0);
            async move {
                if fail {
                    Err(StoreError::transient("test", "throttled"))
                } else {
                    Ok(String::new())
                }
            }
        })
        .await;
        assert!(failed.is_err());
        assert_eq!(seen, ["a", "b"]);
    }
}
