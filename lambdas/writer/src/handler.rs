//! Handles a batch of client writes from the writer FIFO queue.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use fk_aws::calls::CallCounter;
use fk_aws::clients::{sdk_config, Clients};
use fk_aws::sqs::{SqsCommitQueue, SqsReplySink};
use fk_aws::system::DynamoSystemStore;
use fk_core::writer::{Handled, Writer, WriterConfig};
use fk_core::{CommitQueue, CommitRequest, StoreError, SystemClock, WriteRequest};
use fk_lambda::batch::{for_each_in_order, for_whole_batch, BatchContext};
use lambda_runtime::LambdaEvent;

use crate::config::Config;

pub struct WriterFunction {
    writer: Writer,
    batch: BatchContext,
    /// The delivery count of the message being handled, for the crash hook.
    delivery: Arc<AtomicU32>,
    batched: bool,
}

impl WriterFunction {
    /// Builds the clients once per sandbox.
    pub async fn build(config: &Config) -> Self {
        let calls = CallCounter::new();
        let sdk = sdk_config(config.aws.endpoint.as_deref(), &config.aws.region).await;
        let clients = Clients::new(&sdk, &calls);
        let delivery = Arc::new(AtomicU32::new(1));
        let queue = SqsCommitQueue::new(clients.sqs.clone(), config.distributor_queue_url.clone())
            .with_lean(clients.lean_sqs.clone());
        let commits: Arc<dyn CommitQueue> = match &config.crash_after_lock {
            Some(path) => Arc::new(CrashBeforePush {
                inner: queue,
                path: path.clone(),
                delivery: delivery.clone(),
            }),
            None => Arc::new(queue),
        };
        let writer = Writer::new(
            Arc::new(
                DynamoSystemStore::new(
                    clients.dynamodb.clone(),
                    config.system_table.clone(),
                    config.sessions_table.clone(),
                )
                .with_lean(clients.lean_dynamodb.clone()),
            ),
            commits,
            Arc::new(SqsReplySink::new(clients.sqs.clone()).with_lean(clients.lean_sqs.clone())),
            Arc::new(SystemClock),
            WriterConfig {
                lock_ttl_ms: config.lock_ttl_ms,
                max_data_len: config.max_data_len,
            },
        );
        WriterFunction {
            writer,
            batch: BatchContext {
                sqs: clients.sqs,
                dead_letter_url: config.dead_letter_url.clone(),
                calls,
            },
            delivery,
            batched: config.batched,
        }
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<(), lambda_runtime::Error> {
        let give_up_at = give_up_at(event.context.deadline);
        if self.batched {
            return self.handle_batched(&event.payload, give_up_at).await;
        }
        for_each_in_order(
            &event.payload,
            &self.batch,
            |req: WriteRequest, delivery| async move {
                self.delivery.store(delivery.count, Ordering::SeqCst);
                let handled = self
                    .writer
                    .handle_within(&req, delivery.count, Some(give_up_at))
                    .await?;
                Ok(describe(&req, &handled))
            },
        )
        .await?;
        Ok(())
    }
}

impl WriterFunction {
    /// The whole batch at once: its validated writes reach the
    /// distributor queue together, ten a call (docs/write-path.md,
    /// "Group commit").
    async fn handle_batched(
        &self,
        event: &SqsEvent,
        give_up_at: i64,
    ) -> Result<(), lambda_runtime::Error> {
        for_whole_batch(event, &self.batch, |received| async move {
            let first = received.iter().map(|r| r.delivery.count).min().unwrap_or(1);
            self.delivery.store(first, Ordering::SeqCst);
            let requests: Vec<(&WriteRequest, u32)> = received
                .iter()
                .map(|r| (&r.message, r.delivery.count))
                .collect();
            let handled = {
                // Each request's spans go under its own record's span.
                let spans: Vec<tracing::Span> = received.iter().map(|r| r.span.clone()).collect();
                self.writer
                    .handle_batch_traced(&requests, &spans, Some(give_up_at))
                    .await?
            };
            let outcomes = received
                .iter()
                .zip(&handled)
                .map(|(r, h)| describe(&r.message, h))
                .collect();
            Ok((received, outcomes))
        })
        .await?;
        Ok(())
    }
}

/// What a refusal needs after giving up on a lock: releasing the locks
/// taken so far and answering the client.
const REFUSAL_MARGIN_MS: i64 = 1_000;

/// When to stop waiting for locks, from the invocation's deadline (epoch
/// milliseconds): early enough to refuse the write before Lambda kills the
/// invocation.
fn give_up_at(deadline_ms: u64) -> i64 {
    i64::try_from(deadline_ms).unwrap_or(i64::MAX) - REFUSAL_MARGIN_MS
}

fn describe(req: &WriteRequest, handled: &Handled) -> String {
    let what = match handled {
        Handled::Forwarded => "forwarded".to_string(),
        Handled::Refused(e) => format!("refused {}", e.code_name()),
        Handled::AlreadyCommitted => "already committed".to_string(),
        Handled::Duplicate => "duplicate of a decided request".to_string(),
    };
    format!(
        "{} {} {}: {what}",
        req.op.name(),
        req.op.path(),
        req.token()
    )
}

/// A test hook: dies between taking the locks and handing the write over,
/// the worst moment for a writer to crash. Only on a first delivery, so the
/// redelivered message shows recovery.
struct CrashBeforePush {
    inner: SqsCommitQueue,
    path: String,
    delivery: Arc<AtomicU32>,
}

#[async_trait]
impl CommitQueue for CrashBeforePush {
    async fn push(&self, commit: &CommitRequest) -> Result<(), StoreError> {
        if commit.op.path() == self.path && self.delivery.load(Ordering::SeqCst) == 1 {
            tracing::error!(path = %self.path, token = %commit.token, "fault injection: crashing with the locks held");
            std::process::abort();
        }
        self.inner.push(commit).await
    }
}
