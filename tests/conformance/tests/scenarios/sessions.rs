//! Sessions: close, expiry, what a closed session answers, and sessions
//! working at the same time.

use std::time::Duration;

use fk_conformance::Mode::*;
use fk_conformance::{scenarios, Call, MultiOp, Reply, SessionOptions, S};

use crate::note_outcomes;

/// The timeout of sessions that a scenario lets expire: short, within what
/// the test ZooKeeper allows (2 to 20 ticks of 500 ms), and long enough
/// that a live session's pings, a third of it apart, keep it alive while
/// the whole suite loads the local stack (at 2 s one was seen to expire).
pub const SHORT_TIMEOUT: Duration = Duration::from_secs(4);

/// How long a scenario waits for an expiry it caused.
pub const EXPIRY_WAIT: Duration = Duration::from_secs(30);

/// A session that a scenario may crash (its pings stop) and let expire.
pub fn crashable() -> SessionOptions {
    SessionOptions {
        timeout: Some(SHORT_TIMEOUT),
        crashable: true,
    }
}

scenarios! {
    /// Every operation on a closed session: SESSIONEXPIRED.
    async fn operations_on_a_closed_session(t) {
        let s1 = t.session().await;
        t.on(s1).create("/a", "", Persistent).await;
        t.close(s1).await;
        t.on(s1).create("/b", "", Persistent).await;
        t.on(s1).create("/e", "", Ephemeral).await;
        t.on(s1).set_data("/a", "x", None).await;
        t.on(s1).delete("/a", None).await;
        t.on(s1).multi(vec![MultiOp::check("/a", None)]).await;
        t.on(s1).sync("/a").await;
        t.on(s1).get_data("/a").await;
        t.on(s1).exists("/a").await;
        t.on(s1).get_children("/").await;
        t.on(s1).get_children2("/").await;
        t.on(s1).get_ephemerals("/").await;
        t.on(s1).get_all_children_number("/").await;
        t.get_children2("/").await;
    }

    /// Writes on a closed session: SESSIONEXPIRED, nothing applied.
    async fn writes_on_a_closed_session(t) {
        let s1 = t.session().await;
        t.on(s1).create("/a", "", Persistent).await;
        t.close(s1).await;
        t.on(s1).create("/b", "", Persistent).await;
        t.on(s1).create("/e", "", Ephemeral).await;
        t.on(s1).set_data("/a", "x", None).await;
        t.on(s1).delete("/a", None).await;
        t.on(s1).multi(vec![MultiOp::create("/c", "", Persistent)]).await;
        t.get_children2("/").await;
        t.get_data("/a").await;
    }

    /// A session's state: connected, then closed.
    async fn session_state_across_close(t) {
        let s1 = t.session().await;
        t.state(s1);
        t.close(s1).await;
        t.state(s1);
    }

    /// Closing a session changes its ephemerals' parent like deletes do.
    async fn close_changes_the_parents_stat(t) {
        let s1 = t.session().await;
        t.create("/p", "", Persistent).await;
        t.on(s1).create("/p/e1", "", Ephemeral).await;
        t.on(s1).create("/p/e2", "", Ephemeral).await;
        t.exists("/p").await;
        t.close(s1).await;
        t.get_children2("/p").await;
    }

    /// A session that stops answering expires after its timeout; its
    /// ephemeral nodes go, other sessions' stay.
    async fn expiry_deletes_the_sessions_ephemerals(t) {
        let s1 = t.session_with(crashable()).await;
        t.create("/p", "", Persistent).await;
        t.on(s1).create("/p/e", "", Ephemeral).await;
        t.on(s1).create("/p/q-", "", EphemeralSequential).await;
        t.create("/p/mine", "", Ephemeral).await;
        t.crash(s1);
        let gone = |r: &Reply| matches!(r, Reply::Children2 { children, .. } if children.len() == 1);
        t.eventually(S(0), Call::get_children2("/p"), gone, EXPIRY_WAIT).await;
        t.exists("/p/e").await;
        t.get_ephemerals("/").await;
    }

    /// An ephemeral node's parent may be deleted once the session that
    /// owned its last child has ended.
    async fn parent_deletable_after_close(t) {
        let s1 = t.session().await;
        t.create("/p", "", Persistent).await;
        t.on(s1).create("/p/e", "", Ephemeral).await;
        t.delete("/p", None).await;
        t.close(s1).await;
        t.delete("/p", None).await;
        t.exists("/p").await;
    }

    /// Sessions each creating and deleting children of one parent at the
    /// same time: the parent's counters add up.
    async fn concurrent_children_of_one_parent(t) {
        let s1 = t.session().await;
        let s2 = t.session().await;
        t.create("/p", "", Persistent).await;
        let mut calls = Vec::new();
        for (s, name) in [(S(0), "a"), (s1, "b"), (s2, "c")] {
            calls.push((s, Call::create(&format!("/p/{name}"), "", Persistent)));
            calls.push((s, Call::create(&format!("/p/{name}-e"), "", Ephemeral)));
        }
        let replies = t.concurrently(&calls).await;
        note_outcomes(t, &replies);
        let deletes: Vec<_> = [(S(0), "a"), (s1, "b")]
            .into_iter()
            .map(|(s, name)| (s, Call::delete(&format!("/p/{name}"), Some(0))))
            .collect();
        let replies = t.concurrently(&deletes).await;
        note_outcomes(t, &replies);
        t.get_children2("/p").await;
    }

    /// The lock recipe: each session makes an ephemeral sequential node;
    /// the lowest number holds the lock; when its session closes, the next
    /// one does.
    async fn lock_recipe(t) {
        let s1 = t.session().await;
        let s2 = t.session().await;
        t.create("/lock", "", Persistent).await;
        for s in [S(0), s1, s2] {
            t.on(s).create("/lock/n-", "", EphemeralSequential).await;
        }
        t.get_children("/lock").await;
        t.close(S(0)).await;
        t.on(s1).get_children2("/lock").await;
        t.on(s1).exists("/lock/n-0000000001").await;
    }

    /// Sessions interleaving their writes to one node: each sees the
    /// other's, in order.
    async fn interleaved_writes_of_two_sessions(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        for i in 0..3 {
            t.set_data("/a", format!("s0-{i}"), Some(2 * i)).await;
            t.on(s1).set_data("/a", format!("s1-{i}"), Some(2 * i + 1)).await;
        }
        t.get_data("/a").await;
        t.on(s1).get_data("/a").await;
    }

    // ---- concurrent sessions ------------------------------------------------

    /// Sessions racing to set the same version: exactly one wins, the
    /// others get BADVERSION.
    async fn concurrent_versioned_set_data(t) {
        let s1 = t.session().await;
        let s2 = t.session().await;
        t.create("/c", "", Persistent).await;
        let replies = t
            .concurrently(&[
                (S(0), Call::set_data("/c", "s0", Some(0))),
                (s1, Call::set_data("/c", "s1", Some(0))),
                (s2, Call::set_data("/c", "s2", Some(0))),
            ])
            .await;
        note_outcomes(t, &replies);
        t.exists("/c").await;
        // Which session won differs from run to run: the data is checked,
        // not shown.
        let data = t.concurrently(&[(S(0), Call::get_data("/c"))]).await.remove(0);
        let winner = replies.iter().position(Reply::is_ok);
        let expected = winner.map(|i| format!("s{i}").into_bytes());
        t.note(format!("the data is the winner's: {}", data.is_ok() && Some(data.data()) == expected));
    }

    /// Sessions racing to create the same node: exactly one wins.
    async fn concurrent_create_of_one_path(t) {
        let s1 = t.session().await;
        let s2 = t.session().await;
        let replies = t
            .concurrently(&[
                (S(0), Call::create("/c", "s0", Ephemeral)),
                (s1, Call::create("/c", "s1", Ephemeral)),
                (s2, Call::create("/c", "s2", Ephemeral)),
            ])
            .await;
        note_outcomes(t, &replies);
        let stat = t.concurrently(&[(S(0), Call::exists("/c"))]).await;
        let owner = stat[0].stat().map(|s| s.ephemeral_owner);
        let winner = replies.iter().position(Reply::is_ok);
        let winners_node = winner.is_some_and(|i| owner == Some(t.session_id(S(i))));
        t.note(format!("the node is the winner's: {winners_node}"));
        t.get_children2("/").await;
    }

    /// Sessions racing to delete one version of a node: exactly one wins,
    /// the others get NONODE.
    async fn concurrent_versioned_delete(t) {
        let s1 = t.session().await;
        t.create("/c", "", Persistent).await;
        let replies = t
            .concurrently(&[
                (S(0), Call::delete("/c", Some(0))),
                (s1, Call::delete("/c", Some(0))),
            ])
            .await;
        note_outcomes(t, &replies);
        t.exists("/c").await;
    }

    /// Sessions creating sequential nodes at once get distinct names, the
    /// numbers 0 to n-1.
    async fn concurrent_sequential_creates(t) {
        let s1 = t.session().await;
        let s2 = t.session().await;
        t.create("/q", "", Persistent).await;
        let mut calls = Vec::new();
        for s in [S(0), s1, s2] {
            for _ in 0..2 {
                calls.push((s, Call::create("/q/n-", "", PersistentSequential)));
            }
        }
        let replies = t.concurrently(&calls).await;
        let mut names: Vec<String> = replies
            .iter()
            .map(|r| if r.is_ok() { r.path() } else { format!("{r:?}") })
            .collect();
        names.sort();
        t.note(format!("names: {names:?}"));
        t.get_children2("/q").await;
    }

    /// One session's writes apply in the order it sent them, even when it
    /// does not wait for each answer.
    async fn pipelined_writes_keep_their_order(t) {
        t.create("/a", "", Persistent).await;
        let calls: Vec<_> = (0..5)
            .map(|i| (S(0), Call::set_data("/a", format!("{i}"), Some(i))))
            .collect();
        let replies = t.concurrently(&calls).await;
        note_outcomes(t, &replies);
        t.get_data("/a").await;
    }
}
