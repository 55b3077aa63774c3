//! Write throughput of the design, without the emulator.
//!
//! On the local stack every call goes to one moto process, which runs at
//! one core's worth of Python and caps the stack whatever the number of
//! sessions. Here the real writer and distributor run in process on the
//! in-memory stores, and each backend call and queue hop waits as long as
//! it takes on AWS (the p50s of `numbers.md`), so the figure shows how the
//! design itself scales: writer instances per session (Lambda scales a
//! FIFO queue's consumers with its message groups) and one distributor that
//! commits in the one total order, taking the messages that have arrived in
//! batches of up to 10 as the event source mapping hands them over, each
//! reply overlapping the next write's commit as in the function.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use fk_core::distributor::Distributor;
use fk_core::memory::{MemorySystemStore, MemoryUserStore};
use fk_core::system::{
    CommitOutcome, Counter, LockOutcome, LockRequest, RefusalRecord, SessionRecord, SystemCommit,
    SystemStore, WatchRegistration,
};
use fk_core::user::UserWrite;
use fk_core::watch::{WatchBatch, WatchKind, WatchQueue};
use fk_core::writer::{Writer, WriterConfig};
use fk_core::{
    CommitQueue, CommitRequest, CreateMode, Op, Reply, ReplySink, SessionId, StoreError,
    SystemClock, UserNode, UserStore, WriteRequest,
};
use tokio::sync::mpsc;

/// The distributor's batch size (the event source mapping's, in Terraform).
const DISTRIBUTOR_BATCH: usize = 10;

/// Delays, from the original's measurements on AWS (p50).
#[derive(Debug, Clone, Copy)]
pub struct Delays {
    /// A DynamoDB call of system storage (lock, commit, counter).
    pub system: Duration,
    /// A user-storage call (S3 about 20 ms, DynamoDB 5, Redis under 1).
    pub user: Duration,
    /// SendMessage, paid by the sender.
    pub send: Duration,
    /// From SendMessage to the consumer holding the message.
    pub hop: Duration,
}

impl Delays {
    pub fn aws(user_call_ms: u64) -> Self {
        Delays {
            system: Duration::from_millis(5),
            user: Duration::from_millis(user_call_ms),
            send: Duration::from_millis(13),
            hop: Duration::from_millis(24),
        }
    }
}

/// The one distributor's ceiling in writes/s for a `set`: it commits (one
/// system call) and writes user storage (one call) for each write in turn;
/// its replies overlap the next commit.
pub fn distributor_ceiling(delays: Delays) -> f64 {
    1.0 / (delays.system + delays.user).as_secs_f64()
}

/// Writes per second with `sessions` clients each setting its own node in
/// a loop for `run`.
pub async fn throughput(delays: Delays, sessions: usize, run: Duration) -> f64 {
    let system = Arc::new(SlowSystem {
        inner: MemorySystemStore::new(),
        delay: delays.system,
    });
    let user = Arc::new(SlowUser {
        inner: MemoryUserStore::with_max_data_len(1024),
        delay: delays.user,
    });
    let replies = Arc::new(Replies {
        delays,
        clients: Mutex::new(HashMap::new()),
    });
    let (commit_tx, mut commit_rx) = mpsc::unbounded_channel::<(Instant, CommitRequest)>();
    let commits = Arc::new(Commits {
        delays,
        tx: commit_tx,
    });
    let writer = Arc::new(Writer::new(
        system.clone(),
        commits,
        replies.clone(),
        Arc::new(SystemClock),
        WriterConfig {
            lock_ttl_ms: 30_000,
            max_data_len: 1024,
        },
    ));
    let distributor = Distributor::new(system.clone(), user, replies.clone(), Arc::new(NoWatches));
    // One distributor, in queue order: the total order.
    let distributing = tokio::spawn(async move {
        let mut next = None;
        loop {
            let (at, commit) = match next.take() {
                Some(arrived) => arrived,
                None => match commit_rx.recv().await {
                    Some(arrived) => arrived,
                    None => break,
                },
            };
            tokio::time::sleep_until(at.into()).await;
            let mut batch = vec![commit];
            while batch.len() < DISTRIBUTOR_BATCH {
                match commit_rx.try_recv() {
                    Ok((at, commit)) if at <= Instant::now() => batch.push(commit),
                    Ok(not_yet) => {
                        next = Some(not_yet);
                        break;
                    }
                    Err(_) => break,
                }
            }
            for commit in &batch {
                distributor
                    .handle_overlapped(commit)
                    .await
                    .expect("in-memory stores");
            }
            distributor.flush().await.expect("in-memory stores");
        }
    });

    let done = Arc::new(AtomicU64::new(0));
    // Every session creates its node, then all start writing at once.
    let ready = Arc::new(tokio::sync::Barrier::new(sessions));
    let mut clients = Vec::new();
    for i in 0..sessions {
        let id = SessionId::random();
        let reply_to = format!("client-{i}");
        let (tx, rx) = mpsc::unbounded_channel();
        replies.clients.lock().unwrap().insert(reply_to.clone(), tx);
        system
            .inner
            .create_session(&session(id, &reply_to))
            .await
            .unwrap();
        clients.push((id, reply_to, rx));
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, (session, reply_to, mut replies))| {
            let (writer, done, ready) = (writer.clone(), done.clone(), ready.clone());
            let path = format!("/tp{i}");
            tokio::spawn(async move {
                let mut seq = 0;
                let mut write = |op: Op| {
                    seq += 1;
                    WriteRequest {
                        session,
                        seq,
                        reply_to: reply_to.clone(),
                        op,
                    }
                };
                // Each session's writer instance, as Lambda runs one per
                // busy message group.
                let send = |req: WriteRequest| {
                    let writer = writer.clone();
                    async move {
                        tokio::time::sleep(delays.send + delays.hop).await;
                        writer.handle(&req, 1).await.expect("in-memory stores");
                    }
                };
                send(write(Op::Create {
                    path: path.clone(),
                    data: Bytes::new(),
                    mode: CreateMode::Persistent,
                }))
                .await;
                replies.recv().await.expect("a reply");
                ready.wait().await;
                let start = Instant::now();
                let deadline = start + run;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    send(write(Op::SetData {
                        path: path.clone(),
                        data: Bytes::from_static(b"abcd"),
                        version: None,
                    }))
                    .await;
                    replies.recv().await.expect("a reply");
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                start.elapsed()
            })
        })
        .collect();
    let mut longest = Duration::ZERO;
    for task in tasks {
        longest = longest.max(task.await.unwrap());
    }
    distributing.abort();
    done.load(Ordering::Relaxed) as f64 / longest.as_secs_f64()
}

fn session(id: SessionId, reply_to: &str) -> SessionRecord {
    SessionRecord {
        id,
        timeout_ms: 60_000,
        reply_to: reply_to.into(),
        last_seq: 0,
        refused: Vec::new(),
        ephemerals: vec![],
        heartbeat_ms: 0,
    }
}

/// The distributor queue: SendMessage on the writer's time, then the hop.
struct Commits {
    delays: Delays,
    tx: mpsc::UnboundedSender<(Instant, CommitRequest)>,
}

#[async_trait]
impl CommitQueue for Commits {
    async fn push(&self, commit: &CommitRequest) -> Result<(), StoreError> {
        tokio::time::sleep(self.delays.send).await;
        let _ = self
            .tx
            .send((Instant::now() + self.delays.hop, commit.clone()));
        Ok(())
    }
}

/// Replies: SendMessage on the sender's time, then the hop to the client.
struct Replies {
    delays: Delays,
    clients: Mutex<HashMap<String, mpsc::UnboundedSender<Reply>>>,
}

#[async_trait]
impl ReplySink for Replies {
    async fn reply(&self, reply_to: &str, reply: &Reply) -> Result<(), StoreError> {
        tokio::time::sleep(self.delays.send).await;
        let client = self.clients.lock().unwrap().get(reply_to).cloned();
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
struct NoWatches;

#[async_trait]
impl WatchQueue for NoWatches {
    async fn push(&self, _batch: &WatchBatch) -> Result<(), StoreError> {
        unreachable!("the throughput workload sets no watches")
    }
}

struct SlowSystem {
    inner: MemorySystemStore,
    delay: Duration,
}

#[async_trait]
impl SystemStore for SlowSystem {
    async fn lock(&self, req: LockRequest<'_>) -> Result<LockOutcome, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.lock(req).await
    }
    async fn unlock(&self, path: &str, token: &str) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.unlock(path, token).await
    }
    async fn commit(&self, commit: &SystemCommit) -> Result<CommitOutcome, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.commit(commit).await
    }
    async fn record_refusal(
        &self,
        session: SessionId,
        seq: u64,
    ) -> Result<RefusalRecord, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.record_refusal(session, seq).await
    }
    async fn counter(&self) -> Result<Counter, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.counter().await
    }
    async fn create_session(&self, session: &SessionRecord) -> Result<bool, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.create_session(session).await
    }
    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.session(id).await
    }
    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.delete_session(id).await
    }
    async fn touch_session(&self, id: SessionId, now_ms: i64) -> Result<bool, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.touch_session(id, now_ms).await
    }
    async fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.sessions().await
    }
    async fn register_watch(&self, reg: WatchRegistration<'_>) -> Result<bool, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.register_watch(reg).await
    }
    async fn remove_watch(
        &self,
        path: &str,
        kind: WatchKind,
        session: SessionId,
    ) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.remove_watch(path, kind, session).await
    }
}

struct SlowUser {
    inner: MemoryUserStore,
    delay: Duration,
}

#[async_trait]
impl UserStore for SlowUser {
    async fn get(&self, path: &str) -> Result<Option<UserNode>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.get(path).await
    }
    async fn apply(&self, zxid: i64, write: &UserWrite) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.apply(zxid, write).await
    }
    fn max_data_len(&self) -> usize {
        self.inner.max_data_len()
    }
}
