//! Handles a batch of validated writes from the distributor FIFO queue.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use fk_aws::calls::CallCounter;
use fk_aws::clients::{sdk_config, Clients};
use fk_aws::sqs::{SqsReplySink, SqsWatchQueue};
use fk_aws::system::DynamoSystemStore;
use fk_core::distributor::{Distributed, Distributor};
use fk_core::{CommitRequest, StoreError};
use fk_lambda::batch::{for_whole_batch_of_commits, BatchContext, Received};
use tracing::Instrument as _;

use crate::config::Config;

pub struct DistributorFunction {
    distributor: Distributor,
    batch: BatchContext,
    group_commit: bool,
}

impl DistributorFunction {
    /// Builds the clients once per sandbox (the Redis connection included).
    pub async fn build(config: &Config) -> Result<Self, StoreError> {
        let calls = CallCounter::new();
        let sdk = sdk_config(config.aws.endpoint.as_deref(), &config.aws.region).await;
        let clients = Clients::new(&sdk, &calls);
        let user = fk_aws::user::connect(&config.user_store, &clients, &calls).await?;
        let distributor = Distributor::new(
            Arc::new(
                DynamoSystemStore::new(
                    clients.dynamodb.clone(),
                    config.system_table.clone(),
                    config.sessions_table.clone(),
                )
                .with_lean(clients.lean_dynamodb.clone()),
            ),
            user,
            Arc::new(SqsReplySink::new(clients.sqs.clone()).with_lean(clients.lean_sqs.clone())),
            Arc::new(SqsWatchQueue::new(
                clients.sqs.clone(),
                config.watch_queue_url.clone(),
            )),
        );
        Ok(DistributorFunction {
            distributor,
            batch: BatchContext {
                sqs: clients.sqs,
                dead_letter_url: config.dead_letter_url.clone(),
                calls,
            },
            group_commit: config.group_commit,
        })
    }

    /// Handles a batch of distributor-queue messages, each one commit or
    /// a writer batch's bundle of them, in queue order.
    pub async fn handle(&self, event: SqsEvent) -> Result<(), lambda_runtime::Error> {
        for_whole_batch_of_commits(&event, &self.batch, |received| async move {
            let done = if self.group_commit {
                self.group(&received).await?
            } else {
                self.one_at_a_time(&received).await?
            };
            // Every reply is out before the batch is acknowledged.
            self.distributor.flush().await?;
            let outcomes = received
                .iter()
                .zip(&done)
                .map(|(r, d)| describe(&r.message, d))
                .collect();
            Ok((received, outcomes))
        })
        .await?;
        Ok(())
    }

    /// The whole batch at once: its writes are committed as groups and
    /// reach user storage together (docs/write-path.md, "Group commit").
    async fn group(
        &self,
        received: &[Received<CommitRequest>],
    ) -> Result<Vec<Distributed>, StoreError> {
        let traced: Vec<_> = received
            .iter()
            .map(|r| (&r.message, r.span.clone()))
            .collect();
        self.distributor.handle_batch(&traced).await
    }

    /// One write after the other; a reply may still be on its way while
    /// the next write commits.
    async fn one_at_a_time(
        &self,
        received: &[Received<CommitRequest>],
    ) -> Result<Vec<Distributed>, StoreError> {
        let mut done = Vec::with_capacity(received.len());
        for r in received {
            let handled = self
                .distributor
                .handle_overlapped(&r.message)
                .instrument(r.span.clone());
            done.push(handled.await?);
        }
        Ok(done)
    }
}

fn describe(commit: &CommitRequest, done: &Distributed) -> String {
    let what = match done {
        Distributed::Committed(zxid) => format!("committed zxid {zxid}"),
        Distributed::Replayed(zxid) => format!("replayed zxid {zxid}"),
        Distributed::Refused(e) => format!("refused {}", e.code_name()),
        Distributed::Synced => "synced".to_string(),
        Distributed::Duplicate => "duplicate of a decided request, dropped".to_string(),
    };
    format!(
        "{} {} {}: {what}",
        commit.op.name(),
        commit.op.path(),
        commit.token
    )
}
