//! multi: check, create, set_data and delete as one transaction; all or
//! nothing; ZooKeeper's per-op results and failure report.

use fk_conformance::Mode::*;
use fk_conformance::{scenarios, Call, Expect, MultiOp as Op, S};

use crate::note_outcomes;

scenarios! {
    /// Every kind of op, each with its result; one zxid for them all.
    async fn multi_every_op_kind(t) {
        t.create("/a", "a", Persistent).await;
        t.create("/gone", "", Persistent).await;
        t.multi(vec![
            Op::check("/a", Some(0)),
            Op::create("/a/b", "b", Persistent),
            Op::set_data("/a", "a2", Some(0)),
            Op::delete("/gone", Some(0)),
        ])
        .await;
        t.get_children2("/a").await;
        t.get_data("/a/b").await;
        t.exists("/gone").await;
    }

    /// Each op sees the ones before it in the same multi.
    async fn multi_ops_see_the_ones_before(t) {
        t.multi(vec![
            Op::create("/p", "", Persistent),
            Op::create("/p/c", "", Persistent),
            Op::set_data("/p/c", "x", Some(0)),
            Op::check("/p/c", Some(1)),
            Op::delete("/p/c", Some(1)),
            Op::create("/p/c", "again", Persistent),
        ])
        .await;
        t.get_children2("/p").await;
        t.get_data("/p/c").await;
    }

    /// A failing op undoes the ones before it: nothing is applied.
    async fn multi_is_all_or_nothing(t) {
        t.create("/a", "keep", Persistent).await;
        t.multi(vec![
            Op::create("/x", "", Persistent),
            Op::set_data("/a", "changed", None),
            Op::delete("/a", None),
            Op::set_data("/missing", "", None),
        ])
        .await;
        t.exists("/x").await;
        t.get_data("/a").await;
        t.get_children2("/").await;
    }

    /// The first failing op is the one reported, whatever fails after it.
    async fn multi_reports_the_first_failure(t) {
        t.create("/a", "", Persistent).await;
        t.multi(vec![
            Op::check("/a", None),
            Op::create("/a", "", Persistent),
            Op::delete("/missing", None),
            Op::set_data("/a", "", Some(9)),
        ])
        .await;
        t.multi(vec![
            Op::delete("/missing", None),
            Op::create("/a", "", Persistent),
        ])
        .await;
        t.get_data("/a").await;
    }

    /// check: the version, or any with none; a missing node is NONODE.
    async fn multi_check(t) {
        t.create("/a", "", Persistent).await;
        t.set_data("/a", "1", None).await;
        t.multi(vec![Op::check("/a", Some(1))]).await;
        t.multi(vec![Op::check("/a", None)]).await;
        t.multi(vec![Op::check("/a", Some(0))]).await;
        t.multi(vec![Op::check("/a", Some(2))]).await;
        t.multi(vec![Op::check("/missing", None)]).await;
        t.multi(vec![Op::check("/a", Some(1)), Op::check("/missing", Some(0))]).await;
    }

    /// Each error code as a multi reports it.
    async fn multi_error_codes(t) {
        t.create("/p", "", Persistent).await;
        t.create("/p/c", "", Persistent).await;
        t.create("/e", "", Ephemeral).await;
        t.multi(vec![Op::create("/p", "", Persistent)]).await;
        t.multi(vec![Op::create("/missing/c", "", Persistent)]).await;
        t.multi(vec![Op::delete("/p", None)]).await;
        t.multi(vec![Op::delete("/p/c", Some(3))]).await;
        t.multi(vec![Op::set_data("/p", "", Some(3))]).await;
        t.multi(vec![Op::create("/e/c", "", Persistent)]).await;
        t.get_children2("/p").await;
    }

    /// Sequential and ephemeral creates in a multi: names from the
    /// parent's cversion as it stands at that op; the session owns them.
    async fn multi_sequential_and_ephemeral_creates(t) {
        t.create("/q", "", Persistent).await;
        t.multi(vec![
            Op::create("/q/n-", "", PersistentSequential),
            Op::create("/q/n-", "", EphemeralSequential),
            Op::create("/q/e", "", Ephemeral),
            Op::create("/q/n-", "", PersistentSequential),
        ])
        .await;
        t.get_children2("/q").await;
        t.exists("/q/n-0000000001").await;
        t.get_ephemerals("/q").await;
    }

    /// A failed multi uses no sequence number.
    async fn failed_multi_uses_no_sequence_number(t) {
        t.create("/q", "", Persistent).await;
        t.multi(vec![
            Op::create("/q/n-", "", PersistentSequential),
            Op::create("/missing/x", "", Persistent),
        ])
        .await;
        t.create("/q/n-", "", PersistentSequential).await;
        t.exists("/q").await;
    }

    /// A multi with no ops succeeds with no results.
    async fn empty_multi(t) {
        t.multi(vec![]).await;
    }

    /// An invalid path in a multi: BADARGUMENTS, nothing applied.
    async fn multi_with_an_invalid_path(t) {
        t.create("/a", "", Persistent).await;
        let multis = [
            vec![Op::set_data("/a", "x", None), Op::create("/a//b", "", Persistent)],
            vec![Op::check("a", None)],
            vec![Op::set_data("/a", "y", None), Op::delete("/a/", None)],
        ];
        for ops in multis {
            t.deliberate(
                "zookeeper-client, like Java's client, refuses a multi with an invalid path \
                 before sending it; ours reports BADARGUMENTS for that op, as ZooKeeper's server \
                 does for a multi it receives (PrepRequestProcessor)",
                Expect::Err("BADARGUMENTS"),
                Expect::Err("BADARGUMENTS"),
            );
            t.multi(ops).await;
        }
        t.get_data("/a").await;
    }

    /// Delete and create the same path in one multi: a new node.
    async fn multi_delete_and_create_again(t) {
        t.create("/a", "old", Persistent).await;
        t.set_data("/a", "older", None).await;
        t.multi(vec![
            Op::delete("/a", Some(1)),
            Op::create("/a", "new", Persistent),
        ])
        .await;
        t.get_data("/a").await;
        t.get_children2("/").await;
    }

    /// Sessions racing with the same check-and-set: one wins, the other
    /// fails at its check.
    async fn concurrent_check_and_set_multis(t) {
        let s1 = t.session().await;
        t.create("/a", "", Persistent).await;
        let cas = |data: &str| {
            Call::multi(vec![Op::check("/a", Some(0)), Op::set_data("/a", data, None)])
        };
        let replies = t.concurrently(&[(S(0), cas("s0")), (s1, cas("s1"))]).await;
        note_outcomes(t, &replies);
        let failed_at_check = replies
            .iter()
            .any(|r| matches!(r, fk_conformance::Reply::MultiErr(e) if e.index == Some(0)));
        t.note(format!("the loser failed at its check: {failed_at_check}"));
        t.exists("/a").await;
    }
}
