//! Group commit: a batch of validated writes gets consecutive zxids and is
//! committed together, with the same result per write as one at a time.

mod sim;

use fk_core::distributor::Distributed;
use fk_core::system::{LockOutcome, LockRequest, SystemStore as _};
use fk_core::writer::Handled;
use fk_core::{CommitRequest, Error, OpResult, Reply, SessionId};
use sim::*;

/// Validates `op` for `session` and returns what the writer queued.
async fn validated(sim: &mut Sim, session: SessionId, op: fk_core::Op) -> CommitRequest {
    let req = sim.request(session, op);
    handled_forwarded(sim.writer.handle(&req, 1).await.unwrap());
    sim.commits.pop().expect("the writer queued the write")
}

fn replies(sim: &Sim) -> Vec<Reply> {
    sim.replies.take().into_iter().map(|(_, r)| r).collect()
}

fn zxids(done: &[Distributed]) -> Vec<i64> {
    done.iter()
        .map(|d| match d {
            Distributed::Committed(z) | Distributed::Replayed(z) => *z,
            other => panic!("expected a commit, got {other:?}"),
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn ten_sessions_writes_commit_as_one_group_with_consecutive_zxids() {
    // Given ten sessions' creates under ten parents (creates under one
    // parent queue behind its lock), validated and queued
    let mut sim = Sim::new();
    let mut batch = Vec::new();
    for i in 0..10 {
        let s = sim.open_session().await;
        sim.write(s, create(&format!("/p{i}"), "")).await.unwrap();
        batch.push(validated(&mut sim, s, create(&format!("/p{i}/n"), "x")).await);
    }
    sim.replies.take();

    // When the distributor gets them as one batch
    let done = sim.distribute_batch(&sim.distributor, &batch).await;

    // Then one group commits them as zxids 1..=10 in queue order, each is
    // applied and each session hears its own zxid
    assert_eq!(zxids(&done), (11..=20).collect::<Vec<_>>());
    assert_eq!(sim.system.group_sizes().last(), Some(&10));
    let replies = replies(&sim);
    assert_eq!(replies.len(), 10);
    for (req, zxid) in batch.iter().zip(11..) {
        let reply = replies.iter().find(|r| r.session == req.session).unwrap();
        assert_eq!(reply.zxid, zxid);
        let path = req.op.path();
        assert_eq!(sim.read(path).await.unwrap().stat.czxid, zxid, "{path}");
    }
    assert_eq!(sim.read("/p9").await.unwrap().children, ["n"]);
}

#[tokio::test(start_paused = true)]
async fn a_write_whose_lock_was_lost_fails_alone_and_the_others_commit_in_order() {
    // Given three sessions' creates, the second of which lost its lock on
    // the root to a later writer after it expired
    let mut sim = Sim::new();
    let mut batch = Vec::new();
    for name in ["/a", "/b", "/c"] {
        let s = sim.open_session().await;
        sim.write(s, create(name, "0")).await.unwrap();
        batch.push(validated(&mut sim, s, set(name, "1", None)).await);
    }
    let stolen = sim
        .system
        .lock(LockRequest {
            path: "/b",
            token: "a later writer",
            now_ms: i64::MAX / 2,
            expires_ms: i64::MAX,
        })
        .await
        .unwrap();
    assert!(matches!(stolen, LockOutcome::Acquired(_)));
    sim.replies.take();
    let before = sim.system.counter().await.unwrap().zxid;

    // When the batch is distributed
    let done = sim.distribute_batch(&sim.distributor, &batch).await;

    // Then the second is refused with OperationTimeout and changes
    // nothing; the others commit as consecutive zxids
    assert_eq!(
        done,
        [
            Distributed::Committed(before + 1),
            Distributed::Refused(Error::OperationTimeout),
            Distributed::Committed(before + 2),
        ]
    );
    assert_eq!(sim.read("/b").await.unwrap().data.as_ref(), b"0");
    assert_eq!(sim.read("/a").await.unwrap().data.as_ref(), b"1");
    assert_eq!(sim.read("/c").await.unwrap().stat.mzxid, before + 2);
    let outcome = |req: &CommitRequest, replies: &[Reply]| {
        replies
            .iter()
            .find(|r| r.session == req.session && r.seq == req.seq)
            .map(|r| r.outcome.clone())
            .expect("answered")
    };
    let replies = replies(&sim);
    assert_eq!(
        outcome(&batch[1], &replies),
        fk_core::Outcome::Err(Error::OperationTimeout)
    );
    assert!(matches!(
        outcome(&batch[2], &replies),
        fk_core::Outcome::Ok(OpResult::SetData { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_group_delivered_again_is_replayed_with_the_same_zxids() {
    // Given a batch committed and answered
    let mut sim = Sim::new();
    let mut batch = Vec::new();
    for i in 0..4 {
        let s = sim.open_session().await;
        sim.write(s, create(&format!("/r{i}"), "")).await.unwrap();
        batch.push(validated(&mut sim, s, set(&format!("/r{i}"), "x", None)).await);
    }
    sim.replies.take();
    let first = sim.distribute_batch(&sim.distributor, &batch).await;
    sim.replies.take();

    // When SQS delivers the same batch again, to a fresh distributor
    let second = sim.second_distributor();
    let again = sim.distribute_batch(&second, &batch).await;

    // Then every write is recognised and answered again with its zxid;
    // nothing new is committed
    assert_eq!(zxids(&again), zxids(&first));
    assert!(again.iter().all(|d| matches!(d, Distributed::Replayed(_))));
    assert_eq!(sim.system.counter().await.unwrap().zxid, 8);
    assert_eq!(replies(&sim).len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_sessions_pipelined_writes_in_one_group_keep_their_order() {
    // Given one session's three writes to different nodes, all validated
    // before the distributor runs
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    for name in ["/p", "/q", "/r"] {
        sim.write(s, create(name, "")).await.unwrap();
    }
    sim.replies.take();
    let mut batch = Vec::new();
    for name in ["/p", "/q", "/r"] {
        batch.push(validated(&mut sim, s, set(name, "x", None)).await);
    }

    // When they are distributed as one batch
    let done = sim.distribute_batch(&sim.distributor, &batch).await;

    // Then they commit in the session's order and are answered in it
    assert_eq!(zxids(&done), [4, 5, 6]);
    let seqs: Vec<u64> = replies(&sim).iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [4, 5, 6]);
    assert_eq!(sim.system.session(s).await.unwrap().unwrap().last_seq, 6);
}

#[tokio::test(start_paused = true)]
async fn a_sync_in_a_batch_is_answered_after_the_writes_before_it() {
    // Given a write, a sync and another write of two sessions
    let mut sim = Sim::new();
    let (a, b) = (sim.open_session().await, sim.open_session().await);
    sim.write(a, create("/x", "")).await.unwrap();
    sim.write(a, create("/y", "")).await.unwrap();
    sim.replies.take();
    let w1 = validated(&mut sim, a, set("/x", "1", None)).await;
    let sync = validated(&mut sim, b, fk_core::Op::Sync { path: "/x".into() }).await;
    let w2 = validated(&mut sim, a, set("/y", "2", None)).await;

    // When they arrive in one batch
    let done = sim
        .distribute_batch(&sim.distributor, &[w1, sync.clone(), w2])
        .await;

    // Then the sync splits the batch: it carries the zxid of the write
    // before it, which was applied when it was answered
    assert_eq!(
        done,
        [
            Distributed::Committed(3),
            Distributed::Synced,
            Distributed::Committed(4)
        ]
    );
    let synced = replies(&sim)
        .into_iter()
        .find(|r| r.session == sync.session)
        .unwrap();
    assert_eq!(synced.zxid, 3);
    assert_eq!(sim.system.group_sizes()[2..], [1, 1]);
}

#[tokio::test(start_paused = true)]
async fn a_write_of_a_closed_session_is_refused_alone() {
    // Given three sessions' writes, and the middle session gone before
    // they commit, seen by a distributor that remembers the counter
    let mut sim = Sim::new();
    let sessions = [
        sim.open_session().await,
        sim.open_session().await,
        sim.open_session().await,
    ];
    for (i, s) in sessions.iter().enumerate() {
        sim.write(*s, create(&format!("/s{i}"), "")).await.unwrap();
    }
    let mut batch = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        batch.push(validated(&mut sim, *s, create(&format!("/s{i}/c"), "")).await);
    }
    sim.system.delete_session(sessions[1]).await.unwrap();
    sim.replies.take();

    // When the batch is distributed
    let done = sim.distribute_batch(&sim.distributor, &batch).await;

    // Then the other two commit in order around the refusal
    assert_eq!(
        done,
        [
            Distributed::Committed(4),
            Distributed::Refused(Error::SessionExpired),
            Distributed::Committed(5),
        ]
    );
    assert!(sim.read("/s1/c").await.is_none());
    assert!(sim.read("/s2/c").await.is_some());
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_writer_batch_pushes_its_validated_writes_together_in_order() {
    // Given three sessions' sets of three nodes, delivered as one batch
    let mut sim = Sim::new();
    let mut requests = Vec::new();
    for name in ["/w1", "/w2", "/w3"] {
        let s = sim.open_session().await;
        sim.write(s, create(name, "")).await.unwrap();
        requests.push(sim.request(s, set(name, "v", None)));
    }
    let batch: Vec<_> = requests.iter().map(|r| (r, 1)).collect();

    // When the writer handles the batch
    let handled = sim.writer.handle_batch(&batch, None).await.unwrap();

    // Then all three go to the distributor queue in one push, in order
    assert_eq!(handled, [const { Handled::Forwarded }; 3]);
    assert_eq!(sim.commits.batch_sizes(), [3]);
    let queued: Vec<u64> = std::iter::from_fn(|| sim.commits.pop())
        .map(|c| c.seq)
        .collect();
    assert_eq!(queued, requests.iter().map(|r| r.seq).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_write_waiting_for_a_lock_its_batch_holds_lets_that_write_go_first() {
    // Given two sessions' sets of one node in one writer batch, and a
    // distributor draining its queue meanwhile
    let mut sim = Sim::new();
    let (a, b) = (sim.open_session().await, sim.open_session().await);
    sim.write(a, create("/same", "")).await.unwrap();
    let first = sim.request(a, set("/same", "a", None));
    let second = sim.request(b, set("/same", "b", Some(1)));
    let sim = std::sync::Arc::new(sim);
    let draining = {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                sim.drain_batched(10).await;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
    };

    // When the writer handles the batch
    let batch = [(&first, 1), (&second, 1)];
    let handled = sim.writer.handle_batch(&batch, None).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    draining.abort();

    // Then the first went out when the second had to wait for its lock,
    // and the second validated against it (version 1) and committed after
    assert_eq!(handled, [const { Handled::Forwarded }; 2]);
    assert_eq!(sim.commits.batch_sizes(), [1, 1]);
    let node = sim.read("/same").await.unwrap();
    assert_eq!(node.data.as_ref(), b"b");
    assert_eq!(node.stat.version, 2);
}

/// The system store of `sim`, each lock call taking `delay`.
struct SlowLocks {
    inner: std::sync::Arc<fk_core::memory::MemorySystemStore>,
    delay: std::time::Duration,
}

#[async_trait::async_trait]
impl fk_core::system::SystemStore for SlowLocks {
    async fn lock(&self, req: LockRequest<'_>) -> Result<LockOutcome, fk_core::StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.lock(req).await
    }
    async fn unlock(&self, path: &str, token: &str) -> Result<(), fk_core::StoreError> {
        self.inner.unlock(path, token).await
    }
    async fn commit(
        &self,
        commit: &fk_core::system::SystemCommit,
    ) -> Result<fk_core::system::CommitOutcome, fk_core::StoreError> {
        self.inner.commit(commit).await
    }
    async fn record_refusal(
        &self,
        session: SessionId,
        seq: u64,
    ) -> Result<fk_core::system::RefusalRecord, fk_core::StoreError> {
        self.inner.record_refusal(session, seq).await
    }
    async fn counter(&self) -> Result<fk_core::system::Counter, fk_core::StoreError> {
        self.inner.counter().await
    }
    async fn create_session(
        &self,
        session: &fk_core::system::SessionRecord,
    ) -> Result<bool, fk_core::StoreError> {
        self.inner.create_session(session).await
    }
    async fn session(
        &self,
        id: SessionId,
    ) -> Result<Option<fk_core::system::SessionRecord>, fk_core::StoreError> {
        self.inner.session(id).await
    }
    async fn delete_session(&self, id: SessionId) -> Result<(), fk_core::StoreError> {
        self.inner.delete_session(id).await
    }
    async fn touch_session(&self, id: SessionId, now_ms: i64) -> Result<bool, fk_core::StoreError> {
        self.inner.touch_session(id, now_ms).await
    }
    async fn sessions(&self) -> Result<Vec<fk_core::system::SessionRecord>, fk_core::StoreError> {
        self.inner.sessions().await
    }
    async fn register_watch(
        &self,
        reg: fk_core::system::WatchRegistration<'_>,
    ) -> Result<bool, fk_core::StoreError> {
        self.inner.register_watch(reg).await
    }
    async fn remove_watch(
        &self,
        path: &str,
        kind: fk_core::watch::WatchKind,
        session: SessionId,
    ) -> Result<(), fk_core::StoreError> {
        self.inner.remove_watch(path, kind, session).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_writer_batch_takes_different_sessions_locks_side_by_side() {
    // Given ten sessions' sets of their own nodes in one writer batch, one
    // session with a second (pipelined) set, and locks that take 10 ms
    let mut sim = Sim::new();
    let mut requests = Vec::new();
    let mut first = None;
    for i in 0..10 {
        let s = sim.open_session().await;
        let name = format!("/n{i}");
        sim.write(s, create(&name, "")).await.unwrap();
        requests.push(sim.request(s, set(&name, "v", None)));
        first.get_or_insert(s);
    }
    sim.write(first.unwrap(), create("/m0", "")).await.unwrap();
    let again = sim.request(first.unwrap(), set("/m0", "w", None));
    requests.push(again);
    let delay = std::time::Duration::from_millis(10);
    let writer = fk_core::writer::Writer::new(
        std::sync::Arc::new(SlowLocks {
            inner: sim.system.clone(),
            delay,
        }),
        sim.commits.clone(),
        sim.replies.clone(),
        std::sync::Arc::new(TokioClock(tokio::time::Instant::now())),
        fk_core::writer::WriterConfig {
            lock_ttl_ms: LOCK_TTL_MS,
            max_data_len: 1024,
        },
    );
    let batch: Vec<_> = requests.iter().map(|r| (r, 1)).collect();

    // When the writer handles the batch
    let started = tokio::time::Instant::now();
    let handled = writer.handle_batch(&batch, None).await.unwrap();

    // Then the ten sessions took their locks at once (the batch took two
    // lock rounds, the pipelined session's two writes one after the
    // other: not eleven), and the queue has the session's writes in order
    assert_eq!(handled, [const { Handled::Forwarded }; 11]);
    assert!(
        started.elapsed() < delay * 3,
        "the batch took {:?}",
        started.elapsed()
    );
    let queued: Vec<(SessionId, u64)> = std::iter::from_fn(|| sim.commits.pop())
        .map(|c| (c.session, c.seq))
        .collect();
    assert_eq!(queued.len(), 11);
    let of_first: Vec<u64> = queued
        .iter()
        .filter(|(s, _)| *s == first.unwrap())
        .map(|(_, seq)| *seq)
        .collect();
    assert_eq!(of_first, [requests[0].seq, requests[10].seq]);
}

#[tokio::test(start_paused = true)]
async fn copies_a_batch_carries_behind_their_originals_are_dropped_and_take_no_zxid() {
    // Given two sessions' sets, and behind them in the same distributor
    // batch the copies a writer batch that came again would bundle with a
    // third write: one the same commit, one validated again (another
    // validation time, so another commit id)
    let mut sim = Sim::new();
    let (a, b, c) = (
        sim.open_session().await,
        sim.open_session().await,
        sim.open_session().await,
    );
    for (s, name) in [(a, "/a"), (b, "/b"), (c, "/c")] {
        sim.write(s, create(name, "0")).await.unwrap();
    }
    let wa = validated(&mut sim, a, set("/a", "1", None)).await;
    let wb = validated(&mut sim, b, set("/b", "1", None)).await;
    let wc = validated(&mut sim, c, set("/c", "1", None)).await;
    let mut wb_again = wb.clone();
    wb_again.time_ms += 1;
    assert_ne!(wb_again.commit_id(), wb.commit_id());
    sim.replies.take();
    let before = sim.system.counter().await.unwrap().zxid;

    // When the batch is distributed
    let batch = [wa.clone(), wb.clone(), wa.clone(), wb_again, wc.clone()];
    let done = sim.distribute_batch(&sim.distributor, &batch).await;

    // Then each write commits once, the third as the next zxid after the
    // first two; a copy is dropped, or answered again with its original's
    // zxid
    assert_eq!(done[0], Distributed::Committed(before + 1));
    assert_eq!(done[1], Distributed::Committed(before + 2));
    assert!(
        matches!(done[2], Distributed::Replayed(z) if z == before + 1)
            || done[2] == Distributed::Duplicate,
        "{:?}",
        done[2]
    );
    assert_eq!(done[3], Distributed::Duplicate);
    assert_eq!(done[4], Distributed::Committed(before + 3));
    assert_eq!(sim.system.counter().await.unwrap().zxid, before + 3);
    for (name, zxid) in [("/a", before + 1), ("/b", before + 2), ("/c", before + 3)] {
        let node = sim.read(name).await.unwrap();
        assert_eq!(
            (node.data.as_ref(), node.stat.mzxid),
            (&b"1"[..], zxid),
            "{name}"
        );
        assert_eq!(node.stat.version, 1, "{name} was set once");
    }
    // Every answer a client hears for a write carries that write's zxid.
    for reply in replies(&sim) {
        let of = [&wa, &wb, &wc]
            .into_iter()
            .position(|w| w.session == reply.session && w.seq == reply.seq)
            .expect("a reply to one of the writes");
        assert_eq!(reply.zxid, before + 1 + of as i64, "{reply:?}");
    }
    assert!(sim.system.locked_paths().is_empty());
}

/// Replies that reach `inner` until `left` runs out, then fail as a
/// throttled or dying function's would.
struct FailingReplies {
    inner: std::sync::Arc<fk_core::memory::MemoryReplies>,
    left: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl fk_core::ReplySink for FailingReplies {
    async fn reply(&self, reply_to: &str, reply: &Reply) -> Result<(), fk_core::StoreError> {
        use std::sync::atomic::Ordering;
        match self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        {
            Ok(_) => self.inner.reply(reply_to, reply).await,
            Err(_) => Err(fk_core::StoreError::transient("test", "the function died")),
        }
    }

    async fn discard(&self, reply_to: &str) -> Result<(), fk_core::StoreError> {
        self.inner.discard(reply_to).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_batch_larger_than_the_counters_memory_fails_before_an_unanswered_write_leaves_it() {
    // Given sessions' sets in one distributor batch (bundles bring up to a
    // hundred), more than the counter remembers
    const N: usize = fk_core::system::RECENT_COMMITS as usize + 40;
    let mut sim = Sim::new();
    let mut batch = Vec::new();
    for i in 0..N {
        let s = sim.open_session().await;
        sim.write(s, create(&format!("/m{i}"), "0")).await.unwrap();
        batch.push(validated(&mut sim, s, set(&format!("/m{i}"), "1", None)).await);
    }
    sim.replies.take();
    let before = sim.system.counter().await.unwrap().zxid;

    // When the distributor's replies stop going out after the tenth, and
    // the batch, failed, comes again to a healthy distributor
    let dying = fk_core::distributor::Distributor::new(
        sim.system.clone(),
        sim.user.clone(),
        std::sync::Arc::new(FailingReplies {
            inner: sim.replies.clone(),
            left: 10.into(),
        }),
        sim.watch_queue.clone(),
    );
    let traced: Vec<_> = batch.iter().map(|c| (c, tracing::Span::none())).collect();
    let failed = match dying.handle_batch(&traced).await {
        Ok(_) => dying.flush().await,
        Err(e) => Err(e),
    };
    assert!(failed.is_err(), "the replies failed: so does the batch");
    let again = sim
        .distribute_batch(&sim.second_distributor(), &batch)
        .await;

    // Then every write was committed once, as its place in the batch, and
    // its client heard so: none was taken for a copy of itself unanswered
    assert_eq!(sim.system.counter().await.unwrap().zxid, before + N as i64);
    let replies = replies(&sim);
    for (i, req) in batch.iter().enumerate() {
        let zxid = before + 1 + i as i64;
        assert!(
            replies
                .iter()
                .any(|r| r.session == req.session && r.seq == req.seq && r.zxid == zxid),
            "write {i} was never answered (again: {:?})",
            again[i]
        );
        let node = sim.read(req.op.path()).await.unwrap();
        assert_eq!((node.stat.mzxid, node.stat.version), (zxid, 1), "write {i}");
    }
}
