//! The writer (leader) function's logic: lock, validate, hand over to the
//! distributor in one total order.
//!
//! The writer never commits. It takes the timed locks of every node a write
//! touches, validates the write against the state it found, and pushes the
//! write with that state to the distributor queue, still holding the locks.
//! The distributor commits and releases them in queue order, so the queue
//! order is the commit order and every write is validated against the state
//! it commits on.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;

use crate::queue::send_reply;
use crate::system::{LockOutcome, LockRequest, NodeRecord, SystemStore};
use crate::transition::{check_request, needs_parent_first, validate};
use crate::{
    path, Clock, CommitQueue, CommitRequest, Error, Op, Outcome, PreState, Reply, ReplySink, Stat,
    StoreError, WriteRequest,
};

/// Tunables of the writer.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// How long a lock lives if its holder dies.
    pub lock_ttl_ms: i64,
    /// The largest node data accepted (the user store's limit).
    pub max_data_len: usize,
}

/// The writer's ports.
#[derive(Clone)]
pub struct Writer {
    system: Arc<dyn SystemStore>,
    commits: Arc<dyn CommitQueue>,
    replies: Arc<dyn ReplySink>,
    clock: Arc<dyn Clock>,
    config: WriterConfig,
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Pushed to the distributor, which will commit and reply.
    Forwarded,
    /// Refused with a ZooKeeper error, replied to the client.
    Refused(Error),
    /// A redelivery of a request that was already committed.
    AlreadyCommitted,
}

impl Writer {
    pub fn new(
        system: Arc<dyn SystemStore>,
        commits: Arc<dyn CommitQueue>,
        replies: Arc<dyn ReplySink>,
        clock: Arc<dyn Clock>,
        config: WriterConfig,
    ) -> Self {
        Writer {
            system,
            commits,
            replies,
            clock,
            config,
        }
    }

    /// Handles one request. `delivery` is how many times the queue has
    /// delivered it (SQS's `ApproximateReceiveCount`).
    ///
    /// An `Err` means a backend failed: nothing is half-done that a retry
    /// of the same request would not finish, so the caller lets the queue
    /// deliver it again.
    pub async fn handle(&self, req: &WriteRequest, delivery: u32) -> Result<Handled, StoreError> {
        if let Err(e) = check_request(&req.op, self.config.max_data_len) {
            return self.refuse(req, e).await;
        }
        if delivery > 1 && self.already_committed(req).await? {
            return Ok(Handled::AlreadyCommitted);
        }
        let token = req.token();
        let (op, pre) = match self.lock_nodes(req, &token).await? {
            Locked::Ok(op, pre) => (op, pre),
            Locked::Refused(e) => return self.refuse(req, e).await,
        };
        let paths: Vec<String> = pre.iter().map(|p| p.0.path.clone()).collect();
        if pre
            .iter()
            .any(|(_, rec)| rec.last_token.as_deref() == Some(&token))
        {
            // The distributor committed this request after the session
            // record was read: release what we just took, and stop.
            self.unlock_all(&paths, &token).await?;
            return Ok(Handled::AlreadyCommitted);
        }
        let pre: Vec<PreState> = pre.into_iter().map(|(p, _)| p).collect();
        if let Err(e) = validate(&op, &pre) {
            self.unlock_all(&paths, &token).await?;
            return self.refuse(req, e).await;
        }
        let commit = CommitRequest {
            token,
            session: req.session,
            seq: req.seq,
            reply_to: req.reply_to.clone(),
            time_ms: self.clock.now_ms(),
            op,
            pre,
        };
        self.commits.push(&commit).await?;
        Ok(Handled::Forwarded)
    }

    async fn already_committed(&self, req: &WriteRequest) -> Result<bool, StoreError> {
        let session = self.system.session(req.session).await?;
        Ok(session.is_some_and(|s| s.last_seq >= req.seq))
    }

    async fn refuse(&self, req: &WriteRequest, error: Error) -> Result<Handled, StoreError> {
        let reply = Reply {
            session: req.session,
            seq: req.seq,
            zxid: 0,
            outcome: Outcome::Err(error),
        };
        send_reply(self.replies.as_ref(), &req.reply_to, &reply).await?;
        Ok(Handled::Refused(error))
    }

    /// Locks the nodes the op touches, resolving a sequential name on the way.
    async fn lock_nodes(&self, req: &WriteRequest, token: &str) -> Result<Locked, StoreError> {
        let mut op = req.op.clone();
        let mut taken: Vec<(PreState, NodeRecord)> = Vec::new();
        let first: Vec<String> = match &op {
            Op::Create { path, mode, .. } if needs_parent_first(*mode) => {
                vec![sequential_parent(path).to_string()]
            }
            Op::Create { path, .. } => vec![path::parent(path).to_string(), path.clone()],
            Op::SetData { path, .. } => vec![path.clone()],
            Op::Delete { path, .. } => vec![path.clone(), path::parent(path).to_string()],
        };
        match self.lock_all(&first, token).await? {
            Some(records) => taken.extend(records),
            None => return Ok(Locked::Refused(Error::OperationTimeout)),
        }
        if let Op::Create { path, mode, .. } = &mut op {
            if needs_parent_first(*mode) {
                let parent = &taken[0].0;
                let Some(parent_stat) = parent.stat else {
                    self.unlock_all(&first, token).await?;
                    return Ok(Locked::Refused(Error::NoNode));
                };
                *path = path::sequential(path, parent_stat.cversion);
                if let Err(e) = path::validate(path) {
                    self.unlock_all(&first, token).await?;
                    return Ok(Locked::Refused(e));
                }
                match self.lock_all(std::slice::from_ref(path), token).await? {
                    Some(records) => taken.extend(records),
                    None => {
                        self.unlock_all(&first, token).await?;
                        return Ok(Locked::Refused(Error::OperationTimeout));
                    }
                }
            }
        }
        Ok(Locked::Ok(op, taken))
    }

    /// Takes all the locks or none, waiting while others hold them.
    ///
    /// Never waits while holding a lock: on contention it releases what it
    /// took and backs off, so two writers cannot deadlock. Gives up (`None`)
    /// after twice the lock lifetime, by when every holder's lock expired.
    async fn lock_all(
        &self,
        paths: &[String],
        token: &str,
    ) -> Result<Option<Vec<(PreState, NodeRecord)>>, StoreError> {
        let give_up_at = self.clock.now_ms() + 2 * self.config.lock_ttl_ms;
        let mut backoff = Duration::from_millis(5);
        loop {
            let now = self.clock.now_ms();
            let attempts = paths.iter().map(|p| {
                self.system.lock(LockRequest {
                    path: p,
                    token,
                    now_ms: now,
                    expires_ms: now + self.config.lock_ttl_ms,
                })
            });
            let outcomes = join_all(attempts).await;
            let mut records = Vec::with_capacity(paths.len());
            let mut contended = false;
            let mut failure = None;
            for (path, outcome) in paths.iter().zip(outcomes) {
                match outcome {
                    Ok(LockOutcome::Acquired(rec)) => records.push((
                        PreState {
                            path: path.clone(),
                            stat: root_exists(path, rec.stat),
                        },
                        rec,
                    )),
                    Ok(LockOutcome::Held { .. }) => contended = true,
                    Err(e) => failure = Some(e),
                }
            }
            if failure.is_none() && !contended {
                return Ok(Some(records));
            }
            let acquired: Vec<String> = records.into_iter().map(|(p, _)| p.path).collect();
            self.unlock_all(&acquired, token).await?;
            if let Some(e) = failure {
                return Err(e);
            }
            if self.clock.now_ms() >= give_up_at {
                return Ok(None);
            }
            let jitter = Duration::from_millis(rand::random::<u64>() % 5);
            tokio::time::sleep(backoff + jitter).await;
            backoff = (backoff * 2).min(Duration::from_millis(100));
        }
    }

    async fn unlock_all(&self, paths: &[String], token: &str) -> Result<(), StoreError> {
        let releases = paths.iter().map(|p| self.system.unlock(p, token));
        for result in join_all(releases).await {
            result?;
        }
        Ok(())
    }
}

enum Locked {
    Ok(Op, Vec<(PreState, NodeRecord)>),
    Refused(Error),
}

/// The root always exists; its system record appears with its first change.
fn root_exists(path: &str, stat: Option<Stat>) -> Option<Stat> {
    if path == path::ROOT {
        Some(stat.unwrap_or_default())
    } else {
        stat
    }
}

/// The parent of a sequential create's prefix: `/a/` and `/a/x-` both name
/// a child of `/a`.
fn sequential_parent(prefix: &str) -> &str {
    match prefix.rfind('/') {
        Some(0) | None => path::ROOT,
        Some(i) => &prefix[..i],
    }
}
