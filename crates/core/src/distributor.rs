//! The distributor function's logic: commit in queue order, apply to user
//! storage, answer the client.
//!
//! The distributor reads one FIFO message group, so it sees writes in the
//! one total order and is the only writer of the commit counter. It gives
//! each write the next zxid, commits system state atomically with the
//! counter (conditional on the writer's locks), applies the change to user
//! storage and replies. A redelivered write is recognised by its token among
//! the counter's recent commits and resumes after the commit.
//!
//! Within a batch the reply to one write may still be on its way while the
//! next write commits ([`Distributor::handle_overlapped`]): a reply is the
//! last step of a write and nothing later in the order depends on it, so
//! the distributor's time per write drops by one SendMessage. Three rules
//! keep what clients see unchanged: a session's replies leave one after the
//! other (a FIFO queue orders only what it has received); every earlier
//! reply is out before a later write's watch events go out; and every reply
//! is out before the batch is acknowledged ([`Distributor::flush`]).

use std::sync::Arc;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use crate::heartbeat::{refusal_is_final, EXPIRY_SEQ};
use crate::queue::send_reply;
use crate::system::{
    CommitOutcome, Counter, NodeWrite, PersistentChanges, RefusalRecord, SystemCommit, SystemStore,
};
use crate::transition::apply;
use crate::watch::{self, InFlightEntry, PersistentWatch, WatchBatch, WatchQueue};
use crate::{CommitRequest, Error, Op, OpResult, Outcome, Reply, ReplySink, StoreError, UserStore};

/// What became of one commit request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distributed {
    /// Committed as this zxid, applied and answered.
    Committed(i64),
    /// A redelivery of a commit made earlier as this zxid: applied again
    /// (idempotent) and answered again.
    Replayed(i64),
    /// Not committed; the client was answered with this error.
    Refused(Error),
    /// A sync, answered after every earlier write.
    Synced,
    /// A copy of a request the session already decided (committed or
    /// refused): dropped unanswered, its locks released.
    Duplicate,
}

pub struct Distributor {
    system: Arc<dyn SystemStore>,
    user: Arc<dyn UserStore>,
    replies: Arc<dyn ReplySink>,
    watches: Arc<dyn WatchQueue>,
    /// What this instance last committed or read of the counter. A guess:
    /// the commit is conditional on its zxid, so a stale value costs one
    /// re-read, which also refreshes the persistent watches.
    known: Mutex<Option<Known>>,
    /// Replies sent and not yet confirmed, oldest first.
    unconfirmed: std::sync::Mutex<Vec<Unconfirmed>>,
}

/// A reply on its way.
struct Unconfirmed {
    reply_to: String,
    sent: JoinHandle<Result<(), StoreError>>,
}

/// When a write's reply must be out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Before `handle` returns.
    Now,
    /// By the next [`Distributor::flush`].
    Overlapped,
}

#[derive(Debug, Clone)]
struct Known {
    zxid: i64,
    persistent: Vec<PersistentWatch>,
    in_flight: Vec<InFlightEntry>,
}

impl From<Counter> for Known {
    fn from(counter: Counter) -> Self {
        Known {
            zxid: counter.zxid,
            persistent: counter.persistent,
            in_flight: counter.in_flight,
        }
    }
}

/// How many times a commit is retried after the counter moved under it.
const MAX_COUNTER_RETRIES: usize = 5;

impl Distributor {
    pub fn new(
        system: Arc<dyn SystemStore>,
        user: Arc<dyn UserStore>,
        replies: Arc<dyn ReplySink>,
        watches: Arc<dyn WatchQueue>,
    ) -> Self {
        Distributor {
            system,
            user,
            replies,
            watches,
            known: Mutex::new(None),
            unconfirmed: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Commits, applies and answers one request, in queue order; the reply
    /// is out when this returns.
    ///
    /// An `Err` means a backend failed; the caller lets the queue deliver
    /// the message (and every later one) again.
    pub async fn handle(&self, req: &CommitRequest) -> Result<Distributed, StoreError> {
        self.handle_answering(req, Answer::Now).await
    }

    /// As [`handle`](Self::handle), but the reply may still be on its way
    /// when this returns, so that the next request's commit overlaps it.
    /// Call [`flush`](Self::flush) before acknowledging the batch.
    pub async fn handle_overlapped(&self, req: &CommitRequest) -> Result<Distributed, StoreError> {
        self.handle_answering(req, Answer::Overlapped).await
    }

    /// Waits for every reply on its way; the first failure, if any.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.confirm(None).await
    }

    async fn handle_answering(
        &self,
        req: &CommitRequest,
        answer: Answer,
    ) -> Result<Distributed, StoreError> {
        let span = tracing::info_span!(
            "distribute",
            zk.op = req.op.name(),
            zk.path = req.op.path(),
            zk.session = %req.session,
            zk.seq = req.seq,
            zk.zxid = tracing::field::Empty,
        );
        match self.distribute(req, answer).instrument(span).await {
            Ok(done) => Ok(done),
            Err(e) => {
                // The batch fails and comes again whole: let the replies on
                // their way land now, not in a later invocation.
                let _ = self.flush().await;
                Err(e)
            }
        }
    }

    /// Sends `reply` after every earlier reply to the same session, now or
    /// overlapped as `answer` says.
    async fn answer(&self, reply_to: &str, reply: Reply, answer: Answer) -> Result<(), StoreError> {
        self.confirm(Some(reply_to)).await?;
        match answer {
            Answer::Now => send_reply(self.replies.as_ref(), reply_to, &reply).await,
            Answer::Overlapped => {
                let (replies, to) = (self.replies.clone(), reply_to.to_string());
                let sent = tokio::spawn(
                    async move { send_reply(replies.as_ref(), &to, &reply).await }
                        .in_current_span(),
                );
                self.unconfirmed.lock().unwrap().push(Unconfirmed {
                    reply_to: reply_to.to_string(),
                    sent,
                });
                Ok(())
            }
        }
    }

    /// Waits for the replies on their way to `reply_to` (all of them with
    /// `None`).
    async fn confirm(&self, reply_to: Option<&str>) -> Result<(), StoreError> {
        let waiting: Vec<Unconfirmed> = {
            let mut unconfirmed = self.unconfirmed.lock().unwrap();
            let (waiting, rest) = std::mem::take(&mut *unconfirmed)
                .into_iter()
                .partition(|u| reply_to.is_none_or(|to| u.reply_to == to));
            *unconfirmed = rest;
            waiting
        };
        let mut first_failure = Ok(());
        for u in waiting {
            let sent = match u.sent.await {
                Ok(sent) => sent,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => Err(StoreError::transient("distributor", format!("reply: {e}"))),
            };
            if first_failure.is_ok() {
                first_failure = sent;
            }
        }
        first_failure
    }

    async fn distribute(
        &self,
        req: &CommitRequest,
        answer: Answer,
    ) -> Result<Distributed, StoreError> {
        let mut known = self.known.lock().await;
        if let Op::Sync { path } = &req.op {
            // Everything before it in the queue is applied: answer.
            let zxid = match &*known {
                Some(k) => k.zxid,
                None => self.system.counter().await?.zxid,
            };
            let reply = Reply {
                session: req.session,
                seq: req.seq,
                zxid,
                outcome: Outcome::Ok(OpResult::Synced { path: path.clone() }),
                after_event: None,
            };
            self.answer(&req.reply_to, reply, answer).await?;
            return Ok(Distributed::Synced);
        }
        let commit_id = req.commit_id();
        let mut fresh_read = false;
        for _ in 0..MAX_COUNTER_RETRIES {
            let current = match &*known {
                Some(k) => k.clone(),
                None => {
                    let counter = self.system.counter().await?;
                    fresh_read = true;
                    if let Some(zxid) = counter.committed_zxid(&commit_id) {
                        let current = Known::from(counter);
                        *known = Some(current.clone());
                        return self.finish(req, zxid, true, &current, answer).await;
                    }
                    Known::from(counter)
                }
            };
            let zxid = current.zxid + 1;
            let Some(mut change) = self.change(req, zxid) else {
                return self.refuse(req, Error::SystemError, answer).await;
            };
            let fired = watch::fire(&change.user, &req.pre, &current.persistent);
            for write in &mut change.system {
                if let NodeWrite::Put { path, fired: f, .. } = write {
                    if let Some(removed) = fired.removed.get(path.as_str()) {
                        f.removed = removed.clone();
                        f.others_remain = fired.remaining.get(path.as_str()) == Some(&true);
                    }
                }
            }
            let persistent = persistent_changes(req, &current.persistent);
            let in_flight = watch::in_flight_after(&current.in_flight, &fired, zxid, req.time_ms);
            let commit = SystemCommit {
                token: req.token.clone(),
                commit_id: commit_id.clone(),
                zxid,
                writes: change.system,
                session: req.session,
                seq: req.seq,
                ephemerals: change.ephemerals,
                close_session: req.close_session,
                persistent: persistent.clone(),
                in_flight: (in_flight != current.in_flight).then(|| in_flight.clone()),
            };
            let span =
                tracing::info_span!("commit", zk.zxid = zxid, db.system = tracing::field::Empty);
            match self.system.commit(&commit).instrument(span).await? {
                CommitOutcome::Committed => {
                    let mut watches = current.persistent.clone();
                    persistent.apply_to(&mut watches);
                    *known = Some(Known {
                        zxid,
                        persistent: watches,
                        in_flight: in_flight.clone(),
                    });
                    // Fired by the watches as they stood before the commit.
                    let before = Known {
                        in_flight,
                        ..current
                    };
                    return self.finish(req, zxid, false, &before, answer).await;
                }
                CommitOutcome::ZxidMismatch => {
                    *known = None;
                }
                outcome if !fresh_read => {
                    // A lock or session check failed, perhaps because this
                    // is a redelivery of a commit that already happened:
                    // read the counter before believing it.
                    tracing::debug!(?outcome, token = %req.token, "commit refused; rechecking counter");
                    *known = None;
                }
                CommitOutcome::LockLost { path } => {
                    tracing::warn!(%path, token = %req.token, "lock expired before commit");
                    return self.refuse(req, Error::OperationTimeout, answer).await;
                }
                CommitOutcome::SessionMissing => {
                    return self.refuse(req, Error::SessionExpired, answer).await;
                }
                CommitOutcome::Duplicate => {
                    // Committed before under another commit id, or refused.
                    tracing::info!(token = %req.token, "dropping a copy of a decided request");
                    self.release(req).await?;
                    return Ok(Distributed::Duplicate);
                }
            }
        }
        Err(StoreError::transient(
            "distributor",
            "the commit counter kept moving; is a second distributor running?",
        ))
    }

    /// What the write does when committed as `zxid`; `None` if it no
    /// longer applies to its own pre-state, which only a bug can cause.
    fn change(&self, req: &CommitRequest, zxid: i64) -> Option<crate::transition::Applied> {
        match apply(&req.op, &req.pre, req.session, zxid, req.time_ms, false) {
            Ok(applied) => Some(applied),
            Err(halt) => {
                tracing::error!(?halt, token = %req.token, "a validated write does not apply");
                None
            }
        }
    }

    /// After the commit: the events go out before the change reaches user
    /// storage, then the change, then the reply.
    async fn finish(
        &self,
        req: &CommitRequest,
        zxid: i64,
        replayed: bool,
        known: &Known,
        answer: Answer,
    ) -> Result<Distributed, StoreError> {
        tracing::Span::current().record("zk.zxid", zxid);
        let Some(mut change) = self.change(req, zxid) else {
            return self.refuse(req, Error::SystemError, answer).await;
        };
        let fired = watch::fire(&change.user, &req.pre, &known.persistent);
        // Records carry the notifications in flight (this commit's too).
        let in_flight = watch::in_flight_map(&known.in_flight);
        for write in &mut change.user {
            write.set_in_flight(&in_flight);
        }
        if !fired.is_empty() {
            // Every earlier reply before any event of this write.
            self.flush().await?;
            let batch = WatchBatch {
                zxid,
                deliveries: fired.deliveries,
            };
            let span = tracing::info_span!(
                "watch.push",
                zk.zxid = zxid,
                zk.sessions = batch.deliveries.len()
            );
            self.watches.push(&batch).instrument(span).await?;
        }
        for write in &change.user {
            let span = tracing::info_span!(
                "user_store.write",
                zk.path = write.path(),
                zk.zxid = zxid,
                db.system = tracing::field::Empty,
            );
            self.user.apply(zxid, write).instrument(span).await?;
        }
        let result = if req.close_session {
            OpResult::SessionClosed
        } else {
            change.result
        };
        let reply = Reply {
            session: req.session,
            seq: req.seq,
            zxid,
            outcome: Outcome::Ok(result),
            after_event: in_flight.of(req.session),
        };
        self.answer(&req.reply_to, reply, answer).await?;
        if req.close_session && req.seq == EXPIRY_SEQ {
            // Nobody listens on an expired session's channel any more.
            self.confirm(Some(&req.reply_to)).await?;
            self.replies.discard(&req.reply_to).await?;
        }
        Ok(if replayed {
            Distributed::Replayed(zxid)
        } else {
            Distributed::Committed(zxid)
        })
    }

    /// Refuses the request: the refusal is recorded as the seq's decision
    /// (so that no later copy commits), the locks are released and the
    /// client is answered, unless the seq was decided before, by a copy
    /// of this request: then it is dropped unanswered.
    async fn refuse(
        &self,
        req: &CommitRequest,
        error: Error,
        answer: Answer,
    ) -> Result<Distributed, StoreError> {
        let recorded = if refusal_is_final(req.seq) {
            self.system.record_refusal(req.session, req.seq).await?
        } else {
            RefusalRecord::Recorded
        };
        self.release(req).await?;
        if recorded == RefusalRecord::AlreadyDecided {
            tracing::info!(token = %req.token, "dropping a copy of a decided request");
            return Ok(Distributed::Duplicate);
        }
        let reply = Reply {
            session: req.session,
            seq: req.seq,
            zxid: 0,
            outcome: Outcome::Err(error),
            after_event: None,
        };
        self.answer(&req.reply_to, reply, answer).await?;
        Ok(Distributed::Refused(error))
    }
}

impl Distributor {
    /// Releases the locks the request's writer took.
    async fn release(&self, req: &CommitRequest) -> Result<(), StoreError> {
        for pre in &req.pre {
            self.system.unlock(&pre.path, &req.token).await?;
        }
        Ok(())
    }
}

/// The persistent watches a request adds or removes: its own `addWatch`
/// or `removeWatches`, or all of its session's when it closes the session.
fn persistent_changes(req: &CommitRequest, current: &[PersistentWatch]) -> PersistentChanges {
    let mine = |w: &&PersistentWatch| w.session == req.session;
    match &req.op {
        Op::AddWatch { path, mode } => PersistentChanges {
            added: vec![PersistentWatch {
                session: req.session,
                path: path.clone(),
                mode: *mode,
                reply_to: req.reply_to.clone(),
            }],
            removed: Vec::new(),
        },
        Op::RemovePersistentWatches { path } => PersistentChanges {
            added: Vec::new(),
            removed: current
                .iter()
                .filter(mine)
                .filter(|w| &w.path == path)
                .cloned()
                .collect(),
        },
        _ if req.close_session => PersistentChanges {
            added: Vec::new(),
            removed: current.iter().filter(mine).cloned().collect(),
        },
        _ => PersistentChanges::default(),
    }
}
