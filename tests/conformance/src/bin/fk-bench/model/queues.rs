//! The queues: SendMessage on the sender's time, then the hop to the
//! consumer; the distributor queue's one message group under SQS's quota;
//! the event source mappings that hand arrived messages to invocations.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fk_core::queue::Outgoing;
use fk_core::watch::{WatchBatch, WatchQueue};
use fk_core::{CommitQueue, CommitRequest, Reply, ReplySink, StoreError};
use tokio::sync::{mpsc, Notify, Semaphore};

use super::tally::{Role, Tally};
use super::Delays;

/// Messages one event source mapping hands to an invocation (SQS FIFO's
/// most).
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

/// The distributor queue, sent to by the writers. A message is a bundle
/// of commits: one for a single push, a writer batch's for
/// [`CommitQueue::push_batch`] (as `SqsCommitQueue` sends them).
pub struct Commits {
    pub delays: Delays,
    pub quota: Quota,
    pub tally: Arc<Tally>,
    pub tx: mpsc::UnboundedSender<Arrival<Vec<CommitRequest>>>,
}

impl Commits {
    async fn send(&self, bundle: Vec<CommitRequest>) {
        self.quota.take().await;
        tokio::time::sleep(self.delays.send).await;
        self.tally.call(Role::Writer, "SQS.SendMessage");
        let _ = self.tx.send((Instant::now() + self.delays.hop, bundle));
    }
}

#[async_trait]
impl CommitQueue for Commits {
    async fn push(&self, commit: &CommitRequest) -> Result<(), StoreError> {
        self.send(vec![commit.clone()]).await;
        Ok(())
    }

    /// One SendMessage for the whole batch (its 4-byte writes fit one
    /// message many times over).
    async fn push_batch(&self, batch: &[Outgoing]) -> Result<(), StoreError> {
        self.send(batch.iter().map(|out| out.commit.clone()).collect())
            .await;
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

    /// One SendMessageBatch for a session's replies (up to ten).
    async fn reply_batch(
        &self,
        reply_to: &str,
        replies: &[(Reply, tracing::Span)],
    ) -> Result<(), StoreError> {
        for chunk in replies.chunks(BATCH) {
            tokio::time::sleep(self.delays.send).await;
            self.tally.call(self.role, "SQS.SendMessageBatch");
            let client = self.channels.0.lock().unwrap().get(reply_to).cloned();
            if let Some(client) = client {
                let (chunk, hop): (Vec<Reply>, _) = (
                    chunk.iter().map(|(r, _)| r.clone()).collect(),
                    self.delays.hop,
                );
                tokio::spawn(async move {
                    tokio::time::sleep(hop).await;
                    for reply in chunk {
                        let _ = client.send(reply);
                    }
                });
            }
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

/// An event source mapping on a FIFO queue of many message groups: as
/// [`event_source`], but an invocation takes only messages of groups no
/// other invocation holds, each group's in order (Lambda's rule for FIFO
/// queues), so that a session's pipelined writes are validated in order.
pub async fn fifo_event_source<T, G, F, Fut>(
    mut rx: mpsc::UnboundedReceiver<Arrival<T>>,
    batch: usize,
    concurrency: usize,
    group: impl Fn(&T) -> G,
    invoke: F,
) where
    T: Send + 'static,
    G: std::hash::Hash + Eq + Clone + Send + 'static,
    F: Fn(Vec<T>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let free = Arc::new(Semaphore::new(concurrency));
    let busy: Arc<Mutex<HashSet<G>>> = Arc::default();
    let freed = Arc::new(Notify::new());
    let mut waiting: VecDeque<Arrival<T>> = VecDeque::new();
    loop {
        let invocation = free.clone().acquire_owned().await.expect("never closed");
        loop {
            while let Ok(arrival) = rx.try_recv() {
                waiting.push_back(arrival);
            }
            let now = Instant::now();
            let mut taken = Vec::new();
            let mut groups = Vec::new();
            {
                let mut busy = busy.lock().unwrap();
                let mut skipped = HashSet::new();
                let mut i = 0;
                // Arrival times grow along the queue: each is its send's
                // end plus the same hop.
                while i < waiting.len() && taken.len() < batch && waiting[i].0 <= now {
                    let g = group(&waiting[i].1);
                    if busy.contains(&g) || skipped.contains(&g) {
                        skipped.insert(g);
                        i += 1;
                        continue;
                    }
                    if !groups.contains(&g) {
                        groups.push(g);
                    }
                    taken.push(waiting.remove(i).expect("in range").1);
                }
                busy.extend(groups.iter().cloned());
            }
            if !taken.is_empty() {
                let (invoke, busy, freed) = (invoke.clone(), busy.clone(), freed.clone());
                tokio::spawn(async move {
                    invoke(taken).await;
                    let mut held = busy.lock().unwrap();
                    for g in &groups {
                        held.remove(g);
                    }
                    drop(held);
                    freed.notify_one();
                    drop(invocation);
                });
                break;
            }
            let next = waiting
                .iter()
                .map(|(at, _)| *at)
                .find(|at| *at > now)
                .unwrap_or(now + Duration::from_secs(3600));
            tokio::select! {
                arrival = rx.recv() => match arrival {
                    Some(arrival) => waiting.push_back(arrival),
                    None => return,
                },
                () = freed.notified() => {}
                () = tokio::time::sleep_until(next.into()) => {}
            }
        }
    }
}
