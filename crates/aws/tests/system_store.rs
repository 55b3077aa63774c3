//! DynamoSystemStore against the emulator: locks, commits, the counter,
//! sessions.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use fk_aws::calls::CallCounter;
use fk_aws::clients::Clients;
use fk_aws::schema;
use fk_aws::system::DynamoSystemStore;
use fk_core::system::{
    CommitOutcome, Expected, FiredWatches, GroupOutcome, LockOutcome, LockRequest, NodeRecord,
    NodeWrite, RefusalRecord, SessionRecord, SystemCommit, SystemStore, WatchRegistration,
    RECENT_COMMITS,
};
use fk_core::watch::{AddWatchMode, PersistentWatch, WatchKind};
use fk_core::{SessionId, Stat};

struct Fixture {
    store: DynamoSystemStore,
    clients: Clients,
    counter: CallCounter,
    system_table: String,
    sessions_table: String,
}

async fn fixture() -> Fixture {
    let (clients, counter) = common::clients().await;
    let system_table = fk_testkit::unique_name("system");
    let sessions_table = fk_testkit::unique_name("sessions");
    schema::create_tables(&clients.dynamodb, &system_table, &sessions_table, None)
        .await
        .unwrap();
    counter.take();
    // As the writer takes locks: through the lean transport (a lock that
    // fell back to the SDK would count two UpdateItem calls).
    assert!(clients.lean_dynamodb.is_some(), "the lean transport is on");
    Fixture {
        store: DynamoSystemStore::new(clients.dynamodb.clone(), &system_table, &sessions_table)
            .with_lean(clients.lean_dynamodb.clone()),
        clients,
        counter,
        system_table,
        sessions_table,
    }
}

impl Fixture {
    async fn lock(&self, path: &str, token: &str, now_ms: i64) -> LockOutcome {
        self.store
            .lock(LockRequest {
                path,
                token,
                now_ms,
                expires_ms: now_ms + 1000,
            })
            .await
            .unwrap()
    }

    /// The raw item of `path`, read behind the store's back.
    async fn raw_item(
        &self,
        path: &str,
    ) -> Option<std::collections::HashMap<String, AttributeValue>> {
        common::raw_item(&self.clients, &self.system_table, path).await
    }

    /// Commits `path` at zxid 1 (`stat(1)`) by a new session's write
    /// `s-1`, which locked it at 100.
    async fn committed_node(&self, path: &str) {
        let session = self.new_session().await;
        self.lock(path, "s-1", 100).await;
        let done = self
            .store
            .commit(&commit("s-1", 1, session, vec![put(path, 1)]))
            .await;
        assert_eq!(done.unwrap(), CommitOutcome::Committed);
    }

    async fn new_session(&self) -> SessionId {
        let id = SessionId::random();
        assert!(self
            .store
            .create_session(&session_record(id))
            .await
            .unwrap());
        id
    }
}

fn session_record(id: SessionId) -> SessionRecord {
    SessionRecord {
        id,
        timeout_ms: 10_000,
        reply_to: "http://queue/reply.fifo".into(),
        last_seq: 0,
        refused: Vec::new(),
        ephemerals: Vec::new(),
        heartbeat_ms: 1_000,
    }
}

fn stat(zxid: i64) -> Stat {
    Stat {
        czxid: zxid,
        mzxid: zxid,
        ctime: 1_700_000_000_000,
        mtime: 1_700_000_000_000,
        data_length: 3,
        ..Stat::default()
    }
}

fn put(path: &str, zxid: i64) -> NodeWrite {
    NodeWrite::Put {
        path: path.into(),
        stat: stat(zxid),
        fired: Default::default(),
    }
}

fn commit(token: &str, zxid: i64, session: SessionId, writes: Vec<NodeWrite>) -> SystemCommit {
    SystemCommit {
        token: token.into(),
        commit_id: token.into(),
        zxid,
        writes,
        session,
        seq: zxid as u64,
        ephemerals: Default::default(),
        close_session: false,
        persistent: Default::default(),
        in_flight: None,
    }
}

#[tokio::test]
async fn locking_a_free_node_is_one_update_item_and_finds_no_node() {
    let f = fixture().await;

    let outcome = f.lock("/a", "s-1", 100).await;

    assert_eq!(outcome, LockOutcome::Acquired(NodeRecord::default()));
    assert_eq!(
        f.counter.take(),
        [("DynamoDB.UpdateItem".to_string(), 1)].into()
    );
}

#[tokio::test]
async fn a_lock_held_by_another_token_answers_held_until_its_expiry() {
    let f = fixture().await;
    f.lock("/a", "s-1", 100).await;

    let outcome = f.lock("/a", "s-2", 200).await;

    assert_eq!(outcome, LockOutcome::Held { expires_ms: 1100 });
}

#[tokio::test]
async fn an_expired_lock_is_taken_over() {
    let f = fixture().await;
    f.lock("/a", "s-1", 100).await;

    let outcome = f.lock("/a", "s-2", 1101).await;

    assert!(matches!(outcome, LockOutcome::Acquired(_)));
    assert_eq!(
        f.lock("/a", "s-1", 1200).await,
        LockOutcome::Held { expires_ms: 2101 }
    );
}

#[tokio::test]
async fn the_same_token_takes_its_own_lock_again() {
    let f = fixture().await;
    f.lock("/a", "s-1", 100).await;

    let outcome = f.lock("/a", "s-1", 150).await;

    assert!(matches!(outcome, LockOutcome::Acquired(_)));
}

#[tokio::test]
async fn unlocking_a_placeholder_removes_it_in_one_call() {
    let f = fixture().await;
    f.lock("/a", "s-1", 100).await;
    f.counter.take();

    f.store.unlock("/a", "s-1").await.unwrap();

    assert_eq!(
        f.counter.take(),
        [("DynamoDB.DeleteItem".to_string(), 1)].into()
    );
    assert_eq!(f.raw_item("/a").await, None);
}

#[tokio::test]
async fn unlocking_by_a_non_holder_changes_nothing() {
    let f = fixture().await;
    f.lock("/a", "s-1", 100).await;

    f.store.unlock("/a", "s-2").await.unwrap();
    f.store.unlock("/missing", "s-2").await.unwrap();

    assert_eq!(
        f.lock("/a", "s-3", 200).await,
        LockOutcome::Held { expires_ms: 1100 }
    );
    assert_eq!(f.raw_item("/missing").await, None);
}

#[tokio::test]
async fn unlocking_a_node_that_exists_keeps_its_state() {
    // Given a committed node, locked again
    let f = fixture().await;
    f.committed_node("/a").await;
    f.lock("/a", "s-2", 200).await;

    // When the lock is released
    f.store.unlock("/a", "s-2").await.unwrap();

    // Then the node is still there, unlocked
    let outcome = f.lock("/a", "s-3", 300).await;
    assert_eq!(
        outcome,
        LockOutcome::Acquired(NodeRecord {
            stat: Some(stat(1)),
            last_token: Some("s-1".into()),
            watches: Default::default(),
        })
    );
}

#[tokio::test]
async fn a_commit_writes_nodes_counter_and_session_and_releases_the_locks() {
    // Given two locked nodes and a session
    let f = fixture().await;
    let session = f.new_session().await;
    f.lock("/a", "t-1", 100).await;
    f.lock("/a/e", "t-1", 100).await;
    f.counter.take();

    // When both are committed with an ephemeral
    let mut c = commit("t-1", 1, session, vec![put("/a", 1), put("/a/e", 1)]);
    c.ephemerals.add("/a/e");
    let outcome = f.store.commit(&c).await.unwrap();

    // Then everything applied in one call
    assert_eq!(outcome, CommitOutcome::Committed);
    assert_eq!(
        f.counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
    );
    let counter = f.store.counter().await.unwrap();
    assert_eq!(counter.zxid, 1);
    assert_eq!(counter.committed_zxid("t-1"), Some(1));
    let record = f.store.session(session).await.unwrap().unwrap();
    assert_eq!(record.last_seq, 1);
    assert_eq!(record.ephemerals, vec!["/a/e".to_string()]);
    let item = f.raw_item("/a/e").await.unwrap();
    assert!(!item.contains_key("lockToken") && !item.contains_key("lockExpires"));
    assert!(matches!(
        f.lock("/a/e", "other", 150).await,
        LockOutcome::Acquired(NodeRecord { stat: Some(_), .. })
    ));
}

#[tokio::test]
async fn a_delete_commit_removes_the_node_and_the_ephemeral() {
    let f = fixture().await;
    let session = f.new_session().await;
    f.lock("/e", "t-1", 100).await;
    let mut create = commit("t-1", 1, session, vec![put("/e", 1)]);
    create.ephemerals.add("/e");
    f.store.commit(&create).await.unwrap();
    f.lock("/e", "t-2", 200).await;

    let mut delete = commit(
        "t-2",
        2,
        session,
        vec![NodeWrite::Delete { path: "/e".into() }],
    );
    delete.ephemerals.remove("/e");
    let outcome = f.store.commit(&delete).await.unwrap();

    assert_eq!(outcome, CommitOutcome::Committed);
    assert_eq!(f.raw_item("/e").await, None);
    let record = f.store.session(session).await.unwrap().unwrap();
    assert!(record.ephemerals.is_empty());
}

#[tokio::test]
async fn a_closing_commit_deletes_the_session_record_and_needs_it() {
    let f = fixture().await;
    let session = f.new_session().await;
    f.lock("/e", "t-1", 100).await;
    let mut create = commit("t-1", 1, session, vec![put("/e", 1)]);
    create.ephemerals.add("/e");
    f.store.commit(&create).await.unwrap();
    f.lock("/e", "t-2", 200).await;

    let mut close = commit(
        "t-2",
        2,
        session,
        vec![NodeWrite::Delete { path: "/e".into() }],
    );
    close.ephemerals.remove("/e");
    close.close_session = true;
    let outcome = f.store.commit(&close).await.unwrap();

    assert_eq!(outcome, CommitOutcome::Committed);
    assert_eq!(f.store.session(session).await.unwrap(), None);
    assert_eq!(f.raw_item("/e").await, None);
    // A second close finds no session and changes nothing.
    f.lock("/x", "t-3", 300).await;
    let mut again = commit("t-3", 3, session, vec![put("/x", 3)]);
    again.close_session = true;
    assert_eq!(
        f.store.commit(&again).await.unwrap(),
        CommitOutcome::SessionMissing
    );
    assert_eq!(f.store.counter().await.unwrap().zxid, 2);
}

#[tokio::test]
async fn a_commit_with_a_lost_lock_writes_nothing() {
    // Given /a locked by t-1 and /b taken over by another request
    let f = fixture().await;
    let session = f.new_session().await;
    f.lock("/a", "t-1", 100).await;
    f.lock("/b", "t-1", 100).await;
    f.lock("/b", "thief", 5000).await;
    f.counter.take();

    // When t-1 commits both
    let outcome = f
        .store
        .commit(&commit("t-1", 1, session, vec![put("/a", 1), put("/b", 1)]))
        .await
        .unwrap();

    // Then the lost lock is named (from the cancellation's reasons, which
    // the lean transport reads: one call) and nothing changed
    assert_eq!(outcome, CommitOutcome::LockLost { path: "/b".into() });
    assert_eq!(
        f.counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
    );
    assert_eq!(f.store.counter().await.unwrap().zxid, 0);
    assert_eq!(f.store.session(session).await.unwrap().unwrap().last_seq, 0);
    let a = f.raw_item("/a").await.unwrap();
    assert!(!a.contains_key("czxid"));
    assert_eq!(a["lockToken"], AttributeValue::S("t-1".into()));
}

#[tokio::test]
async fn a_commit_with_the_wrong_zxid_is_a_mismatch_even_with_a_lost_lock() {
    let f = fixture().await;
    let session = f.new_session().await;
    f.counter.take();

    let outcome = f
        .store
        .commit(&commit("t-1", 2, session, vec![put("/never-locked", 2)]))
        .await
        .unwrap();

    assert_eq!(outcome, CommitOutcome::ZxidMismatch);
    assert_eq!(
        f.counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
    );
    assert_eq!(f.store.counter().await.unwrap().zxid, 0);
}

#[tokio::test]
async fn a_commit_for_a_missing_session_is_session_missing() {
    let f = fixture().await;
    f.lock("/a", "t-1", 100).await;

    let gone = SessionId::random();
    let outcome = f
        .store
        .commit(&commit("t-1", 1, gone, vec![put("/a", 1)]))
        .await
        .unwrap();

    assert_eq!(outcome, CommitOutcome::SessionMissing);
    assert!(f.raw_item("/a").await.unwrap().contains_key("lockToken"));
}

#[tokio::test]
async fn the_counter_remembers_the_recent_tokens_and_forgets_older_ones() {
    // Given more commits than the ring holds
    let f = fixture().await;
    let session = f.new_session().await;
    let total = RECENT_COMMITS + 8;
    for zxid in 1..=total {
        let token = format!("t-{zxid}");
        f.lock("/n", &token, 100).await;
        let outcome = f
            .store
            .commit(&commit(&token, zxid, session, vec![put("/n", zxid)]))
            .await
            .unwrap();
        assert_eq!(outcome, CommitOutcome::Committed);
    }

    // When the counter is read
    let counter = f.store.counter().await.unwrap();

    // Then it holds the last RECENT_COMMITS tokens in order, and no older
    assert_eq!(counter.zxid, total);
    assert_eq!(counter.recent.len(), RECENT_COMMITS as usize);
    assert_eq!(
        counter.recent.first().unwrap().1,
        total - RECENT_COMMITS + 1
    );
    assert_eq!(counter.committed_zxid(&format!("t-{total}")), Some(total));
    assert_eq!(counter.committed_zxid("t-9"), Some(9));
    assert_eq!(counter.committed_zxid("t-8"), None);
}

#[tokio::test]
async fn a_fresh_counter_is_zero_with_no_recent_commits() {
    let f = fixture().await;

    let counter = f.store.counter().await.unwrap();

    assert_eq!(counter.zxid, 0);
    assert!(counter.recent.is_empty());
}

#[tokio::test]
async fn sessions_are_created_once_read_back_and_deleted() {
    let f = fixture().await;
    let id = SessionId::random();
    let mut record = session_record(id);
    record.ephemerals = vec!["/x".into(), "/y".into()];

    assert!(f.store.create_session(&record).await.unwrap());
    assert!(!f.store.create_session(&session_record(id)).await.unwrap());
    assert_eq!(f.store.session(id).await.unwrap(), Some(record));

    f.store.delete_session(id).await.unwrap();
    assert_eq!(f.store.session(id).await.unwrap(), None);
    f.store.delete_session(id).await.unwrap();
}

/// Fails against a plain `moto_server` (its failed transactions restore a
/// stale copy of the table); passes with `scripts/moto_server.py`.
#[tokio::test]
async fn concurrent_failed_commits_never_undo_other_writes() {
    // Given many requests at once: locks that succeed, and commits that
    // fail (the emulator must keep DynamoDB's per-request atomicity)
    let f = std::sync::Arc::new(fixture().await);
    let session = f.new_session().await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                f.lock(&format!("/n{i}"), "holder", 100).await;
            } else {
                let stale = commit("stale", 99, session, vec![put(&format!("/n{i}"), 99)]);
                let outcome = f.store.commit(&stale).await.unwrap();
                assert_eq!(outcome, CommitOutcome::ZxidMismatch);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    // Then every lock that was taken is still there
    for i in (0..24).step_by(2) {
        assert_eq!(
            f.lock(&format!("/n{i}"), "other", 200).await,
            LockOutcome::Held { expires_ms: 1100 },
            "/n{i}"
        );
    }
}

#[tokio::test]
async fn a_touch_records_life_and_reports_a_missing_session() {
    let f = fixture().await;
    let id = f.new_session().await;
    f.counter.take();

    assert!(f.store.touch_session(id, 5_000).await.unwrap());
    assert_eq!(
        f.store.session(id).await.unwrap().unwrap().heartbeat_ms,
        5_000
    );
    f.store.delete_session(id).await.unwrap();
    assert!(!f.store.touch_session(id, 6_000).await.unwrap());
    assert_eq!(
        f.store.session(id).await.unwrap(),
        None,
        "a touch creates nothing"
    );
}

#[tokio::test]
async fn the_session_scan_returns_every_session() {
    let f = fixture().await;
    let mut ids = vec![
        f.new_session().await,
        f.new_session().await,
        f.new_session().await,
    ];
    ids.sort();

    let all: Vec<SessionId> = f
        .store
        .sessions()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();

    assert_eq!(all, ids);
}

fn watcher(session: SessionId) -> fk_core::watch::Watcher {
    fk_core::watch::Watcher {
        session,
        reply_to: format!("http://queue/{session}.fifo"),
    }
}

impl Fixture {
    async fn watch(
        &self,
        path: &str,
        kind: WatchKind,
        who: &fk_core::watch::Watcher,
        expected: Expected,
        now_ms: i64,
    ) -> bool {
        self.store
            .register_watch(WatchRegistration {
                path,
                kind,
                watcher: who,
                expected,
                now_ms,
            })
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_watch_on_a_missing_node_survives_a_placeholder_unlock_and_comes_with_the_lock() {
    // Given a data watch on a node that does not exist
    let f = fixture().await;
    let w = watcher(SessionId::random());
    assert!(
        f.watch("/a", WatchKind::Data, &w, Expected::Missing, 100)
            .await
    );
    assert_eq!(f.counter.take().get("DynamoDB.UpdateItem"), Some(&1));

    // When a write locks the node and gives up
    let first = f.lock("/a", "s-1", 200).await;
    f.store.unlock("/a", "s-1").await.unwrap();

    // Then the lock handed over the watch, and the watch stays
    let LockOutcome::Acquired(record) = first else {
        panic!("{first:?}")
    };
    assert_eq!(record.watches.data, vec![w.clone()]);
    let LockOutcome::Acquired(again) = f.lock("/a", "s-2", 300).await else {
        panic!("not acquired")
    };
    assert_eq!(again.watches.data, vec![w]);
}

#[tokio::test]
async fn the_lean_lock_and_the_sdks_read_the_same_node_alike() {
    // Given a committed node with a data watch, and a store on the SDK alone
    let f = fixture().await;
    let sdk_only = DynamoSystemStore::new(
        f.clients.dynamodb.clone(),
        &f.system_table,
        &f.sessions_table,
    );
    f.committed_node("/a").await;
    let w = watcher(SessionId::random());
    assert!(
        f.watch(
            "/a",
            WatchKind::Data,
            &w,
            Expected::Modified(stat(1).mzxid),
            150
        )
        .await
    );
    let request = |token: &'static str, now_ms: i64| LockRequest {
        path: "/a",
        token,
        now_ms,
        expires_ms: now_ms + 1000,
    };

    // When each takes the lock in turn, and each finds it held
    let lean = f.store.lock(request("s-2", 200)).await.unwrap();
    let held_lean = f.store.lock(request("s-3", 300)).await.unwrap();
    let held_sdk = sdk_only.lock(request("s-3", 300)).await.unwrap();
    f.store.unlock("/a", "s-2").await.unwrap();
    let sdk = sdk_only.lock(request("s-4", 400)).await.unwrap();

    // Then they read the same record and the same holder's expiry
    let LockOutcome::Acquired(record) = &lean else {
        panic!("{lean:?}")
    };
    assert_eq!(record.stat, Some(stat(1)));
    assert_eq!(record.watches.data, vec![w]);
    assert_eq!(lean, sdk);
    assert_eq!(held_lean, LockOutcome::Held { expires_ms: 1200 });
    assert_eq!(held_lean, held_sdk);
}

#[tokio::test]
async fn a_watch_needs_the_state_the_client_read_and_no_live_lock() {
    let f = fixture().await;
    let s = f.new_session().await;
    let w = watcher(SessionId::random());
    f.lock("/a", "s-1", 100).await;
    f.store
        .commit(&commit("s-1", 1, s, vec![put("/a", 1)]))
        .await
        .unwrap();

    // A stale read, a missing-node read of an existing node: refused.
    assert!(
        !f.watch("/a", WatchKind::Data, &w, Expected::Modified(7), 100)
            .await
    );
    assert!(
        !f.watch("/a", WatchKind::Data, &w, Expected::Missing, 100)
            .await
    );
    // A write in flight: refused until its lock expires.
    f.lock("/a", "s-2", 100).await;
    assert!(
        !f.watch(
            "/a",
            WatchKind::Children,
            &w,
            Expected::ChildrenModified(0),
            500
        )
        .await
    );
    assert!(
        f.watch(
            "/a",
            WatchKind::Children,
            &w,
            Expected::ChildrenModified(0),
            5_000
        )
        .await
    );
    // The abandoned lock is gone: the late commit of its holder fails.
    let late = f
        .store
        .commit(&commit("s-2", 2, s, vec![put("/a", 2)]))
        .await;
    assert_eq!(late.unwrap(), CommitOutcome::LockLost { path: "/a".into() });
}

#[tokio::test]
async fn a_commit_removes_the_watches_it_fired_and_keeps_the_others() {
    // Given a data and a child watch on an existing node
    let f = fixture().await;
    let s = f.new_session().await;
    let (w1, w2) = (watcher(SessionId::random()), watcher(SessionId::random()));
    f.lock("/a", "s-1", 100).await;
    f.store
        .commit(&commit("s-1", 1, s, vec![put("/a", 1)]))
        .await
        .unwrap();
    assert!(
        f.watch("/a", WatchKind::Data, &w1, Expected::Modified(1), 100)
            .await
    );
    assert!(
        f.watch(
            "/a",
            WatchKind::Children,
            &w2,
            Expected::ChildrenModified(0),
            100
        )
        .await
    );

    // When a set commits, firing the data watch
    let LockOutcome::Acquired(record) = f.lock("/a", "s-2", 200).await else {
        panic!("not acquired")
    };
    assert_eq!(
        (record.watches.data.len(), record.watches.children.len()),
        (1, 1)
    );
    let fired = NodeWrite::Put {
        path: "/a".into(),
        stat: stat(2),
        fired: FiredWatches {
            removed: vec![(WatchKind::Data, w1.session)],
            others_remain: true,
        },
    };
    let outcome = f.store.commit(&commit("s-2", 2, s, vec![fired])).await;

    // Then only the child watch is left
    assert_eq!(outcome.unwrap(), CommitOutcome::Committed);
    let LockOutcome::Acquired(after) = f.lock("/a", "s-3", 300).await else {
        panic!("not acquired")
    };
    assert!(after.watches.data.is_empty());
    assert_eq!(after.watches.children, vec![w2.clone()]);
    let item = f.raw_item("/a").await.unwrap();
    assert!(item.contains_key("watched"));

    // And removing it by hand leaves no watch
    f.store
        .remove_watch("/a", WatchKind::Children, w2.session)
        .await
        .unwrap();
    f.store
        .remove_watch("/nothing", WatchKind::Data, w2.session)
        .await
        .unwrap();
    assert!(f.raw_item("/nothing").await.is_none(), "no item is created");
    let LockOutcome::Acquired(last) = f.lock("/a", "s-3", 300).await else {
        panic!("not acquired")
    };
    assert!(last.watches.is_empty());
}

#[tokio::test]
async fn persistent_watches_are_added_and_removed_with_the_counter() {
    let f = fixture().await;
    let s = f.new_session().await;
    let watch = PersistentWatch {
        session: s,
        path: "/a b".into(),
        mode: AddWatchMode::PersistentRecursive,
        reply_to: "http://queue/x.fifo".into(),
    };
    let mut add = commit("s-1", 1, s, vec![]);
    add.persistent.added.push(watch.clone());
    assert_eq!(
        f.store.commit(&add).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        f.store.counter().await.unwrap().persistent,
        vec![watch.clone()]
    );

    let mut remove = commit("s-2", 2, s, vec![]);
    remove.persistent.removed.push(watch);
    assert_eq!(
        f.store.commit(&remove).await.unwrap(),
        CommitOutcome::Committed
    );
    let counter = f.store.counter().await.unwrap();
    assert!(counter.persistent.is_empty());
    assert_eq!(counter.zxid, 2);
}

#[tokio::test]
async fn a_copy_of_a_committed_request_does_not_commit_again() {
    // Given seq 1 of a session committed as zxid 1
    let f = fixture().await;
    let session = f.new_session().await;
    f.lock("/a", "t-1", 100).await;
    let first = commit("t-1", 1, session, vec![put("/a", 1)]);
    assert_eq!(
        f.store.commit(&first).await.unwrap(),
        CommitOutcome::Committed
    );

    // When a copy of it, validated again under the same token, commits next
    f.lock("/a", "t-1", 200).await;
    let mut copy = commit("t-1", 2, session, vec![put("/a", 2)]);
    copy.seq = 1;
    copy.commit_id = "t-1.copy".into();
    let outcome = f.store.commit(&copy).await.unwrap();

    // Then it is a duplicate and nothing changed
    assert_eq!(outcome, CommitOutcome::Duplicate);
    assert_eq!(f.store.counter().await.unwrap().zxid, 1);
    let a = f.raw_item("/a").await.unwrap();
    assert_eq!(a["mzxid"], AttributeValue::N("1".into()));
}

#[tokio::test]
async fn a_refused_seq_never_commits_and_is_refused_once() {
    // Given seq 3 refused (answered with an error)
    let f = fixture().await;
    let session = f.new_session().await;
    assert_eq!(
        f.store.record_refusal(session, 3).await.unwrap(),
        RefusalRecord::Recorded
    );

    // When it is refused again, and a copy of it tries to commit
    let again = f.store.record_refusal(session, 3).await.unwrap();
    f.lock("/a", "t-3", 100).await;
    let mut c = commit("t-3", 1, session, vec![put("/a", 1)]);
    c.seq = 3;
    let outcome = f.store.commit(&c).await.unwrap();

    // Then the second refusal finds it decided and the commit is a duplicate
    assert_eq!(again, RefusalRecord::AlreadyDecided);
    assert_eq!(outcome, CommitOutcome::Duplicate);
    assert_eq!(
        f.store.session(session).await.unwrap().unwrap().refused,
        [3]
    );
    // while a later seq still commits
    c.seq = 4;
    assert_eq!(f.store.commit(&c).await.unwrap(), CommitOutcome::Committed);
}

#[tokio::test]
async fn a_refusal_of_a_committed_seq_or_a_missing_session_is_said_so() {
    let f = fixture().await;
    let session = f.new_session().await;
    f.lock("/a", "t-2", 100).await;
    let mut c = commit("t-2", 1, session, vec![put("/a", 1)]);
    c.seq = 2;
    assert_eq!(f.store.commit(&c).await.unwrap(), CommitOutcome::Committed);

    assert_eq!(
        f.store.record_refusal(session, 1).await.unwrap(),
        RefusalRecord::AlreadyDecided
    );
    assert_eq!(
        f.store.record_refusal(session, 2).await.unwrap(),
        RefusalRecord::AlreadyDecided
    );
    assert_eq!(
        f.store
            .record_refusal(SessionId::random(), 1)
            .await
            .unwrap(),
        RefusalRecord::SessionMissing
    );
}

#[tokio::test]
async fn refusals_the_commits_cover_are_pruned() {
    // Given many refusals below a committed seq
    let f = fixture().await;
    let session = f.new_session().await;
    let kept = fk_core::system::REFUSED_KEPT as u64;
    for seq in 1..=kept {
        f.store.record_refusal(session, seq).await.unwrap();
    }
    f.lock("/a", "t", 100).await;
    let mut c = commit("t", 1, session, vec![put("/a", 1)]);
    c.seq = kept + 1;
    assert_eq!(f.store.commit(&c).await.unwrap(), CommitOutcome::Committed);

    // When one more is refused
    f.store.record_refusal(session, kept + 2).await.unwrap();

    // Then only the refusal above the last commit is kept, and the
    // covered ones are still decided
    let record = f.store.session(session).await.unwrap().unwrap();
    assert_eq!(record.refused, [kept + 2]);
    assert!((1..=kept + 2).all(|seq| record.decided(seq)));
}

#[tokio::test]
async fn a_group_of_commits_is_one_transaction_with_one_counter_update() {
    // Given three sessions' writes, each holding its node's lock
    let f = fixture().await;
    let mut group = Vec::new();
    for (i, path) in ["/g1", "/g2", "/g3"].into_iter().enumerate() {
        let session = f.new_session().await;
        let token = format!("g-{i}");
        f.lock(path, &token, 100).await;
        let mut c = commit(&token, i as i64 + 1, session, vec![put(path, i as i64 + 1)]);
        c.seq = 1;
        group.push(c);
    }
    f.counter.take();

    // When they are committed as a group
    let outcome = f.store.commit_group(&group).await.unwrap();

    // Then one call applied all three: the counter at the last zxid and
    // remembering each commit, each session's seq recorded, locks gone
    assert_eq!(outcome, GroupOutcome::all(3));
    assert_eq!(
        f.counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
    );
    let counter = f.store.counter().await.unwrap();
    assert_eq!(counter.zxid, 3);
    for c in &group {
        assert_eq!(counter.committed_zxid(&c.commit_id), Some(c.zxid));
        let session = f.store.session(c.session).await.unwrap().unwrap();
        assert_eq!(session.last_seq, 1);
        let item = f.raw_item(c.writes[0].path()).await.unwrap();
        assert!(!item.contains_key("lockToken"));
    }
}

#[tokio::test]
async fn a_group_with_a_lost_lock_names_that_commit_and_applies_nothing() {
    // Given three writes, the second of which lost its lock
    let f = fixture().await;
    let mut group = Vec::new();
    for (i, path) in ["/h1", "/h2", "/h3"].into_iter().enumerate() {
        let session = f.new_session().await;
        let token = format!("h-{i}");
        f.lock(path, &token, 100).await;
        group.push(commit(&token, i as i64 + 1, session, vec![put(path, 1)]));
    }
    f.lock("/h2", "thief", 5_000).await;

    // When the group is committed
    let outcome = f.store.commit_group(&group).await.unwrap();

    // Then the second is named and nothing of the group applied
    assert_eq!(
        outcome,
        GroupOutcome {
            committed: 0,
            failed: Some((1, CommitOutcome::LockLost { path: "/h2".into() })),
        }
    );
    assert_eq!(f.store.counter().await.unwrap().zxid, 0);
    assert!(matches!(
        f.lock("/h1", "h-0", 200).await,
        LockOutcome::Acquired(NodeRecord { stat: None, .. })
    ));
}

#[tokio::test]
async fn a_sessions_consecutive_writes_share_one_transaction_and_one_session_update() {
    // Given one session's two writes around another session's one
    let f = fixture().await;
    let (a, b) = (f.new_session().await, f.new_session().await);
    for (path, token) in [("/i1", "i-1"), ("/i2", "i-2"), ("/i3", "i-3")] {
        f.lock(path, token, 100).await;
    }
    let group = vec![
        commit("i-1", 1, a, vec![put("/i1", 1)]),
        commit("i-2", 2, b, vec![put("/i2", 2)]),
        commit("i-3", 3, a, vec![put("/i3", 3)]),
    ];
    f.counter.take();

    // When they are committed as a group
    let outcome = f.store.commit_group(&group).await.unwrap();

    // Then all three apply in one transaction, and each session's seq is
    // its last write's
    assert_eq!(outcome, GroupOutcome::all(3));
    assert_eq!(
        f.counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
    );
    assert_eq!(f.store.session(a).await.unwrap().unwrap().last_seq, 3);
    assert_eq!(f.store.session(b).await.unwrap().unwrap().last_seq, 2);
    assert_eq!(f.store.counter().await.unwrap().zxid, 3);
}

#[tokio::test]
async fn a_refused_seq_among_a_sessions_writes_is_named_and_nothing_of_the_group_applies() {
    // Given a session whose seq 3 was refused, and a group of its seqs 2,
    // 3 (a copy of the refused request) and 4 with another session's
    // write between
    let f = fixture().await;
    let (a, b) = (f.new_session().await, f.new_session().await);
    assert_eq!(
        f.store.record_refusal(a, 3).await.unwrap(),
        RefusalRecord::Recorded
    );
    for i in 1..=4 {
        f.lock(&format!("/r{i}"), &format!("r-{i}"), 100).await;
    }
    let mut group = vec![
        commit("r-1", 1, a, vec![put("/r1", 1)]),
        commit("r-2", 2, b, vec![put("/r2", 2)]),
        commit("r-3", 3, a, vec![put("/r3", 3)]),
        commit("r-4", 4, a, vec![put("/r4", 4)]),
    ];
    let seqs = [2, 1, 3, 4];
    for (c, seq) in group.iter_mut().zip(seqs) {
        c.seq = seq;
    }

    // When the group is committed
    let outcome = f.store.commit_group(&group).await.unwrap();

    // Then the copy is named, and nothing applied
    assert_eq!(
        outcome,
        GroupOutcome {
            committed: 0,
            failed: Some((2, CommitOutcome::Duplicate)),
        }
    );
    assert_eq!(f.store.counter().await.unwrap().zxid, 0);
    assert_eq!(f.store.session(a).await.unwrap().unwrap().last_seq, 0);

    // And without it, the others commit, numbered again, seq 4 last
    group.remove(2);
    group[2].zxid = 3;
    assert_eq!(
        f.store.commit_group(&group).await.unwrap(),
        GroupOutcome::all(3)
    );
    let record = f.store.session(a).await.unwrap().unwrap();
    assert_eq!(record.last_seq, 4);
    assert!(record.decided(3), "the refusal still stands");
}

#[tokio::test]
async fn a_sessions_writes_below_its_last_seq_or_of_a_gone_session_fail_at_its_first_write() {
    // Given a session that committed seq 5 and a group of its seqs 5
    // and 6 after another session's write
    let f = fixture().await;
    let (a, b) = (f.new_session().await, f.new_session().await);
    f.lock("/d0", "d-0", 100).await;
    let mut done = commit("d-0", 1, a, vec![put("/d0", 1)]);
    done.seq = 5;
    assert_eq!(
        f.store.commit(&done).await.unwrap(),
        CommitOutcome::Committed
    );
    for i in 1..=3 {
        f.lock(&format!("/d{i}"), &format!("d-{i}"), 100).await;
    }
    let mut group = vec![
        commit("d-1", 2, b, vec![put("/d1", 2)]),
        commit("d-2", 3, a, vec![put("/d2", 3)]),
        commit("d-3", 4, a, vec![put("/d3", 4)]),
    ];
    group[1].seq = 5;
    group[2].seq = 6;

    // When it is committed, the copy of seq 5 is named
    assert_eq!(
        f.store.commit_group(&group).await.unwrap(),
        GroupOutcome {
            committed: 0,
            failed: Some((1, CommitOutcome::Duplicate)),
        }
    );

    // And once the session is gone, its first write of the group is named
    f.store.delete_session(a).await.unwrap();
    assert_eq!(
        f.store.commit_group(&group).await.unwrap(),
        GroupOutcome {
            committed: 0,
            failed: Some((1, CommitOutcome::SessionMissing)),
        }
    );
    assert_eq!(f.store.counter().await.unwrap().zxid, 1);
}

#[tokio::test]
async fn a_sessions_ephemerals_and_close_in_one_group_apply_as_one_at_a_time_would() {
    // Given a session that creates two ephemerals, then one that deletes
    // one of them, then closes, all in one group
    let f = fixture().await;
    let a = f.new_session().await;
    for (path, token) in [("/e1", "e-1"), ("/e2", "e-2")] {
        f.lock(path, token, 100).await;
    }
    let mut first = commit("e-1", 1, a, vec![put("/e1", 1)]);
    first.ephemerals.add("/e1");
    let mut second = commit("e-2", 2, a, vec![put("/e2", 2)]);
    second.ephemerals.add("/e2");
    f.counter.take();

    // When the two creates are committed as a group
    assert_eq!(
        f.store.commit_group(&[first, second]).await.unwrap(),
        GroupOutcome::all(2)
    );

    // Then one transaction recorded both
    assert_eq!(
        f.counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
    );
    let mut ephemerals = f.store.session(a).await.unwrap().unwrap().ephemerals;
    ephemerals.sort();
    assert_eq!(ephemerals, ["/e1", "/e2"]);

    // When a delete of one, a write and the close follow in one group
    for (path, token) in [("/e1", "e-3"), ("/e3", "e-4"), ("/e2", "e-5")] {
        f.lock(path, token, 200).await;
    }
    let mut delete = commit("e-3", 3, a, vec![NodeWrite::Delete { path: "/e1".into() }]);
    delete.ephemerals.remove("/e1");
    let mut create = commit("e-4", 4, a, vec![put("/e3", 4)]);
    create.ephemerals.add("/e3");
    let mut close = commit("e-5", 5, a, vec![NodeWrite::Delete { path: "/e2".into() }]);
    close.ephemerals.remove("/e2");
    close.close_session = true;
    f.counter.take();
    let outcome = f
        .store
        .commit_group(&[delete, create, close])
        .await
        .unwrap();

    // Then all three apply; the session's removal and addition cannot
    // share one update, so that takes two transactions; the session is
    // gone
    assert_eq!(outcome, GroupOutcome::all(3));
    assert_eq!(
        f.counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 2)].into()
    );
    assert_eq!(f.store.session(a).await.unwrap(), None);
    assert_eq!(f.raw_item("/e1").await, None);
    assert_eq!(f.store.counter().await.unwrap().zxid, 5);
}

#[tokio::test]
async fn a_group_with_a_decided_seq_reports_the_duplicate() {
    // Given a session that already committed seq 1, and a group whose
    // second commit is a copy of it
    let f = fixture().await;
    let (a, b) = (f.new_session().await, f.new_session().await);
    f.lock("/j0", "j-0", 100).await;
    let mut first = commit("j-0", 1, a, vec![put("/j0", 1)]);
    first.seq = 1;
    assert_eq!(
        f.store.commit(&first).await.unwrap(),
        CommitOutcome::Committed
    );
    f.lock("/j1", "j-1", 100).await;
    f.lock("/j2", "j-2", 100).await;
    let mut copy = commit("j-2", 3, a, vec![put("/j2", 3)]);
    copy.seq = 1;
    let mut other = commit("j-1", 2, b, vec![put("/j1", 2)]);
    other.seq = 1;

    // When the group is committed
    let outcome = f.store.commit_group(&[other, copy]).await.unwrap();

    // Then the copy is named a duplicate and nothing applied
    assert_eq!(
        outcome,
        GroupOutcome {
            committed: 0,
            failed: Some((1, CommitOutcome::Duplicate)),
        }
    );
    assert_eq!(f.store.counter().await.unwrap().zxid, 1);
}
