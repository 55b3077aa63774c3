//! The queues: SendMessage on the sender's time, then the hop to the
//! consumer; the distributor queue's one message group under SQS's quota;
//! the event source mappings that hand arrived messages to invocations.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fk_core::queue::Outgoing;
use fk_core::watch::{WatchBatch, WatchQueue};
use fk_core::{CommitQueue, CommitRequest, Reply, ReplySink, StoreError};
use tokio::sync::{mpsc, Semaphore};

use super::tally::{Role, Tally};
use super::Delays;

/// Messages one SendMessageBatch carries, and one event source mapping
/// hands to an invocation (SQS FIFO's most).
pub const BATCH: usize = 10;

/// A message and when it reaches its consumer.
pub type Arrival<T> = (Instant, T);

/// SQS's quota on one FIFO message group: a token bucket that refills at
/// `per_second` calls of an action and holds a tenth of a second's worth,
/// so that a burst (the writes a batch's replies set off together) goes at
/// once while the rate over time stays within the quota. A throttled call
/// here waits for its token; on AWS it fails and the SDK retries it after
/// a back-off, which is slower.
pub struct Quota {
    interval: Duration,
    /// How far ahead of the rate calls may run: the bucket's size.
    burst: Duration,
    /// When the bucket would be full again (GCRA's theoretical arrival).
    full_at: Mutex<Instant>,
}

impl Quota {
    pub fn per_second(calls: u32) -> Self {
        let interval = Duration::from_secs(1) / calls;
        Quota {
            interval,
            burst: interval * (calls / 10),
            full_at: Mutex::new(Instant::now()),
        }
    }

    async fn take(&self) {
        let wait = {
            let mut full_at = self.full_at.lock().unwrap();
            let now = Instant::now();
            let start = (*full_at).max(now);
            *full_at = start + self.interval;
            start
                .saturating_duration_since(now)
                .saturating_sub(self.burst)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The distributor queue, sent to by the writers.
pub struct Commits {
    pub delays: Delays,
    pub quota: Quota,
    pub tally: Arc<Tally>,
    pub tx: mpsc::UnboundedSender<Arrival<CommitRequest>>,
}

impl Commits {
    async fn send(&self, name: &'static str, commits: impl Iterator<Item = CommitRequest>) {
        self.quota.take().await;
        tokio::time::sleep(self.delays.send).await;
        self.tally.call(Role::Writer, name);
        let at = Instant::now() + self.delays.hop;
        for commit in commits {
            let _ = self.tx.send((at, commit));
        }
    }
}

#[async_trait]
impl CommitQueue for Commits {
    async fn push(&self, commit: &CommitRequest) -> Result<(), StoreError> {
        self.send("SQS.SendMessage", std::iter::once(commit.clone()))
            .await;
        Ok(())
    }

    /// One SendMessageBatch per ten.
    async fn push_batch(&self, batch: &[Outgoing]) -> Result<(), StoreError> {
        for chunk in batch.chunks(BATCH) {
            let name = if chunk.len() == 1 {
                "SQS.SendMessage"
            } else {
                "SQS.SendMessageBatch"
            };
            self.send(name, chunk.iter().map(|out| out.commit.clone()))
                .await;
        }
        Ok(())
    }
}

/// The clients' reply queues.
#[derive(Default)]
pub struct Channels(Mutex<HashMap<String, mpsc::UnboundedSender<Reply>>>);

impl Channels {
    pub fn open(&self, reply_to: &str) -> mpsc::UnboundedReceiver<Reply> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.0.lock().unwrap().insert(reply_to.to_string(), tx);
        rx
    }
}

/// Replies as one function sends them.
pub struct Replies {
    pub delays: Delays,
    pub channels: Arc<Channels>,
    pub tally: Arc<Tally>,
    pub role: Role,
}

#[async_trait]
impl ReplySink for Replies {
    async fn reply(&self, reply_to: &str, reply: &Reply) -> Result<(), StoreError> {
        tokio::time::sleep(self.delays.send).await;
        self.tally.call(self.role, "SQS.SendMessage");
        let client = self.channels.0.lock().unwrap().get(reply_to).cloned();
        if let Some(client) = client {
            let (reply, hop) = (reply.clone(), self.delays.hop);
            tokio::spawn(async move {
                tokio::time::sleep(hop).await;
                let _ = client.send(reply);
            });
        }
        Ok(())
    }

    async fn discard(&self, _reply_to: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// No watches in this workload.
pub struct NoWatches;

#[async_trait]
impl WatchQueue for NoWatches {
    async fn push(&self, _batch: &WatchBatch) -> Result<(), StoreError> {
        unreachable!("the throughput workload sets no watches")
    }
}

/// An event source mapping: whenever one of `concurrency` invocations is
/// free, it takes the messages that have arrived, up to `batch`, in queue
/// order, and hands them to `invoke`. A message that has not arrived yet
/// waits for the next invocation.
pub async fn event_source<T, F, Fut>(
    mut rx: mpsc::UnboundedReceiver<Arrival<T>>,
    batch: usize,
    concurrency: usize,
    invoke: F,
) where
    T: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let free = Arc::new(Semaphore::new(concurrency));
    let mut next = None;
    loop {
        let invocation = free.clone().acquire_owned().await.expect("never closed");
        let (at, first) = match next.take() {
            Some(arrival) => arrival,
            None => match rx.recv().await {
                Some(arrival) => arrival,
                None => return,
            },
        };
        tokio::time::sleep_until(at.into()).await;
        let mut messages = vec![first];
        while messages.len() < batch {
            match rx.try_recv() {
                Ok((at, message)) if at <= Instant::now() => messages.push(message),
                Ok(not_yet) => {
                    next = Some(not_yet);
                    break;
                }
                Err(_) => break,
            }
        }
        let invoke = invoke.clone();
        tokio::spawn(async move {
            invoke(messages).await;
            drop(invocation);
        });
    }
}
