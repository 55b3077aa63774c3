//! Watches on the in-memory ports: registration against the state a read
//! saw, which events a commit fires, and persistent watches in commit order.

mod sim;

use fk_core::system::{Expected, LockRequest, SystemStore, WatchRegistration};
use fk_core::watch::{AddWatchMode, Event, EventType, WatchKind, Watcher};
use fk_core::{CreateMode, Op, SessionId};
use sim::*;

const NOW: i64 = 1_700_000_000_000;

impl Sim {
    async fn watch(
        &self,
        session: SessionId,
        path: &str,
        kind: WatchKind,
        expected: Expected,
    ) -> bool {
        self.system
            .register_watch(WatchRegistration {
                path,
                kind,
                watcher: &Watcher {
                    session,
                    reply_to: reply_address(session),
                },
                expected,
                now_ms: NOW,
            })
            .await
            .unwrap()
    }

    /// The events each notification carried to `session`, with its zxid.
    fn events(&self, session: SessionId) -> Vec<(i64, Event)> {
        self.notifications
            .take()
            .into_iter()
            .filter(|(to, n)| *to == reply_address(session) && n.session == session)
            .flat_map(|(_, n)| n.events.into_iter().map(move |e| (n.zxid, e)))
            .collect()
    }
}

fn ev(event_type: EventType, path: &str) -> Event {
    Event {
        event_type,
        path: path.into(),
    }
}

#[tokio::test(start_paused = true)]
async fn an_exists_watch_on_a_missing_node_fires_node_created_once() {
    let mut sim = Sim::new();
    let (s, w) = (sim.open_session().await, sim.open_session().await);
    assert!(sim.watch(w, "/a", WatchKind::Data, Expected::Missing).await);

    sim.write(s, create("/a", "x")).await.unwrap();
    sim.write(s, set("/a", "y", None)).await.unwrap();

    assert_eq!(sim.events(w), vec![(1, ev(EventType::NodeCreated, "/a"))]);
    assert!(sim.events(s).is_empty(), "the writer watched nothing");
}

#[tokio::test(start_paused = true)]
async fn a_watch_is_refused_when_the_node_moved_on_or_a_write_is_in_flight() {
    let mut sim = Sim::new();
    let (s, w) = (sim.open_session().await, sim.open_session().await);
    sim.write(s, create("/a", "x")).await.unwrap();
    sim.write(s, set("/a", "y", None)).await.unwrap();

    // A read that returned mzxid 1 is stale: the node is at 2.
    assert!(
        !sim.watch(w, "/a", WatchKind::Data, Expected::Modified(1))
            .await
    );
    assert!(!sim.watch(w, "/a", WatchKind::Data, Expected::Missing).await);
    // A write holds the lock: its commit could not carry the watch.
    sim.system
        .lock(LockRequest {
            path: "/a",
            token: "in-flight",
            now_ms: NOW,
            expires_ms: NOW + 1_000,
        })
        .await
        .unwrap();
    assert!(
        !sim.watch(w, "/a", WatchKind::Data, Expected::Modified(2))
            .await
    );
    // Once the lock expired (its writer died), the watch clears it.
    let later = WatchRegistration {
        path: "/a",
        kind: WatchKind::Data,
        watcher: &Watcher {
            session: w,
            reply_to: reply_address(w),
        },
        expected: Expected::Modified(2),
        now_ms: NOW + 2_000,
    };
    assert!(sim.system.register_watch(later).await.unwrap());
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_delete_fires_node_deleted_then_the_parents_children_changed() {
    let mut sim = Sim::new();
    let (s, w) = (sim.open_session().await, sim.open_session().await);
    sim.write(s, create("/a", "")).await.unwrap();
    sim.write(s, create("/a/b", "")).await.unwrap();
    let b = sim.read("/a/b").await.unwrap().stat;
    let a = sim.read("/a").await.unwrap().stat;
    assert!(
        sim.watch(w, "/a/b", WatchKind::Data, Expected::Modified(b.mzxid))
            .await
    );
    assert!(
        sim.watch(
            w,
            "/a/b",
            WatchKind::Children,
            Expected::ChildrenModified(b.pzxid)
        )
        .await
    );
    assert!(
        sim.watch(
            w,
            "/a",
            WatchKind::Children,
            Expected::ChildrenModified(a.pzxid)
        )
        .await
    );

    sim.write(s, delete("/a/b", None)).await.unwrap();
    sim.write(s, create("/a/c", "")).await.unwrap();

    assert_eq!(
        sim.events(w),
        vec![
            (3, ev(EventType::NodeDeleted, "/a/b")),
            (3, ev(EventType::NodeChildrenChanged, "/a")),
        ],
        "one NodeDeleted for two watches of one session; each watch fires once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_set_fires_data_watches_only_and_child_watches_stay() {
    let mut sim = Sim::new();
    let (s, w) = (sim.open_session().await, sim.open_session().await);
    sim.write(s, create("/a", "")).await.unwrap();
    let a = sim.read("/a").await.unwrap().stat;
    assert!(
        sim.watch(w, "/a", WatchKind::Data, Expected::Modified(a.mzxid))
            .await
    );
    assert!(
        sim.watch(
            w,
            "/a",
            WatchKind::Children,
            Expected::ChildrenModified(a.pzxid)
        )
        .await
    );

    sim.write(s, set("/a", "v", None)).await.unwrap();
    sim.write(s, create("/a/x", "")).await.unwrap();

    assert_eq!(
        sim.events(w),
        vec![
            (2, ev(EventType::NodeDataChanged, "/a")),
            (3, ev(EventType::NodeChildrenChanged, "/a")),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_watch_only_record_survives_a_refused_write() {
    let mut sim = Sim::new();
    let (s, w) = (sim.open_session().await, sim.open_session().await);
    assert!(
        sim.watch(w, "/p/q", WatchKind::Data, Expected::Missing)
            .await
    );

    // The create fails (no parent): its placeholder lock is released, and
    // the watch on the missing node must stay.
    let refused = sim.write(s, create("/p/q", "")).await;
    sim.write(s, create("/p", "")).await.unwrap();
    sim.write(s, create("/p/q", "")).await.unwrap();

    assert!(refused.is_err());
    assert_eq!(sim.events(w), vec![(2, ev(EventType::NodeCreated, "/p/q"))]);
}

#[tokio::test(start_paused = true)]
async fn persistent_recursive_watches_follow_the_subtree_until_removed() {
    let mut sim = Sim::new();
    let (s, w) = (sim.open_session().await, sim.open_session().await);
    let add = Op::AddWatch {
        path: "/a".into(),
        mode: AddWatchMode::PersistentRecursive,
    };
    sim.write(w, add).await.unwrap();

    sim.write(s, create("/a", "")).await.unwrap(); // zxid 2
    sim.write(s, create("/a/b", "")).await.unwrap(); // 3
    sim.write(s, set("/a/b", "x", None)).await.unwrap(); // 4
    sim.write(s, create("/ab", "")).await.unwrap(); // 5: not below /a
    let remove = Op::RemovePersistentWatches { path: "/a".into() };
    sim.write(w, remove).await.unwrap(); // 6
    sim.write(s, delete("/a/b", None)).await.unwrap();

    assert_eq!(
        sim.events(w),
        vec![
            (2, ev(EventType::NodeCreated, "/a")),
            (3, ev(EventType::NodeCreated, "/a/b")),
            (4, ev(EventType::NodeDataChanged, "/a/b")),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_persistent_watch_sees_child_changes_and_survives_the_nodes_deletion() {
    let mut sim = Sim::new();
    let (s, w) = (sim.open_session().await, sim.open_session().await);
    let add = Op::AddWatch {
        path: "/a".into(),
        mode: AddWatchMode::Persistent,
    };
    sim.write(w, add).await.unwrap();

    sim.write(s, create("/a", "")).await.unwrap(); // 2
    sim.write(s, create("/a/b", "")).await.unwrap(); // 3
    sim.write(s, delete("/a/b", None)).await.unwrap(); // 4
    sim.write(s, delete("/a", None)).await.unwrap(); // 5
    sim.write(s, create("/a", "")).await.unwrap(); // 6

    let types: Vec<(i64, EventType)> = sim
        .events(w)
        .into_iter()
        .map(|(z, e)| (z, e.event_type))
        .collect();
    assert_eq!(
        types,
        vec![
            (2, EventType::NodeCreated),
            (3, EventType::NodeChildrenChanged),
            (4, EventType::NodeChildrenChanged),
            (5, EventType::NodeDeleted),
            (6, EventType::NodeCreated),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn closing_a_session_fires_watches_on_its_ephemerals_and_drops_its_own() {
    let mut sim = Sim::new();
    let (e, w) = (sim.open_session().await, sim.open_session().await);
    sim.write(e, create_mode("/eph", "", CreateMode::Ephemeral))
        .await
        .unwrap();
    let add = Op::AddWatch {
        path: "/".into(),
        mode: AddWatchMode::PersistentRecursive,
    };
    sim.write(e, add.clone()).await.unwrap();
    let stat = sim.read("/eph").await.unwrap().stat;
    assert!(
        sim.watch(w, "/eph", WatchKind::Data, Expected::Modified(stat.mzxid))
            .await
    );

    sim.write(e, Op::CloseSession).await.unwrap();
    sim.write(w, create("/after", "")).await.unwrap();

    assert_eq!(sim.events(w), vec![(3, ev(EventType::NodeDeleted, "/eph"))]);
    let counter = sim.system.counter().await.unwrap();
    assert!(
        counter.persistent.is_empty(),
        "the closed session's watches are gone: {:?}",
        counter.persistent
    );
}
