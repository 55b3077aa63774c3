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
use tracing::Instrument as _;

use crate::heartbeat::refusal_is_final;
use crate::message::Message as _;
use crate::queue::{send_reply, Outgoing};
use crate::system::{LockOutcome, LockRequest, NodeRecord, RefusalRecord, SystemStore};
use crate::transition::{apply, check_request, paths_to_lock, Halt, Refusal};
use crate::{
    path, Clock, CommitQueue, CommitRequest, Error, Op, Outcome, PreState, Reply, ReplySink,
    SessionId, Stat, StoreError, WriteRequest,
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
    /// A copy of a request the session already decided: not answered again.
    Duplicate,
}

/// What a request may contend for with the others of its batch.
enum Claim {
    /// Its session and the nodes it locks.
    Some(SessionId, Vec<String>),
    /// Anything (a session close: its nodes are known only once its record
    /// is read).
    All,
}

impl Claim {
    fn of(req: &WriteRequest) -> Claim {
        match req.op {
            Op::CloseSession => Claim::All,
            _ => Claim::Some(req.session, paths_to_lock(&req.op)),
        }
    }

    fn meets(&self, other: &Claim) -> bool {
        match (self, other) {
            (Claim::Some(s, paths), Claim::Some(t, others)) => {
                s == t || paths.iter().any(|p| others.contains(p))
            }
            _ => true,
        }
    }
}

/// The batch's requests split into lanes that can be handled at once:
/// requests of one session, or that lock a node in common, share a lane,
/// in batch order. (Requests that wait for each other's locks in different
/// lanes would only poll the lock store meanwhile.)
fn lanes(batch: &[(&WriteRequest, u32)]) -> Vec<Vec<usize>> {
    let claims: Vec<Claim> = batch.iter().map(|(req, _)| Claim::of(req)).collect();
    let mut lanes: Vec<Vec<usize>> = Vec::new();
    for i in 0..batch.len() {
        let (met, mut rest): (Vec<_>, Vec<_>) = lanes
            .into_iter()
            .partition(|lane| lane.iter().any(|&j| claims[j].meets(&claims[i])));
        let mut lane: Vec<usize> = met.into_iter().flatten().collect();
        lane.push(i);
        lane.sort_unstable();
        rest.push(lane);
        lanes = rest;
    }
    lanes.sort_by_key(|lane| lane[0]);
    lanes
}

/// The span of one request's handling, a child of `parent`.
fn write_span(parent: &tracing::Span, req: &WriteRequest) -> tracing::Span {
    tracing::info_span!(
        parent: parent,
        "write",
        zk.op = req.op.name(),
        zk.path = req.op.path(),
        zk.session = %req.session,
        zk.seq = req.seq,
    )
}

/// Validated writes of a batch not pushed yet, in the order they were
/// validated, and the turn to push them: one push at a time, so that the
/// queue gets them in that order (a session's writes in seq order).
#[derive(Default)]
struct HeldBack {
    writes: std::sync::Mutex<Vec<Outgoing>>,
    pushing: tokio::sync::Mutex<()>,
}

/// What one round of locking and validation came to.
enum Attempt {
    Forwarded,
    AlreadyCommitted,
    Refused(Refusal),
}

/// How many rounds of locking a write gets when its sequential name turns
/// out to be taken.
const MAX_ATTEMPTS: u32 = 3;

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
        self.handle_within(req, delivery, None).await
    }

    /// As [`Writer::handle`], but stops waiting for locks at `deadline_ms`
    /// (the caller's clock) and refuses the write with `OperationTimeout`.
    ///
    /// A function passes its invocation's deadline, less the time a refusal
    /// needs: a writer killed at its timeout while waiting would fail its
    /// whole batch, which the queue then delivers again, while the client
    /// learns nothing.
    pub async fn handle_within(
        &self,
        req: &WriteRequest,
        delivery: u32,
        deadline_ms: Option<i64>,
    ) -> Result<Handled, StoreError> {
        let span = write_span(&tracing::Span::current(), req);
        self.handle_request(req, delivery, deadline_ms)
            .instrument(span)
            .await
    }

    /// Handles a batch of requests as [`Writer::handle_within`] would
    /// each, but holds the validated writes back and hands them to the
    /// distributor queue together ([`CommitQueue::push_batch`]) at the
    /// end, or sooner when a request waits for a lock (it may be one of
    /// theirs). Each session's requests are handled in order, and so are
    /// requests that lock a node in common; the others at once (their locks
    /// taken side by side). A request's
    /// `u32` is its delivery count; the results are in the batch's order.
    ///
    /// An `Err` fails the whole batch, which the queue delivers again: the
    /// writes held back are pushed first if possible, and otherwise
    /// resumed with their own locks.
    pub async fn handle_batch(
        &self,
        batch: &[(&WriteRequest, u32)],
        deadline_ms: Option<i64>,
    ) -> Result<Vec<Handled>, StoreError> {
        let parents = vec![tracing::Span::current(); batch.len()];
        self.handle_batch_traced(batch, &parents, deadline_ms).await
    }

    /// As [`Writer::handle_batch`], each request's `write` span a child of
    /// its span in `parents` (its record's, continuing the client's trace).
    pub async fn handle_batch_traced(
        &self,
        batch: &[(&WriteRequest, u32)],
        parents: &[tracing::Span],
        deadline_ms: Option<i64>,
    ) -> Result<Vec<Handled>, StoreError> {
        let held = HeldBack::default();
        // Each write's span is entered again while the batch goes out, so
        // that its held-back push shows inside it.
        let spans: Vec<tracing::Span> = batch
            .iter()
            .zip(parents)
            .map(|((req, _), parent)| write_span(parent, req))
            .collect();
        let lanes = lanes(batch);
        let lanes = lanes.iter().map(|lane| {
            let (held, spans) = (&held, &spans);
            async move {
                let mut done = Vec::with_capacity(lane.len());
                for &i in lane {
                    let (req, delivery) = batch[i];
                    let result = self
                        .handle_request_with(req, delivery, deadline_ms, Some(held))
                        .instrument(spans[i].clone())
                        .await;
                    let failed = result.is_err();
                    done.push((i, result));
                    if failed {
                        // The session's later requests wait for the
                        // batch to come again, in order.
                        break;
                    }
                }
                done
            }
        });
        let mut handled: Vec<Option<Handled>> = (0..batch.len()).map(|_| None).collect();
        let mut failure = None;
        for (i, result) in join_all(lanes).await.into_iter().flatten() {
            match result {
                Ok(done) => handled[i] = Some(done),
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        if let Some(e) = failure {
            let _ = self.release_held(&held).await;
            return Err(e);
        }
        crate::spans::in_all(spans, self.release_held(&held)).await?;
        Ok(handled
            .into_iter()
            .map(|h| h.expect("every lane ran to its end"))
            .collect())
    }

    /// Pushes the writes held back, if any.
    async fn release_held(&self, held: &HeldBack) -> Result<(), StoreError> {
        let _turn = held.pushing.lock().await;
        let batch = std::mem::take(&mut *held.writes.lock().unwrap());
        if batch.is_empty() {
            return Ok(());
        }
        self.commits.push_batch(&batch).await
    }

    async fn handle_request(
        &self,
        req: &WriteRequest,
        delivery: u32,
        deadline_ms: Option<i64>,
    ) -> Result<Handled, StoreError> {
        self.handle_request_with(req, delivery, deadline_ms, None)
            .await
    }

    async fn handle_request_with(
        &self,
        req: &WriteRequest,
        delivery: u32,
        deadline_ms: Option<i64>,
        held: Option<&HeldBack>,
    ) -> Result<Handled, StoreError> {
        if let Err(refusal) = check_request(&req.op, self.config.max_data_len) {
            return self.refuse(req, refusal).await;
        }
        if delivery > 1 && self.already_committed(req).await? {
            return Ok(Handled::AlreadyCommitted);
        }
        let close_session = matches!(req.op, Op::CloseSession);
        let op = if close_session {
            match self.system.session(req.session).await? {
                Some(session) => Op::multi(
                    session
                        .ephemerals
                        .into_iter()
                        .map(|path| Op::Delete {
                            path,
                            version: None,
                        })
                        .collect(),
                ),
                None => {
                    return self
                        .refuse(req, Refusal::Single(Error::SessionExpired))
                        .await
                }
            }
        } else {
            req.op.clone()
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .attempt(req, &op, close_session, deadline_ms, held)
                .await?
            {
                Attempt::Forwarded => return Ok(Handled::Forwarded),
                Attempt::AlreadyCommitted => return Ok(Handled::AlreadyCommitted),
                // Under the parent's lock a sequential name is new, so a
                // node already there means the lock was lost between the
                // rounds and another write took the name: start over with
                // fresh locks. A name that is still taken the next time was
                // created under it (ZooKeeper answers NodeExists then too).
                Attempt::Refused(refusal)
                    if attempt < MAX_ATTEMPTS && sequential_name_taken(&op, &refusal) =>
                {
                    tracing::info!(token = %req.token(), "sequential name taken; locking again");
                }
                Attempt::Refused(refusal) => return self.refuse(req, refusal).await,
            }
        }
    }

    /// One round of locking and validation; every lock taken is released
    /// unless the write was forwarded.
    async fn attempt(
        &self,
        req: &WriteRequest,
        op: &Op,
        close_session: bool,
        deadline_ms: Option<i64>,
        held: Option<&HeldBack>,
    ) -> Result<Attempt, StoreError> {
        let token = req.token();
        let mut locked: Vec<(PreState, NodeRecord)> = Vec::new();
        let mut wanted = paths_to_lock(op);
        loop {
            let lock = tracing::info_span!("lock", zk.paths = %wanted.join(","));
            match self
                .lock_all(&wanted, &token, deadline_ms, held)
                .instrument(lock)
                .await?
            {
                Some(records) => locked.extend(records),
                None => {
                    self.unlock_all(&locked, &token).await?;
                    return Ok(Attempt::Refused(Refusal::Single(Error::OperationTimeout)));
                }
            }
            if locked
                .iter()
                .any(|(_, rec)| rec.last_token.as_deref() == Some(&token))
            {
                // The distributor committed this request after the session
                // record was read: release what we just took, and stop.
                self.unlock_all(&locked, &token).await?;
                return Ok(Attempt::AlreadyCommitted);
            }
            let pre: Vec<PreState> = locked.iter().map(|(p, _)| p.clone()).collect();
            let op = if close_session {
                owned_ephemerals(op, &pre, req)
            } else {
                op.clone()
            };
            let now = self.clock.now_ms();
            let validated = tracing::info_span!("validate")
                .in_scope(|| apply(&op, &pre, req.session, 0, now, true));
            match validated {
                Ok(applied) => {
                    let commit = CommitRequest {
                        token,
                        session: req.session,
                        seq: req.seq,
                        reply_to: req.reply_to.clone(),
                        time_ms: now,
                        op: applied.op,
                        pre,
                        close_session,
                    };
                    if !commit.encode().fits_queue() {
                        // Its pre-state (a multi's paths) made it too large
                        // for the distributor queue: refuse, never retry.
                        self.unlock_all(&locked, &commit.token).await?;
                        return Ok(Attempt::Refused(Refusal::Single(Error::BadArguments)));
                    }
                    let push = tracing::info_span!("push", zk.token = %commit.token);
                    match held {
                        // Its span stays open until the batch goes out.
                        Some(held) => held
                            .writes
                            .lock()
                            .unwrap()
                            .push(Outgoing { commit, span: push }),
                        None => self.commits.push(&commit).instrument(push).await?,
                    }
                    return Ok(Attempt::Forwarded);
                }
                Err(Halt::NeedLock(path)) => wanted = vec![path],
                Err(Halt::Refused(refusal)) => {
                    self.unlock_all(&locked, &token).await?;
                    return Ok(Attempt::Refused(refusal));
                }
            }
        }
    }

    async fn already_committed(&self, req: &WriteRequest) -> Result<bool, StoreError> {
        let session = self.system.session(req.session).await?;
        Ok(session.is_some_and(|s| s.last_seq >= req.seq))
    }

    /// Answers the client with an error, once: the refusal is first
    /// recorded as the seq's decision, and a seq decided before (this is a
    /// copy of a request already answered) is dropped unanswered.
    async fn refuse(&self, req: &WriteRequest, refusal: Refusal) -> Result<Handled, StoreError> {
        let recorded = if refusal_is_final(req.seq) {
            self.system.record_refusal(req.session, req.seq).await?
        } else {
            RefusalRecord::Recorded
        };
        if recorded == RefusalRecord::AlreadyDecided {
            tracing::info!(token = %req.token(), "dropping a copy of a decided request");
            return Ok(Handled::Duplicate);
        }
        let (outcome, error) = match refusal {
            Refusal::Single(e) => (Outcome::Err(e), e),
            Refusal::Multi(f) => {
                let e = f.error;
                (Outcome::MultiErr(f), e)
            }
        };
        let reply = Reply {
            session: req.session,
            seq: req.seq,
            zxid: 0,
            outcome,
            after_event: None,
        };
        send_reply(self.replies.as_ref(), &req.reply_to, &reply).await?;
        Ok(Handled::Refused(error))
    }

    /// Takes all the locks or none, waiting while others hold them.
    ///
    /// Never waits while holding a lock it just asked for: on contention it
    /// releases this round's locks and backs off, so two writers cannot
    /// deadlock on them. Gives up (`None`) after twice the lock lifetime, by
    /// when every holder's lock expired, or at `deadline_ms` if earlier.
    async fn lock_all(
        &self,
        paths: &[String],
        token: &str,
        deadline_ms: Option<i64>,
        held: Option<&HeldBack>,
    ) -> Result<Option<Vec<(PreState, NodeRecord)>>, StoreError> {
        let give_up_at = (self.clock.now_ms() + 2 * self.config.lock_ttl_ms)
            .min(deadline_ms.unwrap_or(i64::MAX));
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
                            watches: rec.watches.clone(),
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
            self.unlock_all(&records, token).await?;
            if let Some(e) = failure {
                return Err(e);
            }
            if self.clock.now_ms() >= give_up_at {
                return Ok(None);
            }
            if let Some(held) = held {
                // The lock may be one a write held back here took: let
                // those writes go on to be committed.
                self.release_held(held).await?;
            }
            let jitter = Duration::from_millis(rand::random::<u64>() % 5);
            tokio::time::sleep(backoff + jitter).await;
            backoff = (backoff * 2).min(Duration::from_millis(100));
        }
    }

    async fn unlock_all(
        &self,
        locked: &[(PreState, NodeRecord)],
        token: &str,
    ) -> Result<(), StoreError> {
        let releases = locked
            .iter()
            .map(|(p, _)| self.system.unlock(&p.path, token));
        for result in join_all(releases).await {
            result?;
        }
        Ok(())
    }
}

/// The deletes of a session close, kept to the nodes that still exist and
/// are still the session's (the session's list may hold stale entries).
fn owned_ephemerals(op: &Op, pre: &[PreState], req: &WriteRequest) -> Op {
    let owned = |path: &str| {
        pre.iter().any(|p| {
            p.path == path
                && p.stat
                    .is_some_and(|s| s.ephemeral_owner == req.session.raw())
        })
    };
    Op::multi(
        op.steps()
            .iter()
            .filter(|step| owned(step.path()))
            .cloned()
            .collect(),
    )
}

/// The root always exists; its system record appears with its first change.
fn root_exists(path: &str, stat: Option<Stat>) -> Option<Stat> {
    if path == path::ROOT {
        Some(stat.unwrap_or_default())
    } else {
        stat
    }
}

/// Whether `refusal` is a sequential create's `NodeExists`.
fn sequential_name_taken(op: &Op, refusal: &Refusal) -> bool {
    let is_sequential = |step: &Op| matches!(step, Op::Create { mode, .. } if mode.is_sequential());
    match refusal {
        Refusal::Single(Error::NodeExists) => is_sequential(op),
        Refusal::Multi(failure) if failure.error == Error::NodeExists => failure
            .results
            .iter()
            .position(|r| r.is_err())
            .and_then(|i| op.steps().get(i))
            .is_some_and(is_sequential),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CreateMode;

    fn request(session: i64, op: Op) -> WriteRequest {
        WriteRequest {
            session: SessionId::from_raw(session).unwrap(),
            seq: 1,
            reply_to: String::new(),
            op,
        }
    }

    fn set(path: &str) -> Op {
        Op::SetData {
            path: path.into(),
            data: Default::default(),
            version: None,
        }
    }

    fn create_sequential(prefix: &str) -> Op {
        Op::Create {
            path: prefix.into(),
            data: Default::default(),
            mode: CreateMode::EphemeralSequential,
        }
    }

    fn lanes_of(requests: &[WriteRequest]) -> Vec<Vec<usize>> {
        let batch: Vec<_> = requests.iter().map(|r| (r, 1)).collect();
        lanes(&batch)
    }

    #[test]
    fn independent_requests_get_a_lane_each() {
        let requests = [
            request(1, set("/a")),
            request(2, set("/b")),
            request(3, set("/c")),
        ];
        assert_eq!(lanes_of(&requests), [vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn a_sessions_requests_and_requests_on_a_common_node_share_a_lane_in_order() {
        let requests = [
            request(1, set("/a")),
            request(2, create_sequential("/dir/lock-")),
            request(1, set("/b")),
            request(3, create_sequential("/dir/lock-")),
            request(4, set("/c")),
            // Joins the lanes of sessions 1 and 2 (it locks /a and /dir).
            request(5, Op::multi(vec![set("/a"), create_sequential("/dir/x-")])),
        ];
        assert_eq!(lanes_of(&requests), [vec![0, 1, 2, 3, 5], vec![4]]);
    }

    #[test]
    fn a_session_close_goes_in_one_lane_with_everything() {
        let requests = [
            request(1, set("/a")),
            request(2, Op::CloseSession),
            request(3, set("/c")),
        ];
        assert_eq!(lanes_of(&requests), [vec![0, 1, 2]]);
    }
}
