//! sync, getEphemerals, getAllChildrenNumber and the create modes that
//! are answered `UNIMPLEMENTED`.

use fk_conformance::Mode::*;
use fk_conformance::{scenarios, S};

scenarios! {
    // ---- sync -------------------------------------------------------------------

    /// A sync, then a read, sees what another session wrote.
    async fn sync_then_read(t) {
        let s1 = t.session().await;
        t.on(s1).create("/a", "one", Persistent).await;
        t.on(s1).set_data("/a", "two", None).await;
        t.sync("/a").await;
        t.get_data("/a").await;
    }

    /// sync does not look the path up: an unknown node is fine, an
    /// invalid path is not.
    async fn sync_on_unknown_and_invalid_paths(t) {
        t.sync("/missing").await;
        t.sync("/missing/deeper").await;
        t.sync("/").await;
        for path in ["a", "/a/", "/a//b", "/a\0"] {
            t.sync(path).await;
        }
    }

    // ---- getEphemerals ---------------------------------------------------------

    /// A session's ephemeral nodes, by path prefix (not by subtree: `/e`
    /// matches `/e1`); never another session's; gone once deleted.
    async fn get_ephemerals_by_prefix(t) {
        let s1 = t.session().await;
        t.create("/p", "", Persistent).await;
        t.create("/e1", "", Ephemeral).await;
        t.create("/e2", "", Ephemeral).await;
        t.create("/p/e", "", Ephemeral).await;
        t.create("/p/q-", "", EphemeralSequential).await;
        t.create("/p/kept", "", Persistent).await;
        t.on(s1).create("/e3", "", Ephemeral).await;
        t.get_ephemerals("/").await;
        t.get_ephemerals("/e").await;
        t.get_ephemerals("/p").await;
        t.get_ephemerals("/nothing").await;
        t.on(s1).get_ephemerals("/").await;
        t.delete("/e1", None).await;
        t.get_ephemerals("/e").await;
    }

    /// A session with no ephemeral nodes has none to list.
    async fn get_ephemerals_of_a_session_without_any(t) {
        t.create("/p", "", Persistent).await;
        t.get_ephemerals("/").await;
        t.get_ephemerals("/p").await;
    }

    // ---- getAllChildrenNumber --------------------------------------------------

    /// Every node below, at any depth; a leaf has none; a missing node is
    /// NONODE.
    async fn all_children_number(t) {
        for path in ["/a", "/a/b", "/a/b/c", "/a/b/d", "/a/e", "/f"] {
            t.create(path, "", Persistent).await;
        }
        t.create("/a/b/c/eph", "", Ephemeral).await;
        t.get_all_children_number("/").await;
        t.get_all_children_number("/a").await;
        t.get_all_children_number("/a/b").await;
        t.get_all_children_number("/f").await;
        t.get_all_children_number("/missing").await;
        t.delete("/a/b/c/eph", None).await;
        t.get_all_children_number("/a").await;
    }

    /// Invalid paths in getAllChildrenNumber: BADARGUMENTS.
    async fn invalid_paths_in_get_all_children_number(t) {
        for path in ["a", "/a/", "/a//b", "/./a", "/a\u{1}"] {
            t.get_all_children_number(path).await;
        }
    }

    /// getEphemerals' prefix must be a valid path (Java's client checks it
    /// with `PathUtils.validatePath`, so does zookeeper-client): a prefix
    /// ending in `/` is refused, although it would make sense as a prefix.
    async fn invalid_paths_in_get_ephemerals(t) {
        t.create("/p", "", Persistent).await;
        t.create("/p/e", "", Ephemeral).await;
        for path in ["a", "/p/", "/a//b", "/./a", "/a\u{1}"] {
            t.get_ephemerals(path).await;
        }
    }

    // ---- create modes we do not support ----------------------------------------

    /// TTL nodes: ZooKeeper 3.8 answers UNIMPLEMENTED unless the server
    /// enables extended types (`zookeeper.extendedTypesEnabled`), which
    /// ours does not: the same answer, and nothing is created.
    async fn ttl_nodes_are_unimplemented(t) {
        t.create("/t", "", PersistentWithTtl(1_000)).await;
        t.create("/t-", "", PersistentSequentialWithTtl(1_000)).await;
        t.get_children2("/").await;
    }

    /// Ephemeral nodes end with their session, whoever reads them.
    async fn ephemerals_of_another_session_are_not_listed(t) {
        let s1 = t.session().await;
        t.on(s1).create("/e", "", Ephemeral).await;
        t.get_ephemerals("/").await;
        t.on(s1).get_ephemerals("/").await;
        t.on(S(1)).get_all_children_number("/").await;
    }
}
