//! Sequential names and ephemeral owners.

use fk_conformance::scenarios;
use fk_conformance::Mode::*;

scenarios! {
    // ---- sequential nodes -----------------------------------------------------

    /// Persistent sequential names: the prefix and the parent's cversion,
    /// as %010d.
    async fn sequential_names(t) {
        t.create("/q", "", Persistent).await;
        for _ in 0..3 {
            t.create("/q/job-", "data", PersistentSequential).await;
        }
        t.get_children2("/q").await;
        t.get_data("/q/job-0000000001").await;
    }

    /// Ephemeral sequential names come from the same counter; the node is
    /// the session's.
    async fn ephemeral_sequential_names(t) {
        t.create("/q", "", Persistent).await;
        t.create("/q/lock-", "", EphemeralSequential).await;
        t.create("/q/lock-", "", PersistentSequential).await;
        t.create("/q/lock-", "", EphemeralSequential).await;
        t.get_children2("/q").await;
        t.exists("/q/lock-0000000002").await;
    }

    /// A prefix ending in `/`: the name is the number alone. Also directly
    /// under the scenario's root.
    async fn sequential_prefix_ending_in_a_slash(t) {
        t.create("/q", "", Persistent).await;
        t.create("/q/", "", PersistentSequential).await;
        t.create("/q/", "", EphemeralSequential).await;
        t.create("/", "", PersistentSequential).await;
        t.get_children("/q").await;
        t.get_children("/").await;
    }

    /// Every kind of create counts: the number follows the parent's
    /// cversion, not the count of sequential nodes.
    async fn sequence_counts_every_create(t) {
        t.create("/q", "", Persistent).await;
        t.create("/q/plain", "", Persistent).await;
        t.create("/q/e", "", Ephemeral).await;
        t.create("/q/n-", "", PersistentSequential).await;
        t.get_children2("/q").await;
    }

    /// Deletes count in the parent's cversion as reported, but not in the
    /// sequence number: ZooKeeper stores the number of children *created*
    /// and reports cversion as 2 × created − numChildren (`DataNode.copyStat`),
    /// so the next number is (cversion + numChildren) / 2.
    async fn sequence_after_deletes(t) {
        t.create("/q", "", Persistent).await;
        let first = t.create("/q/n-", "", PersistentSequential).await;
        if first.is_ok() {
            t.delete(&first.path(), None).await;
        }
        t.exists("/q").await;
        t.create("/q/n-", "", PersistentSequential).await;
        t.create("/q/x", "", Persistent).await;
        t.delete("/q/x", None).await;
        t.exists("/q").await;
        t.create("/q/n-", "", PersistentSequential).await;
        t.get_children2("/q").await;
    }

    /// A sequential name that is taken: NODEEXISTS, and the counter does
    /// not move, so the next try collides too.
    async fn sequential_name_already_taken(t) {
        t.create("/q", "", Persistent).await;
        t.create("/q/n-0000000001", "", Persistent).await;
        t.create("/q/n-", "", PersistentSequential).await;
        t.create("/q/n-", "", PersistentSequential).await;
        t.exists("/q").await;
        t.create("/q/other", "", Persistent).await;
        t.create("/q/n-", "", PersistentSequential).await;
        t.get_children2("/q").await;
    }

    /// Sequential prefixes: the checks apply to the name with its number
    /// (`/q/.` is fine: `.0000000000`); a missing parent is NONODE; an
    /// empty segment before the end is BADARGUMENTS.
    async fn sequential_prefix_checks(t) {
        t.create("/q", "", Persistent).await;
        t.create("/q/.", "", PersistentSequential).await;
        t.create("/q/..", "", PersistentSequential).await;
        t.create("/q//", "", PersistentSequential).await;
        t.create("/q//x", "", PersistentSequential).await;
        t.create("/q/a\0", "", PersistentSequential).await;
        t.create("/missing/", "", PersistentSequential).await;
        t.create("q/", "", PersistentSequential).await;
        t.get_children("/q").await;
    }

    // ---- ephemeral nodes and sessions -------------------------------------------

    /// ephemeralOwner is the creating session, whoever reads it;
    /// persistent nodes have none.
    async fn ephemeral_owner(t) {
        let s1 = t.session().await;
        t.create("/p", "", Persistent).await;
        t.create("/e0", "", Ephemeral).await;
        t.on(s1).create("/e1", "", Ephemeral).await;
        t.on(s1).exists("/e0").await;
        t.exists("/e1").await;
        t.on(s1).get_data("/p").await;
        t.on(s1).create("/p/e1-", "", EphemeralSequential).await;
        t.get_children2("/p").await;
    }

    /// Another session may change and delete a session's ephemeral node.
    async fn another_session_deletes_an_ephemeral(t) {
        let s1 = t.session().await;
        t.create("/e", "", Ephemeral).await;
        t.on(s1).set_data("/e", "by s1", None).await;
        t.on(s1).get_data("/e").await;
        t.on(s1).delete("/e", Some(1)).await;
        t.exists("/e").await;
    }

    /// Closing a session deletes its ephemeral nodes, and only its own.
    async fn close_deletes_the_sessions_ephemerals(t) {
        let s1 = t.session().await;
        t.create("/p", "", Persistent).await;
        t.on(s1).create("/p/e", "", Ephemeral).await;
        t.on(s1).create("/p/q-", "", EphemeralSequential).await;
        t.on(s1).create("/p/kept", "", Persistent).await;
        t.create("/p/mine", "", Ephemeral).await;
        t.close(s1).await;
        t.get_children2("/p").await;
        t.exists("/p/e").await;
        t.exists("/p/mine").await;
    }

    /// Each session reads the others' writes once they are answered.
    async fn sessions_read_each_others_writes(t) {
        let s1 = t.session().await;
        t.create("/a", "from s0", Persistent).await;
        t.on(s1).get_data("/a").await;
        t.on(s1).set_data("/a", "from s1", Some(0)).await;
        t.get_data("/a").await;
        t.on(s1).create("/a/b", "", Persistent).await;
        t.get_children2("/a").await;
    }
}
