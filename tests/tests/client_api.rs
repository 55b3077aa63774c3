//! The client's API against a whole local stack: a handle per watch, the
//! state watcher, the multi builder, create_all, the builder's options.

use std::time::Duration;

use fk_client::{
    AddWatchMode, Client, Code, CreateMode, EventType, OpResult, RetryPolicy, SessionState, Stat,
    WatchedEvent, WatcherType,
};
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

const WAIT: Duration = Duration::from_secs(20);

/// `(type, path)` of an event.
fn seen(event: &WatchedEvent) -> (EventType, &str) {
    (event.event_type, event.path.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_watch_handle_receives_exactly_the_events_of_its_own_watch() {
    // given a watcher with a data watch on /a, a child watch on /b, an
    // exists watch on the missing /c, and a persistent watch on /p, each
    // with its own handle, and a default-watcher stream
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let writer = stack.client().await;
    for path in ["/a", "/b", "/p"] {
        writer
            .create(path, b"", CreateMode::Persistent)
            .await
            .unwrap();
    }
    let watcher = stack.client().await;
    let mut defaults = watcher.subscribe().unwrap();
    let (_, _, on_a) = watcher.get_and_watch_data("/a").await.unwrap();
    let (children, _, on_b) = watcher.get_and_watch_children("/b").await.unwrap();
    assert!(children.is_empty());
    let (missing, on_c) = watcher.check_and_watch_stat("/c").await.unwrap();
    assert_eq!(missing, None);
    let mut on_p = watcher.watch("/p", AddWatchMode::Persistent).await.unwrap();

    // when each watched node changes, /a twice
    writer.set_data("/a", b"1", None).await.unwrap();
    writer.set_data("/a", b"2", None).await.unwrap();
    writer
        .create("/b/x", b"", CreateMode::Persistent)
        .await
        .unwrap();
    writer
        .create("/c", b"", CreateMode::Persistent)
        .await
        .unwrap();
    writer.set_data("/p", b"1", None).await.unwrap();
    writer.set_data("/p", b"2", None).await.unwrap();

    // then each one-shot handle has its one event
    let event = tokio::time::timeout(WAIT, on_a.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen(&event), (EventType::NodeDataChanged, "/a"));
    let event = tokio::time::timeout(WAIT, on_b.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen(&event), (EventType::NodeChildrenChanged, "/b"));
    let event = tokio::time::timeout(WAIT, on_c.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen(&event), (EventType::NodeCreated, "/c"));
    // and the persistent handle both of its node's changes, in order
    let first = tokio::time::timeout(WAIT, on_p.changed())
        .await
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(WAIT, on_p.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen(&first), (EventType::NodeDataChanged, "/p"));
    assert_eq!(seen(&second), (EventType::NodeDataChanged, "/p"));
    assert!(first.zxid < second.zxid);
    // and nothing reached the default watcher, which watched nothing
    assert!(defaults.try_recv().is_err());

    // when the persistent watch is removed, no more events come
    on_p.remove().await.unwrap();
    assert_eq!(
        watcher
            .remove_watches("/p", WatcherType::Any)
            .await
            .unwrap_err(),
        Code::NoWatcher,
        "the handle's watch was the only one"
    );

    watcher.close().await.unwrap();
    writer.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_watcher_that_reads_late_loses_no_event() {
    // given a recursive watch whose handle nobody reads for a while
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let writer = stack.client().await;
    writer
        .create("/app", b"", CreateMode::Persistent)
        .await
        .unwrap();
    let watcher = stack.client().await;
    let mut changes = watcher
        .watch("/app", AddWatchMode::PersistentRecursive)
        .await
        .unwrap();

    // when many changes are committed meanwhile
    const CHANGES: usize = 40;
    for i in 0..CHANGES {
        writer
            .create(&format!("/app/n{i:02}"), b"", CreateMode::Persistent)
            .await
            .unwrap();
    }

    // then every event is there, in commit order
    let mut last = 0;
    for i in 0..CHANGES {
        let event = tokio::time::timeout(WAIT, changes.changed())
            .await
            .expect("an event")
            .unwrap();
        assert_eq!(
            seen(&event),
            (EventType::NodeCreated, format!("/app/n{i:02}").as_str())
        );
        assert!(event.zxid > last);
        last = event.zxid;
    }

    // and the session's end ends the handle, with why
    watcher.close().await.unwrap();
    assert_eq!(changes.changed().await.unwrap_err(), Code::SessionExpired);
    writer.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_watcher_sees_connected_then_closed() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    // given a client built with options
    let zk = Client::builder(&stack.deployment)
        .session_timeout(Duration::from_secs(10))
        .request_timeout(Duration::from_secs(20))
        .retry_policy(RetryPolicy::exponential(
            Duration::from_millis(50),
            Duration::from_secs(1),
            3,
        ))
        .connect()
        .await
        .unwrap();
    assert_eq!(zk.session_timeout(), Duration::from_secs(10));
    let mut states = zk.state_watcher();
    assert_eq!(*states.borrow_and_update(), SessionState::Connected);
    // and a one-shot watch still waiting
    let (_, on_root) = zk.check_and_watch_stat("/never").await.unwrap();

    // when the session is closed
    zk.clone().close().await.unwrap();

    // then the watcher sees Closed, and the waiting watch hears why
    tokio::time::timeout(WAIT, states.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*states.borrow(), SessionState::Closed);
    assert_eq!(zk.state(), SessionState::Closed);
    assert_eq!(on_root.changed().await.unwrap_err(), Code::SessionExpired);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_reports_each_ops_result_and_create_all_makes_the_parents() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let zk = stack.client().await;

    // create_all: the parents are made, an existing parent is fine
    let (path, _) = zk
        .create_all("/a/b/c", b"leaf", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(path, "/a/b/c");
    assert_eq!(zk.get_data("/a/b/c").await.unwrap().0, b"leaf");
    assert_eq!(zk.get_data("/a/b").await.unwrap().0, b"");
    let (sequential, _) = zk
        .create_all("/a/x/n-", b"", CreateMode::PersistentSequential)
        .await
        .unwrap();
    assert!(sequential.starts_with("/a/x/n-"), "{sequential}");
    // the node itself existing is still NodeExists
    assert_eq!(
        zk.create_all("/a/b/c", b"", CreateMode::Persistent)
            .await
            .unwrap_err(),
        Code::NodeExists
    );

    // a multi that succeeds: each op's result, in order
    let results = zk
        .new_multi()
        .check("/a", Some(0))
        .create("/a/m", b"1", CreateMode::Persistent)
        .set_data("/a/b", b"2", None)
        .delete("/a/b/c", None)
        .commit()
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0], OpResult::Checked);
    assert!(matches!(&results[1], OpResult::Created { path, .. } if path == "/a/m"));
    assert!(matches!(&results[2], OpResult::SetData { stat } if stat.version == 1));
    assert_eq!(results[3], OpResult::Deleted);

    // a multi that fails at its second op: ZooKeeper's per-op report, and
    // nothing applied
    let failure = zk
        .new_multi()
        .set_data("/a/m", b"changed", None)
        .create("/a/m", b"", CreateMode::Persistent)
        .delete("/a/b", None)
        .commit()
        .await
        .unwrap_err();
    assert_eq!(failure.error, Code::NodeExists);
    assert_eq!(failure.index(), Some(1));
    assert_eq!(
        failure.results,
        vec![
            Ok(()),
            Err(Code::NodeExists),
            Err(Code::RuntimeInconsistency)
        ]
    );
    assert_eq!(zk.get_data("/a/m").await.unwrap().0, b"1");
    assert!(zk.exists("/a/b").await.unwrap().is_some());

    zk.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_reply_suspends_the_session_and_a_retry_policy_waits_it_out_applying_once() {
    // given two sessions with short request timeouts, one with a retry
    // policy, and the functions stopped: writes queue up unanswered
    let mut stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let setup = stack.client().await;
    setup
        .create("/jobs", b"", CreateMode::Persistent)
        .await
        .unwrap();
    let plain = Client::builder(&stack.deployment)
        .request_timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap();
    let patient = Client::builder(&stack.deployment)
        .request_timeout(Duration::from_secs(1))
        .retry_policy(RetryPolicy::exponential(
            Duration::from_millis(200),
            Duration::from_secs(1),
            60,
        ))
        .connect()
        .await
        .unwrap();
    let mut states = plain.state_watcher();
    stack.stop_functions().await;

    // when the plain session writes, then its reply is overdue: a
    // retryable ConnectionLoss that says why, and the session Suspended
    let err = plain
        .create("/jobs/plain-", b"", CreateMode::PersistentSequential)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ConnectionLoss, "{err}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("no reply"), "{err}");
    assert_eq!(*states.borrow_and_update(), SessionState::Suspended);

    // when the patient session writes a sequential node and the functions
    // come back a few seconds later
    let write = tokio::spawn({
        let patient = patient.clone();
        async move {
            patient
                .create("/jobs/patient-", b"", CreateMode::PersistentSequential)
                .await
        }
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!write.is_finished(), "still retrying");
    stack.start_functions().await;

    // then its write succeeds, sent again as the same request: one node
    let (created, _) = tokio::time::timeout(WAIT, write)
        .await
        .expect("the write is answered")
        .unwrap()
        .unwrap();
    assert!(created.starts_with("/jobs/patient-"), "{created}");
    let children = setup.get_children("/jobs").await.unwrap();
    let patients: Vec<_> = children
        .iter()
        .filter(|c| c.starts_with("patient-"))
        .collect();
    assert_eq!(patients.len(), 1, "applied once: {children:?}");
    // and the plain session's late reply, when it came, resumed it
    tokio::time::timeout(WAIT, states.wait_for(|s| *s == SessionState::Connected))
        .await
        .expect("Connected again once a reply came")
        .unwrap();

    for zk in [plain, patient, setup] {
        zk.close().await.unwrap();
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_session_ends_closed_though_its_keep_alive_finds_the_record_gone_first() {
    // given sessions whose keep-alive touches their record every 100 ms,
    // so that one touch is likely to fall between the close's commit
    // (the record goes) and its reply
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let observer = stack.client().await;
    for round in 0..12 {
        let client = Client::builder(&stack.deployment)
            .session_timeout(Duration::from_millis(300))
            .connect()
            .await
            .unwrap();
        let path = format!("/e{round}");
        client
            .create(&path, b"", CreateMode::Ephemeral)
            .await
            .unwrap();
        if client.state().is_terminal() {
            // The deployment expired it already (a very loaded machine):
            // nothing of the close to see in this round.
            continue;
        }

        // when the application closes the session
        client.clone().close().await.unwrap();

        // then it ends Closed (an end state stays: had the keep-alive
        // taken the record's absence for an expiry, it would say Expired),
        // and its ephemeral node is gone
        assert_eq!(client.state(), SessionState::Closed, "round {round}");
        assert_eq!(observer.exists(&path).await.unwrap(), None);
    }
    observer.close().await.unwrap();
    stack.stop().await;
}

/// How many calls of `name` the client made since `before`.
fn calls_since(
    client: &Client,
    before: &std::collections::BTreeMap<String, u64>,
    name: &str,
) -> u64 {
    let now = client.calls().snapshot().get(name).copied().unwrap_or(0);
    now - before.get(name).copied().unwrap_or(0)
}

/// Runs `work` on a runtime of its own with one thread (so that futures
/// spawned or joined together there are all queued before any task they
/// wake runs), beside the test's runtime.
fn on_a_thread_of_its_own<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work)
    })
}

/// Twelve sets issued at once by one session with `batch_sends` (`None`:
/// the default) on the `store` store, from a runtime of its own with one
/// thread (so all twelve are queued before the session's sending task
/// runs, as a join of twelve futures queues them): the SendMessageBatch
/// and SendMessage calls they took, and each write's stat. Checks that
/// each node holds its write.
async fn twelve_sets_issued_together(
    store: StoreKind,
    batch_sends: Option<usize>,
) -> ((u64, u64), Vec<Stat>) {
    let stack = Stack::start(StackOptions::new(store)).await;
    let deployment = stack.deployment.clone();
    let on_one_thread = on_a_thread_of_its_own(async move {
        let mut builder = Client::builder(&deployment);
        if let Some(batch) = batch_sends {
            builder = builder.batch_sends(batch);
        }
        let zk = builder.connect().await.unwrap();
        for i in 0..12 {
            zk.create(&format!("/n{i}"), b"", CreateMode::Persistent)
                .await
                .unwrap();
        }
        let before = zk.calls().snapshot();

        // the i-th setting /ni to i
        let mut writes = Vec::new();
        for i in 0u8..12 {
            let zk = zk.clone();
            writes.push(tokio::spawn(async move {
                zk.set_data(&format!("/n{i}"), &[i], None).await
            }));
        }
        let mut stats = Vec::new();
        for write in writes {
            let stat = tokio::time::timeout(WAIT, write)
                .await
                .expect("answered")
                .unwrap()
                .unwrap();
            stats.push(stat);
        }
        let sends = (
            calls_since(&zk, &before, "SQS.SendMessageBatch"),
            calls_since(&zk, &before, "SQS.SendMessage"),
        );
        zk.close().await.unwrap();
        (sends, stats)
    });
    let result = on_one_thread.await.unwrap();
    let reader = stack.client().await;
    for i in 0u8..12 {
        let (data, stat) = reader.get_data(&format!("/n{i}")).await.unwrap();
        assert_eq!((data, stat.version), (vec![i], 1));
    }
    reader.close().await.unwrap();
    stack.stop().await;
    result
}

/// The writes of `stats` (in the order they were issued) committed in
/// that order.
fn assert_committed_in_order(stats: &[Stat]) {
    let zxids: Vec<i64> = stats.iter().map(|stat| stat.mzxid).collect();
    assert!(zxids.windows(2).all(|w| w[0] < w[1]), "{zxids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_issued_together_leave_in_batches_of_ten_and_commit_in_the_order_they_were_issued() {
    // given a session on the redis store (batched sends by default)
    // when twelve sets are issued at once
    let ((batches, singles), stats) = twelve_sets_issued_together(StoreKind::Redis, None).await;

    // then they left in two calls, ten and two, and none alone
    assert_eq!((batches, singles), (2, 0));
    // and the deployment committed them in the order they were issued
    assert_committed_in_order(&stats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_told_not_to_batch_sends_each_write_alone_in_the_order_issued() {
    // given a session with batched sends off
    // when twelve sets are issued at once
    let ((batches, singles), stats) = twelve_sets_issued_together(StoreKind::Redis, Some(1)).await;

    // then each left in a call of its own, and they committed in order
    assert_eq!((batches, singles), (0, 12));
    assert_committed_in_order(&stats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_told_to_batch_three_sends_twelve_writes_in_four_calls_in_order() {
    // given a session that sends at most three writes a call
    // when twelve sets are issued at once
    let ((batches, singles), stats) = twelve_sets_issued_together(StoreKind::Redis, Some(3)).await;

    // then they left in four calls of three, and committed in order
    assert_eq!((batches, singles), (4, 0));
    assert_committed_in_order(&stats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3_writes_issued_together_leave_a_few_at_a_time_by_default() {
    // given a session on the s3 store with the default sends
    // when twelve sets are issued at once
    let ((batches, singles), stats) = twelve_sets_issued_together(StoreKind::S3, None).await;

    // then they left S3_BATCH_SENDS to a call, in order
    // (a call of one write is a SendMessage)
    let per_call = fk_client::S3_BATCH_SENDS as u64;
    let (full, rest) = (12 / per_call, 12 % per_call);
    let expected = if per_call == 1 {
        (0, 12)
    } else {
        (full + u64::from(rest > 1), u64::from(rest == 1))
    };
    assert_eq!((batches, singles), expected);
    assert_committed_in_order(&stats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_between_a_sessions_pipelined_writes_leaves_the_others_applied_once() {
    // given a session (redis store) on a runtime of its own with one
    // thread, so that its writes issued together leave together, reach
    // one writer batch and commit in one group, and nodes /a, /b, /c
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let deployment = stack.deployment.clone();
    let on_one_thread = on_a_thread_of_its_own(async move {
        let zk = Client::connect(&deployment).await.unwrap();
        for path in ["/a", "/b", "/c"] {
            zk.create(path, b"0", CreateMode::Persistent).await.unwrap();
        }

        // when it issues, at once, a set of /a, a set of /b at a
        // version /b does not have, and a set of /c
        let results = tokio::time::timeout(
            WAIT,
            futures::future::join3(
                zk.set_data("/a", b"1", None),
                zk.set_data("/b", b"1", Some(7)),
                zk.set_data("/c", b"1", None),
            ),
        )
        .await
        .expect("answered");
        zk.close().await.unwrap();
        results
    });
    let (a, b, c) = on_one_thread.await.unwrap();

    // then the middle one is refused alone, the others applied once each
    assert_eq!(a.unwrap().version, 1);
    assert_eq!(b.unwrap_err().code(), Code::BadVersion);
    let c = c.unwrap();
    assert_eq!(c.version, 1);
    assert!(c.mzxid > 0);
    let reader = stack.client().await;
    for (path, data, version) in [("/a", b"1", 1), ("/b", b"0", 0), ("/c", b"1", 1)] {
        let (got, stat) = reader.get_data(path).await.unwrap();
        assert_eq!(
            (got.as_slice(), stat.version),
            (data.as_slice(), version),
            "{path}"
        );
    }
    reader.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_caller_stopped_waiting_keeps_its_place_in_the_sessions_order() {
    // given a session with /a = "0", and the functions stopped: writes
    // queue up unanswered
    let mut stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let zk = stack.client().await;
    zk.create("/a", b"0", CreateMode::Persistent).await.unwrap();
    stack.stop_functions().await;

    // when the application stops waiting for a set of /a (a timeout
    // around it drops the call once it is sent), and the functions come
    // back
    let abandoned =
        tokio::time::timeout(Duration::from_millis(1500), zk.set_data("/a", b"1", None)).await;
    assert!(abandoned.is_err(), "no reply while the functions are down");
    stack.start_functions().await;

    // then the session's next write is answered as itself, not as the
    // abandoned one (its seq was not given again)
    let created = tokio::time::timeout(WAIT, zk.create("/b", b"2", CreateMode::Persistent))
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(created.0, "/b");
    // and a read of /a comes after the abandoned set, which was sent and
    // applied: it neither waits for ever nor misses it
    let (data, stat) = tokio::time::timeout(WAIT, zk.get_data("/a"))
        .await
        .expect("the read is not held by the abandoned write")
        .unwrap();
    assert_eq!((data.as_slice(), stat.version), (&b"1"[..], 1));
    let (data, _) = zk.get_data("/b").await.unwrap();
    assert_eq!(data, b"2");

    zk.close().await.unwrap();
    stack.stop().await;
}
