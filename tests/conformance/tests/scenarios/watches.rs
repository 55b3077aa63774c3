//! Watches: one-shot data, exists and child watches, persistent and
//! persistent recursive watches, removeWatches, and the events each
//! session receives (see `fk_conformance::scenario` for how events are
//! recorded).

use fk_conformance::Mode::*;
use fk_conformance::{scenarios, Call, MultiOp, Reply, S};
use fk_conformance::{AddWatchMode, WatcherType};

use crate::sessions::{crashable, EXPIRY_WAIT};

scenarios! {
    /// exists on a missing node leaves a watch: NodeCreated.
    async fn exists_watch_on_a_missing_node_fires_created(t) {
        let s1 = t.session().await;
        t.on(s1).exists_and_watch("/a").await;
        t.create("/a", "", Persistent).await;
        t.events(s1, 1).await;
        t.set_data("/a", "x", None).await;
        t.no_events(s1).await;
    }

    /// exists on a node: NodeDataChanged, or NodeDeleted.
    async fn exists_watch_on_a_node(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).exists_and_watch("/a").await;
        t.set_data("/a", "x", None).await;
        t.events(s1, 1).await;
        t.on(s1).exists_and_watch("/a").await;
        t.delete("/a", None).await;
        t.events(s1, 1).await;
    }

    /// A data watch: NodeDataChanged on set_data (also with the same
    /// data), NodeDeleted on delete.
    async fn data_watch(t) {
        let s1 = t.session().await;
        t.create("/a", "x", Persistent).await;
        t.on(s1).get_data_and_watch("/a").await;
        t.set_data("/a", "x", None).await;
        t.events(s1, 1).await;
        t.on(s1).get_data_and_watch("/a").await;
        t.delete("/a", None).await;
        t.events(s1, 1).await;
    }

    /// get_data on a missing node fails and leaves no watch.
    async fn data_watch_on_a_missing_node_is_not_set(t) {
        let s1 = t.session().await;
        t.on(s1).get_data_and_watch("/a").await;
        t.on(s1).get_children_and_watch("/a").await;
        t.create("/a", "", Persistent).await;
        t.no_events(s1).await;
    }

    /// A one-shot watch fires once, whatever follows.
    async fn one_shot_watch_fires_once(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).get_data_and_watch("/a").await;
        t.set_data("/a", "1", None).await;
        t.set_data("/a", "2", None).await;
        t.events(s1, 1).await;
        t.delete("/a", None).await;
        t.no_events(s1).await;
    }

    /// A child watch: NodeChildrenChanged when a child comes or goes; not
    /// when a child's data changes or a grandchild comes; NodeDeleted when
    /// the node goes.
    async fn child_watch(t) {
        let s1 = t.session().await;
        t.create("/p", "", Persistent).await;
        t.on(s1).get_children_and_watch("/p").await;
        t.create("/p/a", "", Persistent).await;
        t.events(s1, 1).await;
        t.on(s1).get_children_and_watch("/p").await;
        t.set_data("/p/a", "x", None).await;
        t.set_data("/p", "x", None).await;
        t.create("/p/a/deeper", "", Persistent).await;
        t.no_events(s1).await;
        t.delete("/p/a/deeper", None).await;
        t.delete("/p/a", None).await;
        t.events(s1, 1).await;
        t.on(s1).get_children_and_watch("/p").await;
        t.delete("/p", None).await;
        t.events(s1, 1).await;
    }

    /// A session's own writes fire its own watches.
    async fn own_writes_fire_own_watches(t) {
        t.create("/p", "", Persistent).await;
        t.on(S(0)).get_children_and_watch("/p").await;
        t.on(S(0)).exists_and_watch("/p/a").await;
        t.create("/p/a", "", Persistent).await;
        t.events(S(0), 2).await;
    }

    /// Every watch of a session on one node, one write: one event per
    /// type, however many watches asked for it; each session gets its own.
    async fn several_watches_one_event(t) {
        let s1 = t.session().await;
        let s2 = t.session().await;
        t.create("/p", "", Persistent).await;
        t.create("/p/a", "", Persistent).await;
        for s in [s1, s2] {
            t.on(s).get_data_and_watch("/p/a").await;
            t.on(s).exists_and_watch("/p/a").await;
            t.on(s).get_children_and_watch("/p/a").await;
            t.on(s).get_children_and_watch("/p").await;
        }
        t.delete("/p/a", None).await;
        t.events(s1, 2).await;
        t.events(s2, 2).await;
    }

    /// After a read that sees a change, the session has its event
    /// (ZooKeeper's ordered notifications).
    async fn event_before_the_read_that_sees_the_change(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).get_data_and_watch("/a").await;
        t.set_data("/a", "new", None).await;
        t.on(s1).get_data("/a").await;
        t.events_received(s1).await;
    }

    /// A persistent watch: every change of the node and of its child
    /// list, in order, until the node goes — and after it comes back.
    async fn persistent_watch(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).add_watch("/a", AddWatchMode::Persistent).await;
        t.set_data("/a", "1", None).await;
        t.set_data("/a", "2", None).await;
        t.create("/a/b", "", Persistent).await;
        t.set_data("/a/b", "x", None).await;
        t.create("/a/b/c", "", Persistent).await;
        t.delete("/a/b/c", None).await;
        t.delete("/a/b", None).await;
        t.delete("/a", None).await;
        t.create("/a", "", Persistent).await;
        t.events_in_order(s1, 6).await;
    }

    /// A persistent recursive watch: created, changed and deleted for the
    /// node and everything below it; never NodeChildrenChanged.
    async fn persistent_recursive_watch(t) {
        let s1 = t.session().await;
        t.on(s1).add_watch("/a", AddWatchMode::PersistentRecursive).await;
        t.create("/a", "", Persistent).await;
        t.create("/a/b", "", Persistent).await;
        t.create("/a/b/c", "", Persistent).await;
        t.set_data("/a/b/c", "x", None).await;
        t.create("/ab", "", Persistent).await;
        t.delete("/a/b/c", None).await;
        t.delete("/a/b", None).await;
        t.events_in_order(s1, 6).await;
    }

    /// A persistent watch set on a missing node fires when it is created.
    async fn persistent_watch_on_a_missing_node(t) {
        let s1 = t.session().await;
        t.on(s1).add_watch("/a", AddWatchMode::Persistent).await;
        t.create("/a", "", Persistent).await;
        t.set_data("/a", "x", None).await;
        t.events_in_order(s1, 2).await;
    }

    /// A persistent watch sees each of several writes the session did not
    /// wait for, in the order they were made.
    async fn persistent_watch_keeps_the_order_of_writes(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.create("/b", "", Persistent).await;
        t.on(s1).add_watch("/", AddWatchMode::PersistentRecursive).await;
        let calls: Vec<_> = ["/b", "/a", "/b", "/a"]
            .into_iter()
            .map(|path| (S(0), Call::set_data(path, "x", None)))
            .collect();
        t.concurrently(&calls).await;
        t.events_in_order(s1, 4).await;
    }

    /// removeWatches of a data, a child and any watch: no events after;
    /// NOWATCHER where the session has no such watch.
    async fn remove_watches(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).get_data_and_watch("/a").await;
        t.on(s1).get_children_and_watch("/a").await;
        t.on(s1).remove_watches("/a", WatcherType::Data).await;
        t.on(s1).remove_watches("/a", WatcherType::Data).await;
        t.set_data("/a", "x", None).await;
        t.no_events(s1).await;
        t.create("/a/b", "", Persistent).await;
        t.events(s1, 1).await;
        t.on(s1).get_children_and_watch("/a").await;
        t.on(s1).remove_watches("/a", WatcherType::Children).await;
        t.on(s1).exists_and_watch("/a").await;
        t.on(s1).remove_watches("/a", WatcherType::Any).await;
        t.on(s1).remove_watches("/a", WatcherType::Any).await;
        t.delete("/a/b", None).await;
        t.delete("/a", None).await;
        t.no_events(s1).await;
    }

    /// NOWATCHER: no watch on the path, a watch of the other type, a watch
    /// that has fired, another session's watch, a missing node.
    async fn remove_watches_without_a_watch(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).remove_watches("/a", WatcherType::Any).await;
        t.on(s1).remove_watches("/missing", WatcherType::Data).await;
        t.on(s1).get_data_and_watch("/a").await;
        t.on(s1).remove_watches("/a", WatcherType::Children).await;
        t.on(S(0)).remove_watches("/a", WatcherType::Data).await;
        t.set_data("/a", "x", None).await;
        t.events(s1, 1).await;
        t.on(s1).remove_watches("/a", WatcherType::Data).await;
    }

    /// removeWatches of a persistent watch (type Any).
    async fn remove_a_persistent_watch(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).add_watch("/a", AddWatchMode::Persistent).await;
        t.set_data("/a", "1", None).await;
        t.events(s1, 1).await;
        t.on(s1).remove_watches("/a", WatcherType::Any).await;
        t.set_data("/a", "2", None).await;
        t.no_events(s1).await;
    }

    /// Watches on invalid paths: BADARGUMENTS, and no watch.
    async fn watches_on_invalid_paths(t) {
        for path in ["a", "/a/", "/a//b", "/./a", "/a\0"] {
            t.on(S(0)).get_data_and_watch(path).await;
            t.on(S(0)).exists_and_watch(path).await;
            t.on(S(0)).get_children_and_watch(path).await;
            t.on(S(0)).add_watch(path, AddWatchMode::Persistent).await;
            t.on(S(0)).add_watch(path, AddWatchMode::PersistentRecursive).await;
            t.on(S(0)).remove_watches(path, WatcherType::Any).await;
        }
        t.create("/a", "", Persistent).await;
        t.no_events(S(0)).await;
    }

    /// A multi fires the watches of each op it applies, and none when it
    /// fails.
    async fn multi_fires_watches(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.create("/p", "", Persistent).await;
        t.on(s1).exists_and_watch("/b").await;
        t.on(s1).get_data_and_watch("/a").await;
        t.on(s1).get_children_and_watch("/p").await;
        t.multi(vec![
            MultiOp::set_data("/a", "x", None),
            MultiOp::create("/p/c", "", Persistent),
            MultiOp::create("/missing/c", "", Persistent),
        ])
        .await;
        t.no_events(s1).await;
        t.multi(vec![
            MultiOp::create("/b", "", Persistent),
            MultiOp::set_data("/a", "x", None),
            MultiOp::create("/p/c", "", Persistent),
        ])
        .await;
        t.events(s1, 3).await;
    }

    /// Closing a session deletes its ephemerals, which fires the watches of
    /// another session.
    async fn close_fires_watches_of_another_session(t) {
        let s1 = t.session().await;
        t.create("/p", "", Persistent).await;
        t.on(s1).create("/p/e", "", Ephemeral).await;
        t.on(s1).create("/p/q-", "", EphemeralSequential).await;
        t.on(S(0)).exists_and_watch("/p/e").await;
        t.on(S(0)).get_children_and_watch("/p").await;
        t.on(S(0)).add_watch("/p/q-0000000001", AddWatchMode::Persistent).await;
        t.close(s1).await;
        t.events(S(0), 3).await;
    }

    /// An expired session's ephemerals go as if deleted: watches fire.
    async fn expiry_fires_watches_of_another_session(t) {
        let s1 = t.session_with(crashable()).await;
        t.create("/p", "", Persistent).await;
        t.on(s1).create("/p/e", "", Ephemeral).await;
        t.on(S(0)).exists_and_watch("/p/e").await;
        t.on(S(0)).get_children_and_watch("/p").await;
        t.crash(s1);
        let gone = |r: &Reply| matches!(r, Reply::Exists(None));
        t.eventually(S(0), Call::exists("/p/e"), gone, EXPIRY_WAIT).await;
        t.events_received(S(0)).await;
    }

    /// After a read of another node that a later write changed, the
    /// session has the event of the earlier write (ZooKeeper's ordered
    /// notifications hold across nodes).
    async fn event_before_reading_a_later_change_of_another_node(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.create("/b", "", Persistent).await;
        t.on(s1).get_data_and_watch("/a").await;
        t.set_data("/a", "first", None).await;
        t.set_data("/b", "after /a", None).await;
        t.on(s1).get_data("/b").await;
        t.events_received(s1).await;
    }

    /// A persistent and a one-shot watch on one node: one event for a
    /// change both watch; the one-shot is gone after it.
    async fn persistent_and_one_shot_watch_on_one_node(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).add_watch("/a", AddWatchMode::Persistent).await;
        t.on(s1).get_data_and_watch("/a").await;
        t.set_data("/a", "1", None).await;
        t.events(s1, 1).await;
        t.set_data("/a", "2", None).await;
        t.events_differ(
            s1,
            "ZooKeeper 3.8 keeps one watch mode per session and path, so the one-shot \
             watch replaces the persistent one, which is gone once it fires (ZOOKEEPER-4466, \
             fixed in 3.9); ours keeps both, as ZooKeeper 3.9 does",
            0,
            1,
        )
        .await;
    }

    /// A recursive watch and a child watch on one node: the child watch
    /// gives NodeChildrenChanged, the recursive one NodeCreated.
    async fn recursive_and_child_watch_on_one_node(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).add_watch("/a", AddWatchMode::PersistentRecursive).await;
        t.on(s1).get_children_and_watch("/a").await;
        t.create("/a/b", "", Persistent).await;
        t.events(s1, 2).await;
        t.create("/a/c", "", Persistent).await;
        t.events(s1, 1).await;
    }

    /// Sequential and ephemeral children fire child watches like any;
    /// their session's close fires them again.
    async fn child_watch_on_sequential_and_ephemeral_children(t) {
        let s1 = t.session().await;
        t.create("/q", "", Persistent).await;
        t.on(S(0)).get_children_and_watch("/q").await;
        t.on(s1).create("/q/n-", "", EphemeralSequential).await;
        t.events(S(0), 1).await;
        t.on(S(0)).get_children_and_watch("/q").await;
        t.on(s1).create("/q/m-", "", PersistentSequential).await;
        t.events(S(0), 1).await;
        t.on(S(0)).get_children_and_watch("/q").await;
        t.close(s1).await;
        t.events(S(0), 1).await;
        t.get_children("/q").await;
    }

    /// The same persistent watch added twice is one watch: one event per
    /// change, and one removeWatches removes it.
    async fn persistent_watch_added_twice(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        t.on(s1).add_watch("/a", AddWatchMode::Persistent).await;
        t.on(s1).add_watch("/a", AddWatchMode::Persistent).await;
        t.set_data("/a", "1", None).await;
        t.events(s1, 1).await;
        t.on(s1).remove_watches("/a", WatcherType::Any).await;
        t.set_data("/a", "2", None).await;
        t.no_events(s1).await;
        t.on(s1).remove_watches("/a", WatcherType::Any).await;
    }
}
