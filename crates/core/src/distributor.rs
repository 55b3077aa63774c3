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

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use crate::heartbeat::{refusal_is_final, EXPIRY_SEQ};
use crate::queue::send_replies;
use crate::spans::in_all;
use crate::system::{
    CommitOutcome, Counter, NodeWrite, PersistentChanges, RefusalRecord, SystemCommit, SystemStore,
    RECENT_COMMITS,
};
use crate::transition::apply;
use crate::user::{CommitWrites, UserWrite};
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
    /// Writes answered since the last [`flush`](Self::flush): how far the
    /// oldest write whose reply may still be lost has moved down the
    /// counter's memory of recent commits (see `commit_run`).
    answered_since_flush: AtomicUsize,
}

/// A reply on its way.
struct Unconfirmed {
    reply_to: String,
    sent: JoinHandle<Result<(), StoreError>>,
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

/// How many rounds in a row a run may re-read the counter without
/// deciding any request.
const MAX_COUNTER_RETRIES: usize = 5;

/// One request of a batch and the span it continues (its record's).
pub type Traced<'a> = (&'a CommitRequest, tracing::Span);

/// A request of a group, numbered and ready to finish.
struct Member<'a> {
    /// Its place in the run.
    index: usize,
    req: &'a CommitRequest,
    zxid: i64,
    /// The watches it fires by: the persistent ones as they stood before
    /// its commit, the notifications in flight after it.
    before: Known,
    replayed: bool,
}

/// A committed request whose user-storage writes wait to be applied.
struct Prepared<'a> {
    member: &'a Member<'a>,
    writes: Vec<UserWrite>,
    result: OpResult,
    after_event: Option<i64>,
}

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
            answered_since_flush: AtomicUsize::new(0),
        }
    }

    /// Commits, applies and answers one request, in queue order; the reply
    /// is out when this returns.
    ///
    /// An `Err` means a backend failed; the caller lets the queue deliver
    /// the message (and every later one) again.
    pub async fn handle(&self, req: &CommitRequest) -> Result<Distributed, StoreError> {
        let done = self.handle_overlapped(req).await?;
        self.flush().await?;
        Ok(done)
    }

    /// As [`handle`](Self::handle), but the reply may still be on its way
    /// when this returns, so that the next request's commit overlaps it.
    /// Call [`flush`](Self::flush) before acknowledging the batch.
    pub async fn handle_overlapped(&self, req: &CommitRequest) -> Result<Distributed, StoreError> {
        let mut done = self
            .handle_batch(&[(req, tracing::Span::current())])
            .await?;
        Ok(done.remove(0))
    }

    /// Commits, applies and answers a batch of requests in queue order,
    /// with group commit: consecutive writes get consecutive zxids and are
    /// committed together ([`SystemStore::commit_group`]), their changes
    /// reach user storage together ([`UserStore::apply_batch`]), and each
    /// is answered as if alone. The replies may still be on their way when
    /// this returns: call [`flush`](Self::flush) before acknowledging.
    ///
    /// An `Err` means a backend failed; the whole batch comes again, and
    /// what was committed of it is recognised and replayed.
    pub async fn handle_batch(&self, batch: &[Traced<'_>]) -> Result<Vec<Distributed>, StoreError> {
        let spans: Vec<tracing::Span> = batch
            .iter()
            .map(|(req, parent)| {
                tracing::info_span!(
                    parent: parent,
                    "distribute",
                    zk.op = req.op.name(),
                    zk.path = req.op.path(),
                    zk.session = %req.session,
                    zk.seq = req.seq,
                    zk.zxid = tracing::field::Empty,
                    fk.group = tracing::field::Empty,
                )
            })
            .collect();
        let requests: Vec<&CommitRequest> = batch.iter().map(|(req, _)| *req).collect();
        match self.distribute(&requests, &spans).await {
            Ok(done) => Ok(done),
            Err(e) => {
                // The batch fails and comes again whole: let the replies on
                // their way land now, not in a later invocation.
                let _ = self.flush().await;
                Err(e)
            }
        }
    }

    /// Waits for every reply on its way; the first failure, if any.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.confirm(None).await
    }

    /// Sends `reply` after every earlier reply to the same session; it may
    /// still be on its way when this returns. A session's replies follow
    /// each other in a chain of their own (each waits for the one before
    /// and is not sent if that failed), so the distributor goes on while
    /// they leave one after the other.
    async fn answer(&self, reply_to: &str, reply: Reply) -> Result<(), StoreError> {
        self.answer_all(reply_to, vec![(reply, tracing::Span::current())]);
        Ok(())
    }

    /// Sends a session's `replies` together, in order (one call where the
    /// sink batches them), after every earlier reply to it, each under the
    /// span beside it.
    fn answer_all(&self, reply_to: &str, replies: Vec<(Reply, tracing::Span)>) {
        self.answered_since_flush
            .fetch_add(replies.len(), Ordering::SeqCst);
        let mut unconfirmed = self.unconfirmed.lock().unwrap();
        let before = unconfirmed
            .iter()
            .position(|u| u.reply_to == reply_to)
            .map(|i| unconfirmed.remove(i).sent);
        let (sink, to) = (self.replies.clone(), reply_to.to_string());
        let sent = tokio::spawn(async move {
            if let Some(before) = before {
                joined(before.await)?;
            }
            send_replies(sink.as_ref(), &to, &replies).await
        });
        unconfirmed.push(Unconfirmed {
            reply_to: reply_to.to_string(),
            sent,
        });
    }

    /// Waits for the replies on their way to `reply_to` (all of them with
    /// `None`).
    async fn confirm(&self, reply_to: Option<&str>) -> Result<(), StoreError> {
        if reply_to.is_none() {
            self.answered_since_flush.store(0, Ordering::SeqCst);
        }
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
            let sent = joined(u.sent.await);
            if first_failure.is_ok() {
                first_failure = sent;
            }
        }
        first_failure
    }

    /// The batch as runs of writes between syncs: a sync is answered when
    /// every write before it is applied.
    async fn distribute(
        &self,
        requests: &[&CommitRequest],
        spans: &[tracing::Span],
    ) -> Result<Vec<Distributed>, StoreError> {
        let mut known = self.known.lock().await;
        let mut done: Vec<Option<Distributed>> = vec![None; requests.len()];
        let mut start = 0;
        while start < requests.len() {
            let end = requests[start..]
                .iter()
                .position(|req| matches!(req.op, Op::Sync { .. }))
                .map_or(requests.len(), |p| start + p);
            if start < end {
                self.commit_run(
                    &mut known,
                    &requests[start..end],
                    &spans[start..end],
                    &mut done[start..end],
                )
                .await?;
            }
            if let Some(req) = requests.get(end) {
                let synced = self.sync(&mut known, req).instrument(spans[end].clone());
                done[end] = Some(synced.await?);
            }
            start = end + 1;
        }
        Ok(done
            .into_iter()
            .map(|d| d.expect("every request of the batch is decided"))
            .collect())
    }

    /// Answers a sync: everything before it in the queue is applied.
    async fn sync(
        &self,
        known: &mut Option<Known>,
        req: &CommitRequest,
    ) -> Result<Distributed, StoreError> {
        let Op::Sync { path } = &req.op else {
            unreachable!("only a sync is answered as one")
        };
        let zxid = match known {
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
        self.answer(&req.reply_to, reply).await?;
        Ok(Distributed::Synced)
    }

    /// Commits a run of writes (no sync among them) in groups, finishing
    /// each group in order before the next, until every write is decided.
    async fn commit_run(
        &self,
        known: &mut Option<Known>,
        run: &[&CommitRequest],
        spans: &[tracing::Span],
        done: &mut [Option<Distributed>],
    ) -> Result<(), StoreError> {
        let mut todo: Vec<usize> = (0..run.len()).collect();
        // Whether `known` was read from the store during this run (rather
        // than remembered from an earlier invocation).
        let mut fresh_read = false;
        // A failed commit not decided yet: the next group stops before it,
        // so that it is decided after every earlier write.
        let mut stop_before: Option<usize> = None;
        let mut stalls = 0;
        while !todo.is_empty() {
            if stalls > MAX_COUNTER_RETRIES {
                return Err(StoreError::transient(
                    "distributor",
                    "the commit counter kept moving; is a second distributor running?",
                ));
            }
            let current = match known.as_ref() {
                Some(k) => k.clone(),
                None => {
                    let counter = self.system.counter().await?;
                    fresh_read = true;
                    let replays: Vec<(usize, i64)> = todo
                        .iter()
                        .filter_map(|&i| {
                            counter
                                .committed_zxid(&run[i].commit_id())
                                .map(|zxid| (i, zxid))
                        })
                        .collect();
                    let current = Known::from(counter);
                    *known = Some(current.clone());
                    if !replays.is_empty() {
                        // Committed by an earlier delivery of this batch,
                        // before any write still to commit: finish them
                        // first, in order.
                        let members: Vec<Member> = replays
                            .iter()
                            .map(|&(index, zxid)| Member {
                                index,
                                req: run[index],
                                zxid,
                                before: current.clone(),
                                replayed: true,
                            })
                            .collect();
                        for (m, result) in members
                            .iter()
                            .zip(self.finish_group(&members, spans).await?)
                        {
                            done[m.index] = Some(result);
                        }
                        todo.retain(|i| done[*i].is_none());
                        stalls = 0;
                        continue;
                    }
                    current
                }
            };

            // A redelivered batch knows its committed writes by the
            // counter's memory of the last RECENT_COMMITS commits; one it
            // does not find there is taken for a copy and dropped
            // unanswered. So no write may leave that memory before its
            // change is applied and its reply is out: a group is at most
            // that long, and once that many writes were answered since
            // the last flush, their replies are confirmed before the next
            // group commits (a batch of bundles holds up to a hundred).
            let mut room = (RECENT_COMMITS as usize)
                .saturating_sub(self.answered_since_flush.load(Ordering::SeqCst));
            if room == 0 {
                self.flush().await?;
                room = RECENT_COMMITS as usize;
            }

            // Number the group: each write sees the watches the ones
            // before it left.
            let mut state = current;
            let mut members = Vec::new();
            let mut commits = Vec::new();
            let mut after = Vec::new();
            let mut unappliable = None;
            for &i in todo
                .iter()
                .take_while(|&&i| stop_before.is_none_or(|s| i < s))
                .take(room)
            {
                let req = run[i];
                let zxid = state.zxid + 1;
                let Some(change) = self.change(req, zxid) else {
                    unappliable = Some(i);
                    break;
                };
                let (commit, next) = self.prepare(req, change, zxid, &state);
                members.push(Member {
                    index: i,
                    req,
                    zxid,
                    before: Known {
                        in_flight: next.in_flight.clone(),
                        ..state
                    },
                    replayed: false,
                });
                commits.push(commit);
                state = next.clone();
                after.push(next);
            }
            stop_before = None;
            if members.is_empty() {
                let i = unappliable.expect("a run with writes to do numbers one at least");
                let refused = self.refuse(run[i], Error::SystemError);
                done[i] = Some(refused.instrument(spans[i].clone()).await?);
                todo.retain(|t| *t != i);
                continue;
            }

            let commit_spans = members
                .iter()
                .map(|m| {
                    spans[m.index].record("zk.zxid", m.zxid);
                    spans[m.index].record("fk.group", members.len());
                    tracing::info_span!(
                        parent: &spans[m.index],
                        "commit",
                        zk.zxid = m.zxid,
                        fk.group = members.len(),
                        db.system = tracing::field::Empty,
                    )
                })
                .collect();
            let outcome = in_all(commit_spans, self.system.commit_group(&commits)).await?;

            let committed = outcome.committed.min(members.len());
            if committed > 0 {
                *known = Some(after[committed - 1].clone());
                let finished = self.finish_group(&members[..committed], spans).await?;
                for (m, result) in members[..committed].iter().zip(finished) {
                    done[m.index] = Some(result);
                }
                todo.retain(|i| done[*i].is_none());
                stalls = 0;
            }
            let Some((failed, why)) = outcome.failed else {
                continue;
            };
            let Some(m) = members.get(failed) else {
                return Err(StoreError::transient(
                    "distributor",
                    format!(
                        "the store refused commit {failed} of a group of {}",
                        members.len()
                    ),
                ));
            };
            let (req, span) = (m.req, spans[m.index].clone());
            match why {
                CommitOutcome::ZxidMismatch => {
                    *known = None;
                    stalls += 1;
                }
                outcome if !fresh_read => {
                    // A lock or session check failed, perhaps because this
                    // is a redelivery of a commit that already happened:
                    // read the counter before believing it.
                    tracing::debug!(?outcome, token = %req.token, "commit refused; rechecking counter");
                    *known = None;
                    stalls += 1;
                }
                _ if failed > committed => {
                    // Writes before it were not committed: they go first.
                    stop_before = Some(m.index);
                }
                CommitOutcome::LockLost { path } => {
                    span.in_scope(
                        || tracing::warn!(%path, token = %req.token, "lock expired before commit"),
                    );
                    done[m.index] = Some(
                        self.refuse(req, Error::OperationTimeout)
                            .instrument(span)
                            .await?,
                    );
                }
                CommitOutcome::SessionMissing => {
                    done[m.index] = Some(
                        self.refuse(req, Error::SessionExpired)
                            .instrument(span)
                            .await?,
                    );
                }
                CommitOutcome::Duplicate => {
                    // Committed before under another commit id, or refused.
                    span.in_scope(|| tracing::info!(token = %req.token, "dropping a copy of a decided request"));
                    self.release(req).instrument(span).await?;
                    done[m.index] = Some(Distributed::Duplicate);
                }
                CommitOutcome::Committed => {
                    return Err(StoreError::transient(
                        "distributor",
                        "the store reported a committed write as failed",
                    ));
                }
            }
            todo.retain(|i| done[*i].is_none());
        }
        Ok(())
    }

    /// The system commit of `req` as `zxid` over the watches in `state`,
    /// and the state after it.
    fn prepare(
        &self,
        req: &CommitRequest,
        mut change: crate::transition::Applied,
        zxid: i64,
        state: &Known,
    ) -> (SystemCommit, Known) {
        let fired = watch::fire(&change.user, &req.pre, &state.persistent);
        for write in &mut change.system {
            if let NodeWrite::Put { path, fired: f, .. } = write {
                if let Some(removed) = fired.removed.get(path.as_str()) {
                    f.removed = removed.clone();
                    f.others_remain = fired.remaining.get(path.as_str()) == Some(&true);
                }
            }
        }
        let persistent = persistent_changes(req, &state.persistent);
        let in_flight = watch::in_flight_after(&state.in_flight, &fired, zxid, req.time_ms);
        let mut watches = state.persistent.clone();
        persistent.apply_to(&mut watches);
        let commit = SystemCommit {
            token: req.token.clone(),
            commit_id: req.commit_id(),
            zxid,
            writes: change.system,
            session: req.session,
            seq: req.seq,
            ephemerals: change.ephemerals,
            close_session: req.close_session,
            persistent,
            in_flight: (in_flight != state.in_flight).then(|| in_flight.clone()),
        };
        let next = Known {
            zxid,
            persistent: watches,
            in_flight,
        };
        (commit, next)
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

    /// After the commit of a group, in zxid order: a write's events go out
    /// before its change reaches user storage and after every earlier
    /// write is answered; the changes of writes without events between
    /// them reach user storage together; each write is answered after its
    /// change.
    async fn finish_group(
        &self,
        members: &[Member<'_>],
        spans: &[tracing::Span],
    ) -> Result<Vec<Distributed>, StoreError> {
        let mut results = Vec::with_capacity(members.len());
        let mut pending: Vec<Prepared> = Vec::new();
        for m in members {
            let span = &spans[m.index];
            span.record("zk.zxid", m.zxid);
            let Some(mut change) = self.change(m.req, m.zxid) else {
                results.extend(self.apply_and_answer(&mut pending, spans).await?);
                let refused = self.refuse(m.req, Error::SystemError);
                results.push(refused.instrument(span.clone()).await?);
                continue;
            };
            let fired = watch::fire(&change.user, &m.req.pre, &m.before.persistent);
            // Records carry the notifications in flight (this commit's too).
            let in_flight = watch::in_flight_map(&m.before.in_flight);
            for write in &mut change.user {
                write.set_in_flight(&in_flight);
            }
            if !fired.is_empty() {
                // Every earlier write applied and answered before any event
                // of this one.
                results.extend(self.apply_and_answer(&mut pending, spans).await?);
                self.flush().await?;
                let batch = WatchBatch {
                    zxid: m.zxid,
                    deliveries: fired.deliveries,
                };
                let push = tracing::info_span!(
                    parent: span,
                    "watch.push",
                    zk.zxid = m.zxid,
                    zk.sessions = batch.deliveries.len()
                );
                self.watches.push(&batch).instrument(push).await?;
            }
            pending.push(Prepared {
                member: m,
                writes: change.user,
                result: if m.req.close_session {
                    OpResult::SessionClosed
                } else {
                    change.result
                },
                after_event: in_flight.of(m.req.session),
            });
        }
        results.extend(self.apply_and_answer(&mut pending, spans).await?);
        Ok(results)
    }

    /// Applies the pending writes' changes to user storage in one batch,
    /// then answers each write in order.
    async fn apply_and_answer(
        &self,
        pending: &mut Vec<Prepared<'_>>,
        spans: &[tracing::Span],
    ) -> Result<Vec<Distributed>, StoreError> {
        let commits: Vec<CommitWrites> = pending
            .iter()
            .filter(|p| !p.writes.is_empty())
            .map(|p| CommitWrites {
                zxid: p.member.zxid,
                session: p.member.req.session,
                writes: &p.writes,
            })
            .collect();
        if !commits.is_empty() {
            let size: usize = commits.iter().map(|c| c.writes.len()).sum();
            let write_spans = pending
                .iter()
                .map(|p| {
                    tracing::info_span!(
                        parent: &spans[p.member.index],
                        "user_store.write",
                        zk.path = p.member.req.op.path(),
                        zk.zxid = p.member.zxid,
                        fk.batch = size,
                        db.system = tracing::field::Empty,
                    )
                })
                .collect();
            in_all(write_spans, self.user.apply_batch(&commits)).await?;
        }
        let mut results = Vec::with_capacity(pending.len());
        // Each session's replies, in order, to go out together.
        let mut answers: Vec<(&str, Vec<(Reply, tracing::Span)>)> = Vec::new();
        for p in pending.drain(..) {
            let (m, span) = (p.member, spans[p.member.index].clone());
            let reply = Reply {
                session: m.req.session,
                seq: m.req.seq,
                zxid: m.zxid,
                outcome: Outcome::Ok(p.result),
                after_event: p.after_event,
            };
            let to = m.req.reply_to.as_str();
            match answers.iter_mut().find(|(reply_to, _)| *reply_to == to) {
                Some((_, replies)) => replies.push((reply, span.clone())),
                None => answers.push((to, vec![(reply, span.clone())])),
            }
            if m.req.close_session && m.req.seq == EXPIRY_SEQ {
                // Nobody listens on an expired session's channel any more.
                for (reply_to, replies) in answers.drain(..) {
                    self.answer_all(reply_to, replies);
                }
                self.confirm(Some(to)).await?;
                self.replies.discard(to).instrument(span).await?;
            }
            results.push(if m.replayed {
                Distributed::Replayed(m.zxid)
            } else {
                Distributed::Committed(m.zxid)
            });
        }
        for (reply_to, replies) in answers {
            self.answer_all(reply_to, replies);
        }
        Ok(results)
    }

    /// Refuses the request: the refusal is recorded as the seq's decision
    /// (so that no later copy commits), the locks are released and the
    /// client is answered, unless the seq was decided before, by a copy
    /// of this request: then it is dropped unanswered.
    async fn refuse(&self, req: &CommitRequest, error: Error) -> Result<Distributed, StoreError> {
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
        self.answer(&req.reply_to, reply).await?;
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

/// A reply task's outcome; a panic in it goes on in the caller.
fn joined(sent: Result<Result<(), StoreError>, tokio::task::JoinError>) -> Result<(), StoreError> {
    match sent {
        Ok(sent) => sent,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::transient("distributor", format!("reply: {e}"))),
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
