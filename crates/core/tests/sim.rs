//! A whole deployment in memory: the writer and distributor wired to the
//! in-memory ports, driven one request at a time.

#![allow(dead_code, clippy::new_without_default)]

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use fk_core::distributor::{Distributed, Distributor};
use fk_core::memory::{
    MemoryCommitQueue, MemoryNotifications, MemoryReplies, MemorySystemStore, MemoryUserStore,
    MemoryWatchQueue,
};
use fk_core::system::{SessionRecord, SystemStore};
use fk_core::writer::{Handled, Writer, WriterConfig};
use fk_core::{
    Clock, CreateMode, Error, Op, OpResult, Reply, SessionId, UserNode, UserStore, WriteRequest,
};

/// Milliseconds that follow tokio's clock, so paused-time tests move it.
pub struct TokioClock(pub tokio::time::Instant);

impl Clock for TokioClock {
    fn now_ms(&self) -> i64 {
        1_700_000_000_000 + self.0.elapsed().as_millis() as i64
    }
}

pub const LOCK_TTL_MS: i64 = 5_000;

pub struct Sim {
    pub system: Arc<MemorySystemStore>,
    pub user: Arc<MemoryUserStore>,
    pub commits: Arc<MemoryCommitQueue>,
    pub replies: Arc<MemoryReplies>,
    pub watch_queue: Arc<MemoryWatchQueue>,
    pub notifications: Arc<MemoryNotifications>,
    pub writer: Writer,
    pub distributor: Distributor,
    seqs: HashMap<SessionId, u64>,
}

impl Sim {
    pub fn new() -> Self {
        let system = Arc::new(MemorySystemStore::new());
        let user = Arc::new(MemoryUserStore::with_max_data_len(1024));
        let commits = Arc::new(MemoryCommitQueue::default());
        let replies = Arc::new(MemoryReplies::default());
        let clock = Arc::new(TokioClock(tokio::time::Instant::now()));
        let writer = Writer::new(
            system.clone(),
            commits.clone(),
            replies.clone(),
            clock,
            WriterConfig {
                lock_ttl_ms: LOCK_TTL_MS,
                max_data_len: 1024,
            },
        );
        let watch_queue = Arc::new(MemoryWatchQueue::default());
        let distributor = Distributor::new(
            system.clone(),
            user.clone(),
            replies.clone(),
            watch_queue.clone(),
        );
        Sim {
            system,
            user,
            commits,
            replies,
            watch_queue,
            notifications: Arc::new(MemoryNotifications::default()),
            writer,
            distributor,
            seqs: HashMap::new(),
        }
    }

    /// A second writer/distributor pair on the same stores, as another
    /// function instance would be.
    pub fn second_distributor(&self) -> Distributor {
        Distributor::new(
            self.system.clone(),
            self.user.clone(),
            self.replies.clone(),
            self.watch_queue.clone(),
        )
    }

    pub async fn open_session(&mut self) -> SessionId {
        let id = SessionId::random();
        let created = self
            .system
            .create_session(&SessionRecord {
                id,
                timeout_ms: 10_000,
                reply_to: reply_address(id),
                last_seq: 0,
                refused: Vec::new(),
                ephemerals: vec![],
                heartbeat_ms: 0,
            })
            .await
            .unwrap();
        assert!(created);
        self.seqs.insert(id, 0);
        id
    }

    /// Builds the next request of a session without sending it.
    pub fn request(&mut self, session: SessionId, op: Op) -> WriteRequest {
        let seq = self.seqs.entry(session).or_default();
        *seq += 1;
        WriteRequest {
            session,
            seq: *seq,
            reply_to: reply_address(session),
            op,
        }
    }

    /// Sends a request through the writer and drains the distributor queue;
    /// returns the reply the session got.
    pub async fn write(&mut self, session: SessionId, op: Op) -> Result<OpResult, Error> {
        let req = self.request(session, op);
        self.writer.handle(&req, 1).await.unwrap();
        self.drain().await;
        self.reply_for(&req)
    }

    /// Runs the distributor over everything queued.
    pub async fn drain(&self) -> Vec<Distributed> {
        let mut done = Vec::new();
        while let Some(commit) = self.commits.pop() {
            done.push(self.distributor.handle(&commit).await.unwrap());
        }
        while let Some(batch) = self.watch_queue.pop() {
            fk_core::watch::deliver(self.notifications.as_ref(), &batch)
                .await
                .unwrap();
        }
        done
    }

    /// Runs the distributor over everything queued, in batches of up to
    /// `size` as the event source mapping hands them out, with group
    /// commit.
    pub async fn drain_batched(&self, size: usize) -> Vec<Distributed> {
        let mut done = Vec::new();
        loop {
            let batch: Vec<_> = std::iter::from_fn(|| self.commits.pop())
                .take(size)
                .collect();
            if batch.is_empty() {
                break;
            }
            done.extend(self.distribute_batch(&self.distributor, &batch).await);
        }
        done
    }

    /// Hands `batch` to `distributor` as one event.
    pub async fn distribute_batch(
        &self,
        distributor: &Distributor,
        batch: &[fk_core::CommitRequest],
    ) -> Vec<Distributed> {
        let traced: Vec<_> = batch.iter().map(|c| (c, tracing::Span::none())).collect();
        let done = distributor.handle_batch(&traced).await.unwrap();
        distributor.flush().await.unwrap();
        done
    }

    /// The first reply to `req`, consuming the replies seen so far.
    pub fn reply_for(&self, req: &WriteRequest) -> Result<OpResult, Error> {
        let replies: Vec<Reply> = self.replies.take().into_iter().map(|(_, r)| r).collect();
        let reply = replies
            .into_iter()
            .find(|r| r.session == req.session && r.seq == req.seq)
            .expect("a reply for the request");
        reply.outcome.into()
    }

    pub async fn read(&self, path: &str) -> Option<UserNode> {
        self.user.get(path).await.unwrap()
    }
}

pub fn reply_address(session: SessionId) -> String {
    format!("reply-{session}")
}

pub fn create(path: &str, data: &str) -> Op {
    create_mode(path, data, CreateMode::Persistent)
}

pub fn create_mode(path: &str, data: &str, mode: CreateMode) -> Op {
    Op::Create {
        path: path.into(),
        data: Bytes::copy_from_slice(data.as_bytes()),
        mode,
    }
}

pub fn set(path: &str, data: &str, version: Option<i32>) -> Op {
    Op::SetData {
        path: path.into(),
        data: Bytes::copy_from_slice(data.as_bytes()),
        version,
    }
}

pub fn delete(path: &str, version: Option<i32>) -> Op {
    Op::Delete {
        path: path.into(),
        version,
    }
}

pub fn created_path(result: Result<OpResult, Error>) -> String {
    match result {
        Ok(OpResult::Created { path, .. }) => path,
        other => panic!("expected a create, got {other:?}"),
    }
}

pub fn handled_forwarded(h: Handled) {
    assert_eq!(h, Handled::Forwarded);
}
