//! The behaviour every user store shares, as tests generated into each
//! adapter's test file by [`user_store_contract!`].

use bytes::Bytes;
use fk_core::user::{ChildChange, CommitWrites, UserNode, UserStore, UserWrite};
use fk_core::Stat;

pub const BINARY: &[u8] = b"\x00\xff\x00binary\xfe\x01";

pub fn stat(version: i32) -> Stat {
    Stat {
        czxid: 3,
        mzxid: 3 + version as i64,
        ctime: 1_700_000_000_000,
        mtime: 1_700_000_000_000 + version as i64,
        version,
        data_length: 9,
        ..Stat::default()
    }
}

/// A path no other test uses, in the store's shared namespace.
pub fn path(name: &str) -> String {
    format!("/{}", fk_testkit::unique_name(name))
}

pub fn create(path: &str, data: &'static [u8]) -> UserWrite {
    UserWrite::Create {
        path: path.into(),
        data: Bytes::from_static(data),
        stat: stat(0),
        in_flight: Default::default(),
    }
}

pub fn child(path: &str, change: ChildChange, cversion: i32) -> UserWrite {
    UserWrite::Children {
        path: path.into(),
        stat: Stat {
            cversion,
            ..stat(0)
        },
        change,
        in_flight: Default::default(),
    }
}

/// Each of `parents` gets a child `c`: a commit of two changes (the
/// create and the parent's child list) per parent.
pub fn a_child_each(parents: &[String]) -> Vec<[UserWrite; 2]> {
    parents
        .iter()
        .map(|p| {
            [
                create(&fk_core::path::join(p, "c"), BINARY),
                child(p, ChildChange::Added("c".into()), 1),
            ]
        })
        .collect()
}

/// `commits` as one batch: consecutive zxids from 10, of `sessions`
/// sessions in turn.
pub fn as_batch<W: AsRef<[UserWrite]>>(commits: &[W], sessions: usize) -> Vec<CommitWrites<'_>> {
    commits
        .iter()
        .enumerate()
        .map(|(i, writes)| CommitWrites {
            zxid: 10 + i as i64,
            session: session(1 + (i % sessions) as i64),
            writes: writes.as_ref(),
        })
        .collect()
}

pub async fn a_created_node_reads_back_with_binary_data(store: &dyn UserStore) {
    let p = path("created");

    store.apply(1, &create(&p, BINARY)).await.unwrap();

    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!(node.data, BINARY);
    assert_eq!(node.stat, stat(0));
    assert!(node.children.is_empty());
}

pub async fn a_missing_node_reads_as_none(store: &dyn UserStore) {
    assert_eq!(store.get(&path("missing")).await.unwrap(), None);
}

pub async fn set_data_replaces_data_and_stat_but_keeps_children(store: &dyn UserStore) {
    let p = path("set");
    store.apply(1, &create(&p, b"old")).await.unwrap();
    store
        .apply(2, &child(&p, ChildChange::Added("c".into()), 1))
        .await
        .unwrap();

    let with_child = Stat {
        num_children: 1,
        ..stat(1)
    };
    let set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(BINARY),
        stat: with_child,
        in_flight: Default::default(),
    };
    store.apply(3, &set).await.unwrap();

    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!(node.data, BINARY);
    assert_eq!(node.stat, with_child);
    assert_eq!(node.children, vec!["c".to_string()]);
}

pub async fn data_can_be_set_to_empty(store: &dyn UserStore) {
    let p = path("empty");
    store.apply(1, &create(&p, b"full")).await.unwrap();

    let set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::new(),
        stat: stat(1),
        in_flight: Default::default(),
    };
    store.apply(2, &set).await.unwrap();

    let node = store.get(&p).await.unwrap().unwrap();
    assert!(node.data.is_empty());
    assert_eq!(node.stat, stat(1));
}

pub async fn children_are_added_and_removed_with_the_parent_stat(store: &dyn UserStore) {
    let p = path("parent");
    store.apply(1, &create(&p, BINARY)).await.unwrap();

    for (i, name) in ["b", "a", "c"].into_iter().enumerate() {
        let w = child(&p, ChildChange::Added(name.into()), i as i32 + 1);
        store.apply(2, &w).await.unwrap();
    }
    store
        .apply(3, &child(&p, ChildChange::Removed("b".into()), 4))
        .await
        .unwrap();

    let mut node = store.get(&p).await.unwrap().unwrap();
    node.children.sort();
    assert_eq!(node.children, vec!["a".to_string(), "c".to_string()]);
    assert_eq!(node.stat.cversion, 4);
    assert_eq!(node.data, BINARY, "a child change keeps the data");

    store
        .apply(4, &child(&p, ChildChange::Removed("a".into()), 5))
        .await
        .unwrap();
    store
        .apply(5, &child(&p, ChildChange::Removed("c".into()), 6))
        .await
        .unwrap();
    assert!(store.get(&p).await.unwrap().unwrap().children.is_empty());
}

pub async fn the_first_child_of_a_node_without_a_record_creates_it(store: &dyn UserStore) {
    // The root has no record until its first child appears.
    let root = path("root");

    store
        .apply(1, &child(&root, ChildChange::Added("app".into()), 1))
        .await
        .unwrap();

    let node = store.get(&root).await.unwrap().unwrap();
    assert!(node.data.is_empty());
    assert_eq!(node.children, vec!["app".to_string()]);
    assert_eq!(node.stat.cversion, 1);
}

pub async fn a_deleted_node_reads_as_none_and_deleting_again_is_fine(store: &dyn UserStore) {
    let p = path("deleted");
    store.apply(1, &create(&p, BINARY)).await.unwrap();
    store
        .apply(2, &child(&p, ChildChange::Added("x".into()), 1))
        .await
        .unwrap();
    store
        .apply(3, &child(&p, ChildChange::Removed("x".into()), 2))
        .await
        .unwrap();

    let delete = UserWrite::Delete { path: p.clone() };
    store.apply(4, &delete).await.unwrap();
    store.apply(4, &delete).await.unwrap();

    assert_eq!(store.get(&p).await.unwrap(), None);
    // A node created again starts without the old children.
    store.apply(6, &create(&p, b"new")).await.unwrap();
    assert!(store.get(&p).await.unwrap().unwrap().children.is_empty());
}

pub async fn every_write_applied_twice_leaves_the_same_record(store: &dyn UserStore) {
    let p = path("twice");
    let writes = [
        create(&p, BINARY),
        child(&p, ChildChange::Added("k".into()), 1),
        UserWrite::SetData {
            path: p.clone(),
            data: Bytes::from_static(b"v2"),
            stat: Stat {
                num_children: 1,
                ..stat(1)
            },
            in_flight: Default::default(),
        },
        child(&p, ChildChange::Added("j".into()), 2),
        child(&p, ChildChange::Removed("k".into()), 3),
    ];
    let mut after_each: Vec<Option<UserNode>> = Vec::new();
    for (zxid, w) in (1..).zip(&writes) {
        store.apply(zxid, w).await.unwrap();
        after_each.push(store.get(&p).await.unwrap());
        store.apply(zxid, w).await.unwrap();
        assert_eq!(
            &store.get(&p).await.unwrap(),
            after_each.last().unwrap(),
            "{w:?}"
        );
    }
    let last = after_each.pop().unwrap().unwrap();
    assert_eq!(last.data, Bytes::from_static(b"v2"));
    assert_eq!(last.children, vec!["j".to_string()]);
}

pub async fn records_carry_the_notifications_in_flight_until_a_write_clears_them(
    store: &dyn UserStore,
) {
    use fk_core::watch::InFlight;
    use fk_core::SessionId;
    let p = path("in-flight");
    let listed = InFlight(
        [
            (SessionId::from_raw(7).unwrap(), 12),
            (SessionId::from_raw(9).unwrap(), 14),
        ]
        .into(),
    );
    let mut first = create(&p, b"a");
    first.set_in_flight(&listed);
    store.apply(1, &first).await.unwrap();
    assert_eq!(store.get(&p).await.unwrap().unwrap().in_flight, listed);

    let mut added = child(&p, ChildChange::Added("c".into()), 1);
    added.set_in_flight(&InFlight::default());
    store.apply(2, &added).await.unwrap();
    assert!(store.get(&p).await.unwrap().unwrap().in_flight.is_empty());

    let mut set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"b"),
        stat: Stat {
            num_children: 1,
            ..stat(1)
        },
        in_flight: Default::default(),
    };
    set.set_in_flight(&listed);
    store.apply(3, &set).await.unwrap();
    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!(
        (node.in_flight, node.children),
        (listed, vec!["c".to_string()])
    );
}

pub async fn an_older_write_never_replaces_a_newer_one(store: &dyn UserStore) {
    // Given a node written by commit 5
    let p = path("older");
    store.apply(2, &create(&p, b"v0")).await.unwrap();
    let newer = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"v2"),
        stat: stat(2),
        in_flight: Default::default(),
    };
    store.apply(5, &newer).await.unwrap();

    // When a replay of commit 3 and of the create (2) arrive late
    let older = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"v1"),
        stat: stat(1),
        in_flight: Default::default(),
    };
    store.apply(3, &older).await.unwrap();
    store.apply(2, &create(&p, b"v0")).await.unwrap();
    store
        .apply(4, &child(&p, ChildChange::Added("late".into()), 1))
        .await
        .unwrap();

    // Then the node still shows commit 5, without the late child
    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!(node.data, Bytes::from_static(b"v2"));
    assert_eq!(node.stat, stat(2));
    assert!(node.children.is_empty());
}

pub async fn a_late_write_does_not_bring_a_deleted_node_back(store: &dyn UserStore) {
    // Given a node created by commit 3 and deleted by commit 6
    let p = path("tombstone");
    let parent = path("tombstone-parent");
    store.apply(3, &create(&p, b"a")).await.unwrap();
    store
        .apply(6, &UserWrite::Delete { path: p.clone() })
        .await
        .unwrap();

    // When the create, a set and a child of commits 3 to 5 arrive again
    store.apply(3, &create(&p, b"a")).await.unwrap();
    let set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"b"),
        stat: stat(1),
        in_flight: Default::default(),
    };
    store.apply(4, &set).await.unwrap();
    store
        .apply(5, &child(&p, ChildChange::Added("c".into()), 1))
        .await
        .unwrap();

    // Then it stays deleted; a create of a later commit brings it back
    assert_eq!(store.get(&p).await.unwrap(), None);
    store.apply(7, &create(&p, b"again")).await.unwrap();
    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!(node.data, Bytes::from_static(b"again"));
    assert!(node.children.is_empty());
    // and a parent never written reads as none
    assert_eq!(store.get(&parent).await.unwrap(), None);
}

pub async fn a_commit_that_writes_a_record_twice_applies_both(store: &dyn UserStore) {
    // A multi that creates two children writes the parent twice under one zxid.
    let p = path("multi");
    store.apply(2, &create(&p, b"")).await.unwrap();
    store
        .apply(3, &child(&p, ChildChange::Added("a".into()), 1))
        .await
        .unwrap();
    store
        .apply(3, &child(&p, ChildChange::Added("b".into()), 2))
        .await
        .unwrap();
    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!(node.children, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(node.stat.cversion, 2);
}

pub async fn a_child_change_applied_after_a_newer_parent_write_is_still_listed(
    store: &dyn UserStore,
) {
    // Given a parent whose child c was created by commit 3, and whose
    // record commit 4 (adding d) wrote first: the batch came back reordered
    let p = path("reordered");
    let c = fk_core::path::join(&p, "c");
    let d = fk_core::path::join(&p, "d");
    store.apply(1, &create(&p, b"")).await.unwrap();
    store.apply(3, &create(&c, b"")).await.unwrap();
    store.apply(4, &create(&d, b"")).await.unwrap();
    store
        .apply(4, &child(&p, ChildChange::Added("d".into()), 2))
        .await
        .unwrap();

    // When commit 3's child change arrives after it
    store
        .apply(3, &child(&p, ChildChange::Added("c".into()), 1))
        .await
        .unwrap();

    // Then both children are listed, under commit 4's Stat
    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!(node.children, vec!["c".to_string(), "d".to_string()]);
    assert_eq!(node.stat.cversion, 2);

    // and a late add of a child deleted since does not list it again
    store
        .apply(5, &UserWrite::Delete { path: d.clone() })
        .await
        .unwrap();
    store
        .apply(5, &child(&p, ChildChange::Removed("d".into()), 3))
        .await
        .unwrap();
    store
        .apply(4, &child(&p, ChildChange::Added("d".into()), 2))
        .await
        .unwrap();
    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!(node.children, vec!["c".to_string()]);
    assert_eq!(node.stat.cversion, 3);
}

fn set(path: &str, data: &'static [u8], version: i32) -> UserWrite {
    UserWrite::SetData {
        path: path.into(),
        data: Bytes::from_static(data),
        stat: stat(version),
        in_flight: Default::default(),
    }
}

/// One session's commits: `p` set ten times (`v1`…`v10`, version i) and
/// `q` set once (`v1`) after the fifth.
pub fn sets_around_another(p: &str, q: &str) -> Vec<Vec<UserWrite>> {
    let set = |path: &str, i: i32| UserWrite::SetData {
        path: path.to_string(),
        data: Bytes::from(format!("v{i}")),
        stat: stat(i),
        in_flight: Default::default(),
    };
    let mut commits: Vec<Vec<UserWrite>> = (1..=10).map(|i| vec![set(p, i)]).collect();
    commits.insert(5, vec![set(q, 1)]);
    commits
}

fn session(n: i64) -> fk_core::SessionId {
    fk_core::SessionId::from_raw(n).unwrap()
}

pub async fn a_batch_applies_every_commit_in_order_and_again_as_a_replay(store: &dyn UserStore) {
    // Given a node to set and one to delete
    let (p, q, r) = (path("batch-p"), path("batch-q"), path("batch-r"));
    store.apply(1, &create(&q, b"q0")).await.unwrap();
    store.apply(2, &create(&r, b"r0")).await.unwrap();
    let a = fk_core::path::join(&p, "a");

    // When one batch creates p and its child a (two sessions' commits),
    // sets q, deletes r, and adds two children to p in one commit
    let commits = [
        vec![create(&p, b"p")],
        vec![
            create(&a, BINARY),
            child(&p, ChildChange::Added("a".into()), 1),
        ],
        vec![set(&q, b"q1", 1)],
        vec![UserWrite::Delete { path: r.clone() }],
        vec![
            child(&p, ChildChange::Added("b".into()), 2),
            child(&p, ChildChange::Added("c".into()), 3),
        ],
    ];
    let batch = as_batch(&commits, 2);
    for _ in 0..2 {
        store.apply_batch(&batch).await.unwrap();

        // Then every change is there, applied again without harm
        let parent = store.get(&p).await.unwrap().unwrap();
        assert_eq!(parent.children, ["a", "b", "c"]);
        assert_eq!(parent.stat.cversion, 3);
        assert_eq!(store.get(&a).await.unwrap().unwrap().data, BINARY);
        assert_eq!(
            store.get(&q).await.unwrap().unwrap().data,
            Bytes::from_static(b"q1")
        );
        assert_eq!(store.get(&r).await.unwrap(), None);
    }
}

pub async fn a_batch_with_superseded_writes_applies_the_rest(store: &dyn UserStore) {
    // Given a node a later commit (20) already wrote, and its child made
    // by commit 15
    let (x, y) = (path("superseded-x"), path("superseded-y"));
    let late = fk_core::path::join(&x, "late");
    store.apply(1, &create(&x, b"x0")).await.unwrap();
    store.apply(15, &create(&late, b"")).await.unwrap();
    store.apply(20, &set(&x, b"x20", 2)).await.unwrap();

    // When a batch replays commit 15 (a set of x, its child change) with
    // a new commit 16
    let c15 = [
        set(&x, b"x15", 1),
        child(&x, ChildChange::Added("late".into()), 1),
    ];
    let c16 = [create(&y, b"y")];
    store
        .apply_batch(&[
            CommitWrites {
                zxid: 15,
                session: session(1),
                writes: &c15,
            },
            CommitWrites {
                zxid: 16,
                session: session(2),
                writes: &c16,
            },
        ])
        .await
        .unwrap();

    // Then x keeps commit 20's data and Stat but lists its child, and y
    // is created
    let node = store.get(&x).await.unwrap().unwrap();
    assert_eq!(node.data, Bytes::from_static(b"x20"));
    assert_eq!(node.stat, stat(2));
    assert_eq!(node.children, ["late"]);
    assert_eq!(
        store.get(&y).await.unwrap().unwrap().data,
        Bytes::from_static(b"y")
    );
}

pub async fn a_batch_that_sets_a_node_again_and_again_leaves_the_last_set(store: &dyn UserStore) {
    // Given a node with a child
    let (p, q) = (path("sets-p"), path("sets-q"));
    store.apply(1, &create(&p, b"p0")).await.unwrap();
    store
        .apply(2, &create(&fk_core::path::join(&p, "c"), b""))
        .await
        .unwrap();
    store
        .apply(2, &child(&p, ChildChange::Added("c".into()), 1))
        .await
        .unwrap();

    // When one batch sets it three times, another node between the second
    // and the third, applied twice (a replay)
    let with_child = |data: &'static [u8], version| match set(&p, data, version) {
        UserWrite::SetData {
            path,
            data,
            mut stat,
            in_flight,
        } => {
            stat.num_children = 1;
            UserWrite::SetData {
                path,
                data,
                stat,
                in_flight,
            }
        }
        other => other,
    };
    let commits = [
        vec![with_child(b"p1", 1)],
        vec![with_child(b"p2", 2)],
        vec![set(&q, b"q", 0)],
        vec![with_child(b"p3", 3)],
    ];
    let batch = as_batch(&commits, 1);
    for _ in 0..2 {
        store.apply_batch(&batch).await.unwrap();

        // Then the node holds the last set's data and Stat, and its child
        let node = store.get(&p).await.unwrap().unwrap();
        assert_eq!(node.data, Bytes::from_static(b"p3"));
        assert_eq!(node.stat.version, 3);
        assert_eq!(node.children, ["c"]);
        assert_eq!(
            store.get(&q).await.unwrap().unwrap().data,
            Bytes::from_static(b"q")
        );
    }
}

/// Generates the shared user-store tests; `$store` is an async expression
/// that builds a fresh `Arc<dyn UserStore>`.
#[macro_export]
macro_rules! user_store_contract {
    ($store:expr) => {
        $crate::user_store_contract!(@tests $store;
            a_created_node_reads_back_with_binary_data,
            a_missing_node_reads_as_none,
            set_data_replaces_data_and_stat_but_keeps_children,
            data_can_be_set_to_empty,
            children_are_added_and_removed_with_the_parent_stat,
            the_first_child_of_a_node_without_a_record_creates_it,
            a_deleted_node_reads_as_none_and_deleting_again_is_fine,
            every_write_applied_twice_leaves_the_same_record,
            records_carry_the_notifications_in_flight_until_a_write_clears_them,
            an_older_write_never_replaces_a_newer_one,
            a_late_write_does_not_bring_a_deleted_node_back,
            a_commit_that_writes_a_record_twice_applies_both,
            a_child_change_applied_after_a_newer_parent_write_is_still_listed,
            a_batch_applies_every_commit_in_order_and_again_as_a_replay,
            a_batch_with_superseded_writes_applies_the_rest,
            a_batch_that_sets_a_node_again_and_again_leaves_the_last_set,
        );
    };
    (@tests $store:expr; $($name:ident,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let store = $store;
                common::user_contract::$name(&*store).await;
            }
        )*
    };
}
