//! The distributor with its replies overlapped: the next write commits while
//! a reply is on its way, and clients still see what they saw before.

mod sim;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use fk_core::distributor::{Distributed, Distributor};
use fk_core::system::{Expected, SystemStore, WatchRegistration};
use fk_core::watch::{WatchBatch, WatchKind, WatchQueue, Watcher};
use fk_core::{CommitRequest, Reply, ReplySink, SessionId, StoreError};
use sim::*;

/// What reached the outside world, in the order it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    Reply { to: String, seq: u64 },
    Events { zxid: i64 },
}

/// A reply channel whose sends take as long as the test says, per session
/// and seq, and that can refuse them.
#[derive(Default)]
struct SlowReplies {
    log: Arc<Mutex<Vec<Sent>>>,
    delays: Mutex<HashMap<(String, u64), Duration>>,
    failing: Mutex<bool>,
}

impl SlowReplies {
    fn delay(&self, session: SessionId, seq: u64, by: Duration) {
        self.delays
            .lock()
            .unwrap()
            .insert((reply_address(session), seq), by);
    }
}

#[async_trait]
impl ReplySink for SlowReplies {
    async fn reply(&self, reply_to: &str, reply: &Reply) -> Result<(), StoreError> {
        let delay = self
            .delays
            .lock()
            .unwrap()
            .get(&(reply_to.to_string(), reply.seq))
            .copied();
        tokio::time::sleep(delay.unwrap_or(Duration::from_millis(1))).await;
        if *self.failing.lock().unwrap() {
            return Err(StoreError::transient("test", "SendMessage throttled"));
        }
        self.log.lock().unwrap().push(Sent::Reply {
            to: reply_to.to_string(),
            seq: reply.seq,
        });
        Ok(())
    }

    async fn discard(&self, _reply_to: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A watch queue that writes its pushes into the same log.
struct LoggedWatches(Arc<Mutex<Vec<Sent>>>);

#[async_trait]
impl WatchQueue for LoggedWatches {
    async fn push(&self, batch: &WatchBatch) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .push(Sent::Events { zxid: batch.zxid });
        Ok(())
    }
}

struct Overlapped {
    sim: Sim,
    replies: Arc<SlowReplies>,
    distributor: Distributor,
}

impl Overlapped {
    /// A deployment with `/a` and `/b`; the distributor under test has not
    /// seen their commits (it re-reads the counter, as a new instance does).
    async fn new() -> Self {
        let mut sim = Sim::new();
        let setup = sim.open_session().await;
        for path in ["/a", "/b"] {
            sim.write(setup, create(path, "0")).await.unwrap();
        }
        let replies = Arc::new(SlowReplies::default());
        let distributor = Distributor::new(
            sim.system.clone(),
            sim.user.clone(),
            replies.clone(),
            Arc::new(LoggedWatches(replies.log.clone())),
        );
        Overlapped {
            sim,
            replies,
            distributor,
        }
    }

    /// Runs `op` of `session` through the writer; the commit it queued.
    async fn validated(&mut self, session: SessionId, op: fk_core::Op) -> CommitRequest {
        let req = self.sim.request(session, op);
        self.sim.writer.handle(&req, 1).await.unwrap();
        self.sim.commits.pop().expect("a commit")
    }

    fn sent(&self) -> Vec<Sent> {
        self.replies.log.lock().unwrap().clone()
    }
}

fn reply(session: SessionId, seq: u64) -> Sent {
    Sent::Reply {
        to: reply_address(session),
        seq,
    }
}

#[tokio::test(start_paused = true)]
async fn the_next_write_commits_while_a_reply_is_on_its_way() {
    let mut t = Overlapped::new().await;
    let (a, b) = (t.sim.open_session().await, t.sim.open_session().await);
    let first = t.validated(a, set("/a", "x", None)).await;
    let second = t.validated(b, set("/b", "y", None)).await;
    t.replies.delay(a, 1, Duration::from_millis(50));

    let started = tokio::time::Instant::now();
    let done = t.distributor.handle_overlapped(&first).await.unwrap();
    assert!(matches!(done, Distributed::Committed(_)));
    assert_eq!(t.sent(), vec![], "a's reply is still on its way");
    t.distributor.handle_overlapped(&second).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "b's write did not wait for a's reply"
    );
    assert_eq!(t.sim.read("/b").await.unwrap().data.as_ref(), b"y");

    t.distributor.flush().await.unwrap();
    assert_eq!(t.sent(), vec![reply(b, 1), reply(a, 1)]);
}

#[tokio::test(start_paused = true)]
async fn a_sessions_replies_leave_in_its_order() {
    let mut t = Overlapped::new().await;
    let a = t.sim.open_session().await;
    let first = t.validated(a, set("/a", "x", None)).await;
    let second = t.validated(a, set("/b", "y", None)).await;
    // Sent at once, the second would land first.
    t.replies.delay(a, 1, Duration::from_millis(50));

    for commit in [&first, &second] {
        let done = t.distributor.handle_overlapped(commit).await.unwrap();
        assert!(matches!(done, Distributed::Committed(_)), "{done:?}");
    }
    t.distributor.flush().await.unwrap();
    assert_eq!(t.sent(), vec![reply(a, 1), reply(a, 2)]);
}

#[tokio::test(start_paused = true)]
async fn every_earlier_reply_is_out_before_a_later_writes_events() {
    let mut t = Overlapped::new().await;
    let (a, b, w) = (
        t.sim.open_session().await,
        t.sim.open_session().await,
        t.sim.open_session().await,
    );
    let registered = t
        .sim
        .system
        .register_watch(WatchRegistration {
            path: "/c",
            kind: WatchKind::Data,
            watcher: &Watcher {
                session: w,
                reply_to: reply_address(w),
            },
            expected: Expected::Missing,
            now_ms: 1_700_000_000_000,
        })
        .await
        .unwrap();
    assert!(registered);
    let first = t.validated(a, set("/a", "x", None)).await;
    let second = t.validated(b, create("/c", "y")).await;
    t.replies.delay(a, 1, Duration::from_millis(50));

    let done = t.distributor.handle_overlapped(&first).await.unwrap();
    assert!(matches!(done, Distributed::Committed(_)), "{done:?}");
    let Distributed::Committed(zxid) = t.distributor.handle_overlapped(&second).await.unwrap()
    else {
        panic!("b's create commits");
    };
    t.distributor.flush().await.unwrap();
    assert_eq!(
        t.sent(),
        vec![reply(a, 1), Sent::Events { zxid }, reply(b, 1)],
        "a's reply, then the events of b's create, then b's reply"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_reply_fails_the_flush() {
    let mut t = Overlapped::new().await;
    let a = t.sim.open_session().await;
    let first = t.validated(a, set("/a", "x", None)).await;
    *t.replies.failing.lock().unwrap() = true;

    t.distributor.handle_overlapped(&first).await.unwrap();
    let failed = t.distributor.flush().await.unwrap_err();
    assert!(failed.retryable, "the batch is delivered again: {failed}");

    // Delivered again, the write is recognised and answered once more.
    *t.replies.failing.lock().unwrap() = false;
    let again = t.distributor.handle_overlapped(&first).await.unwrap();
    assert!(matches!(again, Distributed::Replayed(_)));
    t.distributor.flush().await.unwrap();
    assert_eq!(t.sent(), vec![reply(a, 1)]);
}

#[tokio::test(start_paused = true)]
async fn handle_answers_before_it_returns() {
    let mut t = Overlapped::new().await;
    let a = t.sim.open_session().await;
    let first = t.validated(a, set("/a", "x", None)).await;
    t.replies.delay(a, 1, Duration::from_millis(50));

    t.distributor.handle(&first).await.unwrap();
    assert_eq!(t.sent(), vec![reply(a, 1)]);
}
