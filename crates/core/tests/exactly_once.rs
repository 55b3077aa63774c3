//! Exactly once under every delivery fault: copies of a request that arrive
//! as new messages, redeliveries in order and out of order, replays after
//! later commits. Each test is a history an outside tester observed (or its
//! smallest form), replayed on the in-memory deployment.

mod sim;

use bytes::Bytes;
use fk_core::distributor::Distributed;
use fk_core::writer::Handled;
use fk_core::{CreateMode, Error};
use sim::*;

fn data_of(node: &fk_core::UserNode) -> &[u8] {
    node.data.as_ref()
}

#[tokio::test(start_paused = true)]
async fn a_copy_of_a_set_that_arrives_later_as_a_new_message_is_not_applied_again() {
    // Given a session's set (seq 2) and its later set (seq 3), both committed
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/k", "0")).await.unwrap();
    let first = sim.request(s, set("/k", "a", None));
    sim.writer.handle(&first, 1).await.unwrap();
    sim.drain().await;
    sim.write(s, set("/k", "b", None)).await.unwrap();
    sim.replies.take();

    // When a copy of the first arrives with a fresh deduplication id
    sim.commits.forget_deduplication();
    let handled = sim.writer.handle(&first, 1).await.unwrap();
    let done = sim.drain().await;

    // Then it changes nothing and is not answered again (a lost update
    // before: the copy committed as a new zxid over "b")
    assert!(
        handled == Handled::AlreadyCommitted || done == [Distributed::Duplicate],
        "{handled:?} {done:?}"
    );
    let node = sim.read("/k").await.unwrap();
    assert_eq!(data_of(&node), b"b");
    assert_eq!(node.stat.version, 2);
    assert!(sim.replies.take().is_empty());
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_copy_of_a_sequential_create_does_not_create_a_second_node() {
    // Given a sequential create, committed, and another write to the parent
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/q", "")).await.unwrap();
    let req = sim.request(
        s,
        create_mode("/q/n-", "x", CreateMode::PersistentSequential),
    );
    sim.writer.handle(&req, 1).await.unwrap();
    sim.drain().await;
    sim.write(s, set("/q", "touched", None)).await.unwrap();
    sim.replies.take();

    // When copies of the create arrive, at the writer and as a copy of
    // the writer's push validated again
    sim.commits.forget_deduplication();
    sim.writer.handle(&req, 1).await.unwrap();
    sim.drain().await;

    // Then there is still one child
    let q = sim.read("/q").await.unwrap();
    assert_eq!(q.children, vec!["n-0000000000".to_string()]);
    assert_eq!(q.stat.num_children, 1);
    assert_eq!(sim.read("/q/n-0000000001").await, None);
    assert!(sim.replies.take().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_copy_of_a_refused_cas_never_applies_later() {
    // Given a compare-and-set refused with BadVersion
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/k", "0")).await.unwrap();
    let cas = sim.request(s, set("/k", "cas", Some(1)));
    sim.writer.handle(&cas, 1).await.unwrap();
    sim.drain().await;
    assert_eq!(sim.reply_for(&cas), Err(Error::BadVersion));

    // When the node reaches the expected version and a copy arrives
    sim.write(s, set("/k", "v1", None)).await.unwrap();
    sim.replies.take();
    sim.commits.forget_deduplication();
    let handled = sim.writer.handle(&cas, 1).await.unwrap();
    let done = sim.drain().await;

    // Then the copy is dropped: the client was told it failed
    assert!(
        handled == Handled::Duplicate || done == [Distributed::Duplicate],
        "{handled:?} {done:?}"
    );
    let node = sim.read("/k").await.unwrap();
    assert_eq!(data_of(&node), b"v1");
    assert!(sim.replies.take().is_empty());
    assert!(sim.system.locked_paths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_replayed_commit_does_not_take_user_storage_back() {
    // Given two commits to one node, both applied
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/k", "0")).await.unwrap();
    let first = sim.request(s, set("/k", "old", None));
    sim.writer.handle(&first, 1).await.unwrap();
    let first_commit = sim.commits.pop().unwrap();
    sim.distributor.handle(&first_commit).await.unwrap();
    sim.write(s, set("/k", "new", None)).await.unwrap();

    // When the first is delivered again (a crashed distributor's batch),
    // to a fresh instance and to the warm one
    let fresh = sim.second_distributor();
    let again = fresh.handle(&first_commit).await.unwrap();
    let warm = sim.distributor.handle(&first_commit).await.unwrap();

    // Then it is recognised, and readers still see the newer data
    assert!(matches!(again, Distributed::Replayed(_)), "{again:?}");
    assert!(matches!(warm, Distributed::Replayed(_)), "{warm:?}");
    let node = sim.read("/k").await.unwrap();
    assert_eq!(data_of(&node), b"new");
    assert_eq!(node.stat.version, 2);
}

#[tokio::test(start_paused = true)]
async fn a_batch_delivered_again_out_of_order_ends_as_the_first_delivery() {
    // Given a batch of a create, two sets and a delete of a sibling
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/a", "")).await.unwrap();
    sim.write(s, create("/a/gone", "")).await.unwrap();
    let mut batch = Vec::new();
    for op in [
        set("/a", "1", None),
        create("/a/b", "x"),
        set("/a", "2", None),
        delete("/a/gone", None),
    ] {
        let req = sim.request(s, op);
        sim.writer.handle(&req, 1).await.unwrap();
        let commit = sim.commits.pop().unwrap();
        let done = sim.distributor.handle(&commit).await.unwrap();
        assert!(matches!(done, Distributed::Committed(_)), "{done:?}");
        batch.push(commit);
    }
    let before = (sim.read("/a").await, sim.read("/a/b").await);

    // When the emulator hands the batch back reversed, to a new instance
    let fresh = sim.second_distributor();
    for commit in batch.iter().rev() {
        let done = fresh.handle(commit).await.unwrap();
        assert!(matches!(done, Distributed::Replayed(_)), "{done:?}");
    }

    // Then user storage is exactly as after the first delivery
    assert_eq!((sim.read("/a").await, sim.read("/a/b").await), before);
    assert_eq!(sim.read("/a/gone").await, None);
    assert_eq!(data_of(&sim.read("/a").await.unwrap()), b"2");
}

#[tokio::test(start_paused = true)]
async fn a_copy_of_a_commit_request_pushed_again_after_later_writes_is_dropped() {
    // Given a create committed, then deleted by a later write
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let req = sim.request(s, create("/e", "x"));
    sim.writer.handle(&req, 1).await.unwrap();
    let commit = sim.commits.pop().unwrap();
    sim.distributor.handle(&commit).await.unwrap();
    sim.write(s, delete("/e", None)).await.unwrap();
    sim.replies.take();

    // When a copy of the commit request arrives far later (a zombie
    // writer's push, or a copy outside the deduplication window)
    let done = sim.distributor.handle(&commit).await.unwrap();

    // Then the deleted node does not come back
    assert!(
        matches!(done, Distributed::Replayed(_) | Distributed::Duplicate),
        "{done:?}"
    );
    assert_eq!(sim.read("/e").await, None);
    assert_eq!(sim.system.stat("/e"), None);
}

#[tokio::test(start_paused = true)]
async fn replies_stay_one_per_request_under_copies() {
    // Given a session that writes five times, each request copied twice
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/c", "0")).await.unwrap();
    sim.replies.take();
    let mut requests = Vec::new();
    for i in 1..=5 {
        let req = sim.request(s, set("/c", &i.to_string(), None));
        requests.push(req);
    }
    for req in &requests {
        sim.writer.handle(req, 1).await.unwrap();
        sim.commits.forget_deduplication();
        sim.writer.handle(req, 1).await.unwrap();
        sim.drain().await;
        sim.commits.forget_deduplication();
        sim.writer.handle(req, 2).await.unwrap();
        sim.drain().await;
    }

    // Then each request was answered in order, applied once, and every
    // answer to one request is the same (an identical copy of a commit is a
    // redelivery and is answered again; the client keeps the first answer
    // and drops the others by seq)
    let mut answers: Vec<(u64, fk_core::Outcome)> = Vec::new();
    for (_, reply) in sim.replies.take() {
        match answers.last() {
            Some((seq, outcome)) if *seq == reply.seq => assert_eq!(outcome, &reply.outcome),
            _ => answers.push((reply.seq, reply.outcome)),
        }
    }
    let seqs: Vec<u64> = answers.iter().map(|(seq, _)| *seq).collect();
    let expected: Vec<u64> = requests.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, expected);
    let node = sim.read("/c").await.unwrap();
    assert_eq!(node.stat.version, 5);
    assert_eq!(node.data, Bytes::from_static(b"5"));
}
