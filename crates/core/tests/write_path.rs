//! The write path end to end on the in-memory ports: ZooKeeper's answers,
//! `Stat` bookkeeping, and recovery from redelivery and crashes.

mod sim;

use fk_core::distributor::Distributed;
use fk_core::system::{LockOutcome, LockRequest, SystemStore};
use fk_core::writer::Handled;
use fk_core::{CreateMode, Error, OpResult};
use sim::*;

#[tokio::test(start_paused = true)]
async fn create_then_read_returns_the_data_and_a_fresh_stat() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;

    let result = sim.write(s, create("/app", "hello")).await;

    let Ok(OpResult::Created { path, stat }) = result else {
        panic!("{result:?}")
    };
    assert_eq!(path, "/app");
    assert_eq!((stat.czxid, stat.mzxid, stat.pzxid), (1, 1, 1));
    assert_eq!((stat.version, stat.cversion, stat.data_length), (0, 0, 5));
    let node = sim.read("/app").await.unwrap();
    assert_eq!(&node.data[..], b"hello");
    assert_eq!(node.stat, stat);
    let root = sim.read("/").await.unwrap();
    assert_eq!(root.children, vec!["app".to_string()]);
    assert_eq!(
        (root.stat.cversion, root.stat.num_children, root.stat.pzxid),
        (1, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn set_data_with_the_current_version_bumps_it_and_a_stale_one_fails() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/app", "hello")).await.unwrap();

    let ok = sim.write(s, set("/app", "v2", Some(0))).await;
    let stale = sim.write(s, set("/app", "v3", Some(0))).await;

    let Ok(OpResult::SetData { stat }) = ok else {
        panic!("{ok:?}")
    };
    assert_eq!((stat.version, stat.mzxid, stat.czxid), (1, 2, 1));
    assert_eq!(stale, Err(Error::BadVersion));
    assert_eq!(&sim.read("/app").await.unwrap().data[..], b"v2");
}

#[tokio::test(start_paused = true)]
async fn set_data_without_a_version_always_applies() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/a", "")).await.unwrap();
    for _ in 0..3 {
        sim.write(s, set("/a", "x", None)).await.unwrap();
    }
    assert_eq!(sim.read("/a").await.unwrap().stat.version, 3);
}

#[tokio::test(start_paused = true)]
async fn errors_are_zookeepers_and_leave_nothing_behind() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/app", "x")).await.unwrap();
    sim.write(s, create("/app/a", "x")).await.unwrap();
    sim.write(s, create_mode("/eph", "x", CreateMode::Ephemeral))
        .await
        .unwrap();

    let cases = [
        (create("/app", "again"), Error::NodeExists),
        (create("/missing/child", "x"), Error::NoNode),
        (create("/", "x"), Error::NodeExists),
        (create("/eph/child", "x"), Error::NoChildrenForEphemerals),
        (create("/bad/", "x"), Error::BadArguments),
        (create("relative", "x"), Error::BadArguments),
        (create("/big", &"x".repeat(1025)), Error::BadArguments),
        (
            create_mode("/ttl", "x", CreateMode::PersistentWithTtl),
            Error::Unimplemented,
        ),
        (
            create_mode("/c", "x", CreateMode::Container),
            Error::Unimplemented,
        ),
        (set("/missing", "x", None), Error::NoNode),
        (set("/app", "x", Some(7)), Error::BadVersion),
        (delete("/app", None), Error::NotEmpty),
        (delete("/app/a", Some(3)), Error::BadVersion),
        (delete("/missing", None), Error::NoNode),
        (delete("/", None), Error::BadArguments),
    ];
    for (op, expected) in cases {
        let shown = format!("{op:?}");
        assert_eq!(sim.write(s, op).await, Err(expected), "{shown}");
    }
    assert!(
        sim.system.locked_paths().is_empty(),
        "no lock may stay taken"
    );
    let app = sim.read("/app").await.unwrap();
    assert_eq!((app.stat.version, app.stat.num_children), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn delete_updates_the_parent_and_removes_the_node() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/app", "x")).await.unwrap();
    sim.write(s, create("/app/a", "x")).await.unwrap();

    sim.write(s, delete("/app/a", Some(0))).await.unwrap();

    assert!(sim.read("/app/a").await.is_none());
    let app = sim.read("/app").await.unwrap();
    assert!(app.children.is_empty());
    assert_eq!(
        (app.stat.cversion, app.stat.num_children, app.stat.pzxid),
        (2, 0, 3)
    );
    assert!(sim.system.stat("/app/a").is_none());
    sim.write(s, delete("/app", None)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn sequential_names_count_the_children_ever_created() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/q", "")).await.unwrap();

    let first = created_path(
        sim.write(
            s,
            create_mode("/q/job-", "", CreateMode::PersistentSequential),
        )
        .await,
    );
    sim.write(s, create("/q/plain", "")).await.unwrap();
    sim.write(s, delete("/q/plain", None)).await.unwrap();
    let second = created_path(
        sim.write(
            s,
            create_mode("/q/job-", "", CreateMode::EphemeralSequential),
        )
        .await,
    );
    let bare = created_path(
        sim.write(s, create_mode("/q/", "", CreateMode::PersistentSequential))
            .await,
    );

    // As ZooKeeper 3.8: deletes move the cversion, not the sequence.
    assert_eq!(first, "/q/job-0000000000");
    assert_eq!(second, "/q/job-0000000002");
    assert_eq!(bare, "/q/0000000003");
    assert_eq!(
        sim.write(
            s,
            create_mode("/none/x-", "", CreateMode::PersistentSequential)
        )
        .await,
        Err(Error::NoNode)
    );
}

#[tokio::test(start_paused = true)]
async fn ephemeral_nodes_record_their_owner() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let Ok(OpResult::Created { stat, .. }) = sim
        .write(s, create_mode("/e", "", CreateMode::Ephemeral))
        .await
    else {
        panic!()
    };
    assert_eq!(stat.ephemeral_owner, s.raw());
    let session = sim.system.session(s).await.unwrap().unwrap();
    assert_eq!(session.ephemerals, vec!["/e".to_string()]);

    sim.write(s, delete("/e", None)).await.unwrap();
    let session = sim.system.session(s).await.unwrap().unwrap();
    assert!(session.ephemerals.is_empty());
}

#[tokio::test(start_paused = true)]
async fn zxids_follow_the_distributor_queue_order() {
    let mut sim = Sim::new();
    let a = sim.open_session().await;
    let b = sim.open_session().await;
    sim.write(a, create("/x", "")).await.unwrap();
    sim.write(a, create("/y", "")).await.unwrap();
    let ra = sim.request(a, set("/x", "a", None));
    let rb = sim.request(b, set("/y", "b", None));

    // Independent writes, both validated before either commits: the queue
    // order is the commit order.
    sim.writer.handle(&rb, 1).await.unwrap();
    sim.writer.handle(&ra, 1).await.unwrap();
    let done = sim.drain().await;

    assert_eq!(
        done,
        vec![Distributed::Committed(3), Distributed::Committed(4)]
    );
    assert_eq!(sim.read("/y").await.unwrap().stat.mzxid, 3);
    assert_eq!(sim.read("/x").await.unwrap().stat.mzxid, 4);
}

#[tokio::test(start_paused = true)]
async fn a_redelivered_request_after_its_commit_applies_once() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/a", "")).await.unwrap();
    let req = sim.request(s, set("/a", "x", None));
    sim.writer.handle(&req, 1).await.unwrap();
    sim.drain().await;
    sim.replies.take();

    let again = sim.writer.handle(&req, 2).await.unwrap();

    assert_eq!(again, Handled::AlreadyCommitted);
    assert!(sim.commits.is_empty());
    assert_eq!(sim.read("/a").await.unwrap().stat.version, 1);
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_redelivered_request_before_its_commit_is_pushed_once() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let req = sim.request(s, create_mode("/q-", "", CreateMode::PersistentSequential));

    sim.writer.handle(&req, 1).await.unwrap();
    // The function died before the queue heard of its success.
    let again = sim.writer.handle(&req, 2).await.unwrap();

    assert_eq!(again, Handled::Forwarded);
    assert_eq!(sim.commits.len(), 1, "the push is deduplicated by token");
    sim.drain().await;
    let root = sim.read("/").await.unwrap();
    assert_eq!(root.children, vec!["q-0000000000".to_string()]);
}

#[tokio::test(start_paused = true)]
async fn a_redelivered_commit_is_recognised_and_answered_again() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let req = sim.request(s, create("/a", "x"));
    sim.writer.handle(&req, 1).await.unwrap();
    let commit = sim.commits.pop().unwrap();
    assert_eq!(
        sim.distributor.handle(&commit).await.unwrap(),
        Distributed::Committed(1)
    );

    // A new distributor instance (the old one crashed before acknowledging).
    let fresh = sim.second_distributor();
    let again = fresh.handle(&commit).await.unwrap();
    // And the warm instance, whose cached counter hides the replay.
    let warm = sim.distributor.handle(&commit).await.unwrap();

    assert_eq!(again, Distributed::Replayed(1));
    assert_eq!(warm, Distributed::Replayed(1));
    assert_eq!(sim.system.stat("/").unwrap().num_children, 1);
    let replies = sim.replies.take();
    assert_eq!(replies.len(), 3);
    assert!(replies.iter().all(|(_, r)| r.zxid == 1));
}

#[tokio::test(start_paused = true)]
async fn a_crashed_writers_lock_expires_and_the_node_is_writable_again() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let t = sim.open_session().await;
    sim.write(s, create("/a", "")).await.unwrap();
    // A writer took the lock for some request and died.
    let now = 1_700_000_000_000;
    let taken = sim
        .system
        .lock(LockRequest {
            path: "/a",
            token: "dead-writer",
            now_ms: now,
            expires_ms: now + LOCK_TTL_MS,
        })
        .await
        .unwrap();
    assert!(matches!(taken, LockOutcome::Acquired(_)));

    let started = tokio::time::Instant::now();
    let result = sim.write(t, set("/a", "after", None)).await;

    assert!(result.is_ok(), "{result:?}");
    let waited = started.elapsed().as_millis() as i64;
    assert!(waited >= LOCK_TTL_MS, "waited only {waited} ms");
    assert_eq!(sim.read("/a").await.unwrap().stat.version, 1);
}

#[tokio::test(start_paused = true)]
async fn a_writer_waiting_for_a_lock_gives_up_at_its_deadline_and_says_so() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let t = sim.open_session().await;
    sim.write(s, create("/a", "")).await.unwrap();
    // The first set is forwarded and waits in the distributor queue.
    let queued = sim.request(s, set("/a", "queued", Some(0)));
    handled_forwarded(sim.writer.handle(&queued, 1).await.unwrap());
    let queued_commit = sim.commits.pop().unwrap();

    let started = tokio::time::Instant::now();
    let deadline = 1_700_000_000_000 + 1_000;
    let waiting = sim.request(t, set("/a", "waiting", None));
    let handled = sim
        .writer
        .handle_within(&waiting, 1, Some(deadline))
        .await
        .unwrap();

    let waited = started.elapsed().as_millis() as i64;
    assert_eq!(handled, Handled::Refused(Error::OperationTimeout));
    assert!(
        (1_000..LOCK_TTL_MS).contains(&waited),
        "gave up after {waited} ms"
    );
    let replies = sim.replies.take();
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0].1.outcome,
        fk_core::Outcome::Err(Error::OperationTimeout)
    );
    // The queued write kept its lock and commits.
    let first = sim.distributor.handle(&queued_commit).await.unwrap();
    assert_eq!(first, Distributed::Committed(2));
    let node = sim.read("/a").await.unwrap();
    assert_eq!((&node.data[..], node.stat.version), (&b"queued"[..], 1));
}

#[tokio::test(start_paused = true)]
async fn a_commit_whose_lock_was_taken_over_is_refused_not_applied() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let t = sim.open_session().await;
    sim.write(s, create("/a", "")).await.unwrap();
    let slow = sim.request(s, set("/a", "slow", Some(0)));
    sim.writer.handle(&slow, 1).await.unwrap();
    let slow_commit = sim.commits.pop().unwrap();

    // The slow commit sat in the queue past its lock's lifetime.
    tokio::time::advance(std::time::Duration::from_millis(LOCK_TTL_MS as u64 + 1)).await;
    let fast = sim.request(t, set("/a", "fast", Some(0)));
    sim.writer.handle(&fast, 1).await.unwrap();

    let first = sim.distributor.handle(&slow_commit).await.unwrap();
    let rest = sim.drain().await;

    assert_eq!(first, Distributed::Refused(Error::OperationTimeout));
    assert_eq!(rest, vec![Distributed::Committed(2)]);
    let node = sim.read("/a").await.unwrap();
    assert_eq!((&node.data[..], node.stat.version), (&b"fast"[..], 1));
}

#[tokio::test(start_paused = true)]
async fn a_write_from_an_unknown_session_is_refused_with_session_expired() {
    let mut sim = Sim::new();
    let ghost = fk_core::SessionId::random();
    let result = sim.write(ghost, create("/a", "")).await;
    assert_eq!(result, Err(Error::SessionExpired));
    assert!(sim.read("/a").await.is_none());
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn writes_to_one_node_from_many_sessions_all_apply_in_some_order() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/c", "")).await.unwrap();
    let mut sessions = Vec::new();
    for _ in 0..5 {
        sessions.push(sim.open_session().await);
    }
    let reqs: Vec<_> = sessions
        .iter()
        .map(|&x| sim.request(x, set("/c", "v", None)))
        .collect();

    // All writers run at once; each waits for the previous commit's lock.
    let writer = sim.writer.clone();
    let handles: Vec<_> = reqs
        .iter()
        .cloned()
        .map(|r| {
            let w = writer.clone();
            tokio::spawn(async move { w.handle(&r, 1).await.unwrap() })
        })
        .collect();
    let mut committed = 0;
    while committed < reqs.len() {
        committed += sim.drain().await.len();
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), Handled::Forwarded);
    }

    assert_eq!(sim.read("/c").await.unwrap().stat.version, 5);
}

#[tokio::test(start_paused = true)]
async fn a_multi_applies_all_its_ops_in_order_as_one_commit() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let op = fk_core::Op::multi(vec![
        create("/m", "p"),
        create_mode("/m/seq-", "", CreateMode::PersistentSequential),
        create_mode("/m/seq-", "", CreateMode::PersistentSequential),
        set("/m", "p2", Some(0)),
        fk_core::Op::Check {
            path: "/m".into(),
            version: Some(1),
        },
    ]);

    let result = sim.write(s, op).await.unwrap();

    let OpResult::Multi { results } = result else {
        panic!("{result:?}")
    };
    assert_eq!(results.len(), 5);
    assert!(matches!(&results[1], OpResult::Created { path, .. } if path == "/m/seq-0000000000"));
    assert!(matches!(&results[2], OpResult::Created { path, .. } if path == "/m/seq-0000000001"));
    assert_eq!(results[4], OpResult::Checked);
    let m = sim.read("/m").await.unwrap();
    assert_eq!(&m.data[..], b"p2");
    // One commit: every node carries the same zxid.
    assert_eq!((m.stat.czxid, m.stat.mzxid, m.stat.pzxid), (1, 1, 1));
    assert_eq!(m.children.len(), 2);
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_multi_reports_each_op_as_zookeeper_does_and_applies_nothing() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/m", "")).await.unwrap();
    let req = sim.request(
        s,
        fk_core::Op::multi(vec![
            create("/m/a", ""),
            set("/m", "x", Some(5)),
            delete("/m", None),
        ]),
    );

    sim.writer.handle(&req, 1).await.unwrap();
    sim.drain().await;

    let reply = sim.replies.take().pop().unwrap().1;
    let fk_core::Outcome::MultiErr(failure) = reply.outcome else {
        panic!("{reply:?}")
    };
    assert_eq!(failure.error, Error::BadVersion);
    assert_eq!(
        failure.results,
        vec![
            Ok(()),
            Err(Error::BadVersion),
            Err(Error::RuntimeInconsistency)
        ]
    );
    assert!(sim.read("/m/a").await.is_none());
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn closing_a_session_deletes_its_ephemerals_only_and_ends_it() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let other = sim.open_session().await;
    sim.write(s, create("/app", "")).await.unwrap();
    sim.write(s, create_mode("/app/mine", "", CreateMode::Ephemeral))
        .await
        .unwrap();
    sim.write(
        s,
        create_mode("/app/lock-", "", CreateMode::EphemeralSequential),
    )
    .await
    .unwrap();
    sim.write(other, create_mode("/app/theirs", "", CreateMode::Ephemeral))
        .await
        .unwrap();

    let closed = sim.write(s, fk_core::Op::CloseSession).await;

    assert_eq!(closed, Ok(OpResult::SessionClosed));
    let app = sim.read("/app").await.unwrap();
    assert_eq!(app.children, vec!["theirs".to_string()]);
    assert!(sim.system.session(s).await.unwrap().is_none());
    assert_eq!(
        sim.write(s, create("/late", "")).await,
        Err(Error::SessionExpired)
    );
    assert_eq!(
        sim.write(s, fk_core::Op::CloseSession).await,
        Err(Error::SessionExpired)
    );
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_heartbeat_expires_only_silent_sessions_through_an_ordered_close() {
    use fk_core::heartbeat::{Heartbeat, EXPIRY_SEQ};
    use fk_core::memory::MemoryWriteQueue;
    use std::sync::Arc;

    let mut sim = Sim::new();
    let silent = sim.open_session().await; // heartbeat_ms 0: silent since the epoch
    let alive = sim.open_session().await;
    sim.write(silent, create_mode("/gone", "", CreateMode::Ephemeral))
        .await
        .unwrap();
    sim.write(alive, create_mode("/kept", "", CreateMode::Ephemeral))
        .await
        .unwrap();
    let now = TokioClock(tokio::time::Instant::now());
    sim.system
        .touch_session(alive, fk_core::Clock::now_ms(&now))
        .await
        .unwrap();
    let queue = Arc::new(MemoryWriteQueue::default());
    let heartbeat = Heartbeat::new(sim.system.clone(), queue.clone(), Arc::new(now));

    let report = heartbeat.run().await.unwrap();
    let again = heartbeat.run().await.unwrap();

    assert_eq!(report.sessions, 2);
    assert_eq!(report.expired, vec![silent]);
    assert_eq!(
        again.expired,
        vec![silent],
        "sent again until it takes effect"
    );
    let close = queue.pop().unwrap();
    assert!(queue.pop().is_none(), "the repeat is deduplicated");
    assert_eq!((close.session, close.seq), (silent, EXPIRY_SEQ));
    sim.writer.handle(&close, 1).await.unwrap();
    sim.drain().await;
    assert!(sim.read("/gone").await.is_none());
    assert!(sim.read("/kept").await.is_some());
    assert!(sim.system.session(silent).await.unwrap().is_none());
    assert_eq!(sim.replies.discarded(), vec![reply_address(silent)]);
}

#[tokio::test(start_paused = true)]
async fn sync_answers_after_earlier_writes_and_commits_nothing() {
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/a", "")).await.unwrap();

    let synced = sim.write(s, fk_core::Op::Sync { path: "/a".into() }).await;
    let after = sim.write(s, set("/a", "x", None)).await.unwrap();

    assert_eq!(synced, Ok(OpResult::Synced { path: "/a".into() }));
    let OpResult::SetData { stat } = after else {
        panic!()
    };
    assert_eq!(stat.mzxid, 2, "the sync took no zxid");
    assert_eq!(
        sim.write(s, fk_core::Op::Sync { path: "bad".into() }).await,
        Err(Error::BadArguments)
    );
}
