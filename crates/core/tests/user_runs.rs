//! Folding overwritten sets out of a batch of user-storage changes
//! (`CommitWrites::atomic_run`, `CommitWrites::in_order_run`): what is
//! left must leave every record as the whole batch does, and, applied one
//! change at a time, must show a reader only states the whole batch shows.

use bytes::Bytes;
use fk_core::memory::MemoryUserStore;
use fk_core::user::{ChildChange, CommitWrites, UserStore, UserWrite};
use fk_core::Stat;
use futures::executor::block_on;
use proptest::prelude::*;

const PATHS: [&str; 3] = ["/a", "/b", "/a/c"];

fn stat(version: i32) -> Stat {
    Stat {
        version,
        ..Stat::default()
    }
}

fn write() -> impl Strategy<Value = UserWrite> {
    let path = (0..PATHS.len()).prop_map(|i| PATHS[i].to_string());
    prop_oneof![
        4 => (path.clone(), any::<u8>()).prop_map(|(path, b)| UserWrite::SetData {
            path,
            data: Bytes::from(vec![b]),
            stat: stat(i32::from(b)),
            in_flight: Default::default(),
        }),
        1 => (path.clone(), any::<u8>()).prop_map(|(path, b)| UserWrite::Create {
            path,
            data: Bytes::from(vec![b]),
            stat: stat(0),
            in_flight: Default::default(),
        }),
        1 => (path.clone(), any::<bool>(), 0..2u8).prop_map(|(path, add, name)| {
            let name = format!("n{name}");
            UserWrite::Children {
                path,
                stat: stat(7),
                change: if add { ChildChange::Added(name) } else { ChildChange::Removed(name) },
                in_flight: Default::default(),
            }
        }),
        1 => path.prop_map(|path| UserWrite::Delete { path }),
    ]
}

/// Changes in zxid order; a change shares its commit's zxid with the one
/// before it now and then (a multi).
fn batch() -> impl Strategy<Value = Vec<(i64, UserWrite)>> {
    prop::collection::vec((write(), any::<bool>()), 0..24).prop_map(|writes| {
        let mut zxid = 10;
        writes
            .into_iter()
            .map(|(w, same_commit)| {
                if !same_commit {
                    zxid += 1;
                }
                (zxid, w)
            })
            .collect()
    })
}

type Snapshot = Vec<(Option<fk_core::user::UserNode>, Option<i64>)>;

fn snapshot(store: &MemoryUserStore) -> Snapshot {
    PATHS
        .iter()
        .map(|p| (block_on(store.get(p)).unwrap(), store.applied_zxid(p)))
        .collect()
}

/// Every state a reader can see while `writes` are applied one by one.
fn states(writes: &[(i64, &UserWrite)]) -> Vec<Snapshot> {
    let store = MemoryUserStore::default();
    let mut seen = vec![snapshot(&store)];
    for &(zxid, write) in writes {
        block_on(store.apply(zxid, write)).unwrap();
        seen.push(snapshot(&store));
    }
    seen
}

fn refs(batch: &[(i64, UserWrite)]) -> Vec<(i64, &UserWrite)> {
    batch.iter().map(|(z, w)| (*z, w)).collect()
}

proptest! {
    #[test]
    fn an_atomic_run_ends_where_the_whole_batch_ends(batch in batch()) {
        let all = refs(&batch);
        let kept = CommitWrites::atomic_run(&all);
        let (ends, whole) = (states(&kept), states(&all));
        prop_assert_eq!(ends.last(), whole.last());
    }

    #[test]
    fn an_in_order_run_shows_only_states_the_whole_batch_shows(batch in batch()) {
        let all = refs(&batch);
        let kept = CommitWrites::in_order_run(&all);
        let every = states(&all);
        let seen = states(&kept);
        prop_assert_eq!(seen.last(), every.last());
        // In order: each state seen is one of the batch's, no earlier than
        // the one seen before it.
        let mut from = 0;
        for state in &seen {
            let at = every[from..].iter().position(|s| s == state);
            prop_assert!(at.is_some(), "a state the batch never shows: {:?}", state);
            from += at.unwrap();
        }
    }
}

#[test]
fn a_sessions_sets_of_one_node_fold_into_the_last() {
    let set = |b: u8| UserWrite::SetData {
        path: "/a".into(),
        data: Bytes::from(vec![b]),
        stat: stat(i32::from(b)),
        in_flight: Default::default(),
    };
    let other = UserWrite::SetData {
        path: "/b".into(),
        data: Bytes::new(),
        stat: stat(1),
        in_flight: Default::default(),
    };
    let batch = [(1, set(1)), (2, set(2)), (3, other.clone()), (4, set(4))];
    let all = refs(&batch);

    // One after another, only adjacent sets fold: /a's second set stays
    // before /b's, so a reader never sees /b's without it.
    let in_order: Vec<i64> = CommitWrites::in_order_run(&all)
        .iter()
        .map(|w| w.0)
        .collect();
    assert_eq!(in_order, [2, 3, 4]);

    // Atomically, every set of /a but the last goes.
    let atomic: Vec<i64> = CommitWrites::atomic_run(&all).iter().map(|w| w.0).collect();
    assert_eq!(atomic, [3, 4]);

    // A change of another kind between two sets keeps both.
    let child = UserWrite::Children {
        path: "/a".into(),
        stat: stat(2),
        change: ChildChange::Added("c".into()),
        in_flight: Default::default(),
    };
    let batch = [(1, set(1)), (2, child), (3, set(3))];
    assert_eq!(CommitWrites::atomic_run(&refs(&batch)).len(), 3);
    assert_eq!(CommitWrites::in_order_run(&refs(&batch)).len(), 3);
}
