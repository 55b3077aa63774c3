//! create, get_data, set_data, delete, exists, get_children (with and
//! without its `Stat`): data, `Stat`, versions and every error.

use fk_conformance::Mode::*;
use fk_conformance::{scenarios, Call, Expect, S};

/// Paths ZooKeeper refuses (`PathUtils.validatePath`), each with what is
/// wrong with it. The scenario maps them under its namespace, so `/a/`
/// is sent as `/<ns>/a/`; a path not starting with `/` is sent as it is.
const INVALID_PATHS: &[&str] = &[
    "",          // empty
    "a",         // relative
    "a/b",       // relative
    "/a/",       // trailing slash
    "//",        // empty segment
    "/a//b",     // empty segment
    "/./b",      // `.` segment
    "/a/./b",    // `.` segment
    "/../b",     // `..` segment
    "/a/../b",   // `..` segment
    "/a\0b",     // NUL
    "/a\u{1}",   // control character
    "/a\u{1f}b", // control character
    "/\u{7f}",   // DEL
    "/a\u{9f}",  // C1 control character
    "/\u{e000}", // private use
    "/a\u{f8ff}",
    "/\u{fff0}", // specials
    "/a\u{ffff}",
];

/// Paths that end in a `.` or `..` segment. ZooKeeper's Java client
/// refuses them before sending (`IllegalArgumentException`), and so do we
/// (`BADARGUMENTS`); zookeeper-client 0.11 only checks a `.` segment that a
/// `/` follows, so these reach the server, which refuses them in writes
/// that validate the path (create, set_data) and otherwise looks them up
/// (`NONODE`).
const DOT_AT_THE_END: &[&str] = &["/.", "/..", "/a/.", "/a/.."];

const CLIENT_CHECKS_DOTS: &str =
    "ZooKeeper's Java client refuses a trailing `.`/`..` segment before \
     sending, as we do; zookeeper-client 0.11 sends it and the server, which does not check \
     this path, answers NONODE";

/// Names ZooKeeper accepts that look unusual.
const UNUSUAL_NAMES: &[&str] = &[
    "/a b",
    "/ü",
    "/名前",
    "/a.b",
    "/.a",
    "/..a",
    "/a..",
    "/...",
    "/-_:@!$&'()*+,;=",
    "/zookeeper",
];

scenarios! {
    // ---- every operation's success path -----------------------------------

    /// A persistent node, read back every way.
    async fn create_persistent_and_read_it_back(t) {
        t.create("/a", "hello", Persistent).await;
        t.get_data("/a").await;
        t.exists("/a").await;
        t.get_children("/").await;
        t.get_children2("/").await;
        t.get_children("/a").await;
        t.get_children2("/a").await;
    }

    /// Nodes several levels deep, and their parents' `Stat`.
    async fn create_a_tree(t) {
        for path in ["/a", "/a/b", "/a/b/c", "/a/b/c/d", "/a/x", "/a/y"] {
            t.create(path, path, Persistent).await;
        }
        t.get_children2("/a").await;
        t.get_children2("/a/b").await;
        t.get_children2("/a/b/c/d").await;
        t.get_data("/a/b/c/d").await;
    }

    /// set_data: version, mzxid and dataLength change; czxid, cversion do
    /// not; the same data set again still counts as a change.
    async fn set_data_changes_version_and_mzxid(t) {
        t.create("/a", "one", Persistent).await;
        t.set_data("/a", "two!", None).await;
        t.get_data("/a").await;
        t.set_data("/a", "two!", None).await;
        t.set_data("/a", "3", Some(2)).await;
        t.get_data("/a").await;
        t.exists("/a").await;
    }

    /// delete, with any version and with the matching one.
    async fn delete_a_node(t) {
        t.create("/a", "", Persistent).await;
        t.create("/b", "", Persistent).await;
        t.set_data("/b", "x", None).await;
        t.delete("/a", None).await;
        t.delete("/b", Some(1)).await;
        t.exists("/a").await;
        t.exists("/b").await;
        t.get_children2("/").await;
    }

    /// exists answers no node without an error; get_data, get_children do
    /// not.
    async fn exists_on_a_missing_node(t) {
        t.exists("/missing").await;
        t.exists("/missing/child").await;
    }

    /// A deleted node created again is a new node: new czxid, versions from
    /// zero.
    async fn delete_and_create_again(t) {
        t.create("/a", "first", Persistent).await;
        t.set_data("/a", "second", None).await;
        t.delete("/a", None).await;
        t.create("/a", "again", Persistent).await;
        t.get_data("/a").await;
        t.get_children2("/").await;
    }

    /// Names that look unusual but are valid paths.
    async fn unusual_but_valid_names(t) {
        for path in UNUSUAL_NAMES {
            t.create(path, *path, Persistent).await;
        }
        for path in UNUSUAL_NAMES {
            t.get_data(path).await;
        }
        t.get_children("/").await;
    }

    // ---- data ---------------------------------------------------------------

    /// Zero bytes of data: at create, and set after some.
    async fn empty_data(t) {
        t.create("/a", "", Persistent).await;
        t.get_data("/a").await;
        t.create("/b", "something", Persistent).await;
        t.set_data("/b", "", None).await;
        t.get_data("/b").await;
    }

    /// Every byte value, and bytes that are not UTF-8, come back as sent.
    async fn binary_data(t) {
        let every_byte: Vec<u8> = (0..=255).collect();
        t.create("/a", &every_byte, Persistent).await;
        t.get_data("/a").await;
        t.set_data("/a", [0xff, 0xfe, 0x00, 0x80, 0xc3], None).await;
        t.get_data("/a").await;
        t.set_data("/a", [0u8; 3], None).await;
        t.get_data("/a").await;
    }

    /// Text with multi-byte characters: dataLength counts bytes.
    async fn utf8_data(t) {
        t.create("/a", "zürich 東京 🦀", Persistent).await;
        t.get_data("/a").await;
    }

    /// 100 kB of data (within every user store's limit).
    async fn large_data(t) {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        t.create("/a", &data, Persistent).await;
        let back = t.get_data("/a").await;
        t.note(format!("read back equal: {}", back.is_ok() && back.data() == data));
    }

    // ---- Stat ---------------------------------------------------------------

    /// A parent's cversion, numChildren and pzxid across creating, changing
    /// and deleting its children; its own version and mzxid stay.
    async fn parent_stat_across_children(t) {
        t.create("/p", "parent", Persistent).await;
        t.exists("/p").await;
        t.create("/p/a", "", Persistent).await;
        t.exists("/p").await;
        t.create("/p/b", "", Persistent).await;
        t.exists("/p").await;
        t.set_data("/p/a", "changed", None).await;
        t.exists("/p").await;
        t.create("/p/a/deeper", "", Persistent).await;
        t.exists("/p").await;
        t.delete("/p/a/deeper", None).await;
        t.delete("/p/a", None).await;
        t.exists("/p").await;
        t.get_children2("/p").await;
        t.delete("/p/b", None).await;
        t.get_children2("/p").await;
    }

    /// set_data on a parent changes its version, not its cversion.
    async fn set_data_on_a_parent(t) {
        t.create("/p", "", Persistent).await;
        t.create("/p/c", "", Persistent).await;
        t.set_data("/p", "new", None).await;
        t.get_children2("/p").await;
    }

    /// get_children2's Stat is the node's, as exists and get_data give it.
    async fn every_read_gives_the_same_stat(t) {
        t.create("/a", "data", Persistent).await;
        t.create("/a/b", "", Persistent).await;
        t.set_data("/a", "more data", None).await;
        t.exists("/a").await;
        t.get_data("/a").await;
        t.get_children2("/a").await;
    }

    // ---- versions -------------------------------------------------------------

    /// set_data with a stale or future version: BADVERSION, nothing
    /// changes.
    async fn set_data_with_a_wrong_version(t) {
        t.create("/a", "v0", Persistent).await;
        t.set_data("/a", "v1", Some(0)).await;
        t.set_data("/a", "stale", Some(0)).await;
        t.set_data("/a", "future", Some(5)).await;
        t.get_data("/a").await;
    }

    /// delete with a wrong version: BADVERSION, the node stays.
    async fn delete_with_a_wrong_version(t) {
        t.create("/a", "", Persistent).await;
        t.delete("/a", Some(1)).await;
        t.set_data("/a", "x", None).await;
        t.delete("/a", Some(0)).await;
        t.exists("/a").await;
        t.delete("/a", Some(1)).await;
        t.exists("/a").await;
    }

    /// Version -1 is ZooKeeper's "any version", also when sent explicitly.
    async fn version_minus_one_means_any(t) {
        t.create("/a", "", Persistent).await;
        t.set_data("/a", "x", Some(-1)).await;
        t.set_data("/a", "y", Some(-1)).await;
        t.get_data("/a").await;
        t.delete("/a", Some(-1)).await;
        t.exists("/a").await;
    }

    /// Negative versions other than -1 are versions no node has:
    /// BADVERSION.
    async fn other_negative_versions(t) {
        t.create("/a", "", Persistent).await;
        t.set_data("/a", "z", Some(-2)).await;
        t.set_data("/a", "z", Some(i32::MIN)).await;
        t.delete("/a", Some(-2)).await;
        t.get_data("/a").await;
    }

    // ---- errors -----------------------------------------------------------------

    /// Every operation on a node that does not exist: NONODE (exists
    /// answers none).
    async fn operations_on_a_missing_node(t) {
        t.get_data("/missing").await;
        t.set_data("/missing", "x", None).await;
        t.set_data("/missing", "x", Some(0)).await;
        t.delete("/missing", None).await;
        t.delete("/missing", Some(0)).await;
        t.exists("/missing").await;
        t.get_children("/missing").await;
        t.get_children2("/missing").await;
    }

    /// Creating under a parent that does not exist: NONODE, for every mode.
    async fn create_without_a_parent(t) {
        for mode in [Persistent, Ephemeral, PersistentSequential, EphemeralSequential] {
            t.create("/missing/child", "", mode).await;
        }
        t.create("/missing/deeper/child", "", Persistent).await;
        t.get_children2("/").await;
    }

    /// Creating a node that exists: NODEEXISTS, whatever the mode; the
    /// node is unchanged.
    async fn create_an_existing_node(t) {
        t.create("/a", "first", Persistent).await;
        t.create("/a", "second", Persistent).await;
        t.create("/a", "second", Ephemeral).await;
        t.create("/e", "", Ephemeral).await;
        t.create("/e", "", Persistent).await;
        t.get_data("/a").await;
        t.get_children2("/").await;
    }

    /// Deleting a node with children: NOTEMPTY; the version is checked
    /// first.
    async fn delete_a_node_with_children(t) {
        t.create("/p", "", Persistent).await;
        t.create("/p/c", "", Persistent).await;
        t.delete("/p", None).await;
        t.delete("/p", Some(0)).await;
        t.delete("/p", Some(7)).await;
        t.delete("/p/c", None).await;
        t.delete("/p", Some(0)).await;
        t.exists("/p").await;
    }

    /// Ephemeral nodes have no children: NOCHILDRENFOREPHEMERALS for every
    /// mode, NODEEXISTS still first.
    async fn no_children_for_ephemerals(t) {
        t.create("/e", "", Ephemeral).await;
        for mode in [Persistent, Ephemeral, PersistentSequential, EphemeralSequential] {
            t.create("/e/child", "", mode).await;
        }
        t.create("/e/", "", PersistentSequential).await;
        t.create("/e/child/deeper", "", Persistent).await;
        t.get_children2("/e").await;
    }

    /// Invalid paths in create: BADARGUMENTS, whatever the mode.
    async fn invalid_paths_in_create(t) {
        for path in INVALID_PATHS {
            t.create(path, "", Persistent).await;
            t.create(path, "", Ephemeral).await;
        }
        t.get_children("/").await;
    }

    /// Invalid paths in set_data and delete: BADARGUMENTS.
    async fn invalid_paths_in_set_data_and_delete(t) {
        for path in INVALID_PATHS {
            t.set_data(path, "", None).await;
            t.delete(path, None).await;
        }
    }

    /// Invalid paths in reads: BADARGUMENTS.
    async fn invalid_paths_in_reads(t) {
        for path in INVALID_PATHS {
            t.get_data(path).await;
            t.exists(path).await;
            t.get_children(path).await;
            t.get_children2(path).await;
        }
    }

    /// A last segment `.` or `..`: refused in writes that validate the
    /// path; see DOT_AT_THE_END for the difference in the others.
    async fn dot_segments_at_the_end(t) {
        t.create("/a", "", Persistent).await;
        for path in DOT_AT_THE_END {
            t.create(path, "", Persistent).await;
            t.set_data(path, "", None).await;
            t.deliberate(CLIENT_CHECKS_DOTS, Expect::Err("NONODE"), Expect::Err("BADARGUMENTS"));
            t.delete(path, None).await;
            for read in [Call::get_data(path), Call::exists(path), Call::get_children(path)] {
                let expect_zookeeper = if matches!(read, Call::Exists { .. }) {
                    Expect::Ok // exists answers "no node" without an error
                } else {
                    Expect::Err("NONODE")
                };
                t.deliberate(CLIENT_CHECKS_DOTS, expect_zookeeper, Expect::Err("BADARGUMENTS"));
                t.call(S(0), read).await;
            }
        }
    }

    /// A character outside the Basic Multilingual Plane is two UTF-16
    /// surrogates to ZooKeeper's Java server, which refuses it in a path
    /// it validates (create, set_data); it is looked up, and not found,
    /// elsewhere.
    async fn path_with_a_character_outside_the_bmp(t) {
        t.create("/🦀", "", Persistent).await;
        t.create("/a🦀b", "", Persistent).await;
        t.set_data("/🦀", "", None).await;
        const JAVA_CLIENT_CHECKS: &str = "ZooKeeper's Java client refuses a surrogate in any \
             path before sending, as we do; zookeeper-client 0.11 sends it and the server, \
             which checks only the paths of create and set_data, looks it up";
        t.deliberate(JAVA_CLIENT_CHECKS, Expect::Err("NONODE"), Expect::Err("BADARGUMENTS"));
        t.delete("/🦀", None).await;
        t.deliberate(JAVA_CLIENT_CHECKS, Expect::Err("NONODE"), Expect::Err("BADARGUMENTS"));
        t.get_data("/🦀").await;
        t.deliberate(JAVA_CLIENT_CHECKS, Expect::Ok, Expect::Err("BADARGUMENTS"));
        t.exists("/🦀").await;
        t.deliberate(JAVA_CLIENT_CHECKS, Expect::Err("NONODE"), Expect::Err("BADARGUMENTS"));
        t.get_children("/🦀").await;
        t.get_children("/").await;
    }

    /// The root exists: creating it is NODEEXISTS (what ZooKeeper's server
    /// answers); deleting it is BADARGUMENTS.
    async fn create_and_delete_the_root(t) {
        t.real_root();
        for mode in [Persistent, Ephemeral] {
            t.deliberate(
                "zookeeper-client 0.11 refuses to send a create of `/`; ZooKeeper's server (and \
                 its Java client) answer NODEEXISTS, as we do",
                Expect::Err("BADARGUMENTS"),
                Expect::Err("NODEEXISTS"),
            );
            t.create("/", "", mode).await;
        }
        t.delete("/", None).await;
        t.delete("/", Some(0)).await;
        t.delete("/", Some(-1)).await;
    }

    /// A container node: ZooKeeper 3.8 creates it (and deletes it once its
    /// last child goes); we do not support it yet and must say so.
    async fn container_nodes(t) {
        t.deliberate(
            "container nodes are not implemented yet; issue 3 allows UNIMPLEMENTED, never a \
             silent persistent node",
            Expect::Ok,
            Expect::Err("UNIMPLEMENTED"),
        );
        t.create("/c", "", Container).await;
    }
}
