//! Exactly once under every delivery fault: copies of a request that arrive
//! as new messages, redeliveries in order and out of order, replays after
//! later commits. Each test is a history an outside tester observed (or its
//! smallest form), replayed on the in-memory deployment.

mod sim;

use bytes::Bytes;
use fk_core::distributor::Distributed;
use fk_core::system::SystemStore as _;
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

#[tokio::test(start_paused = true)]
async fn an_expiry_close_refused_once_closes_the_session_when_sent_again() {
    // Given an expired session owning an ephemeral node that a queued write
    // of another session holds locked
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    let other = sim.open_session().await;
    sim.write(s, create_mode("/e", "", CreateMode::Ephemeral))
        .await
        .unwrap();
    let queued = sim.request(other, set("/e", "held", None));
    sim.writer.handle(&queued, 1).await.unwrap();
    let queued_commit = sim.commits.pop().unwrap();
    let close = fk_core::WriteRequest {
        session: s,
        seq: fk_core::heartbeat::EXPIRY_SEQ,
        reply_to: reply_address(s),
        op: fk_core::Op::CloseSession,
    };

    // When the heartbeat's close gives up on the lock
    let deadline = 1_700_000_000_000 + 500;
    let first = sim
        .writer
        .handle_within(&close, 1, Some(deadline))
        .await
        .unwrap();
    assert_eq!(first, Handled::Refused(Error::OperationTimeout));

    // Then the refusal is not final: once the lock is free, the next
    // heartbeat's close goes through
    sim.distributor.handle(&queued_commit).await.unwrap();
    sim.writer.handle(&close, 1).await.unwrap();
    sim.drain().await;
    assert_eq!(sim.system.session(s).await.unwrap(), None);
    assert_eq!(sim.read("/e").await, None);
}

/// The largest write each store accepts, as its writer-queue and
/// distributor-queue messages: both fit the queues' 1 MiB.
#[test]
fn the_largest_accepted_write_of_each_store_fits_both_queues() {
    use fk_core::message::{Message as _, MAX_MESSAGE_BYTES};
    use fk_core::path::MAX_PATH_LEN;
    use fk_core::{CommitRequest, PreState, SessionId, Stat, WriteRequest};

    // The stores' limits (fk_aws::user::{S3,REDIS,DYNAMODB}_MAX_DATA).
    for max_data in [1_000_000usize, 300_000] {
        let path = format!("/{}", "p".repeat(MAX_PATH_LEN - 1));
        let session = SessionId::from_raw(0x1234_5678_9abc).unwrap();
        let reply_to =
            "https://sqs.eu-central-1.amazonaws.com/123456789012/a-long-deployment-name-reply-0x00001234.fifo"
                .to_string();
        let op = set(&path, "", Some(7));
        let op = match op {
            fk_core::Op::SetData { path, version, .. } => fk_core::Op::SetData {
                path,
                data: Bytes::from(vec![0xffu8; max_data]),
                version,
            },
            other => other,
        };
        let request = WriteRequest {
            session,
            seq: u64::MAX - 1,
            reply_to: reply_to.clone(),
            op: op.clone(),
        };
        let commit = CommitRequest {
            token: request.token(),
            session,
            seq: request.seq,
            reply_to,
            time_ms: i64::MAX,
            op,
            pre: vec![PreState {
                path: path.clone(),
                stat: Some(Stat {
                    czxid: i64::MAX,
                    mzxid: i64::MAX,
                    pzxid: i64::MAX,
                    ctime: i64::MAX,
                    mtime: i64::MAX,
                    version: i32::MAX,
                    cversion: i32::MAX,
                    aversion: 0,
                    ephemeral_owner: i64::MAX,
                    data_length: max_data as i32,
                    num_children: i32::MAX,
                }),
                watches: Default::default(),
            }],
            close_session: false,
        };
        for (what, envelope) in [("write", request.encode()), ("commit", commit.encode())] {
            assert!(
                envelope.fits_queue(),
                "{what} of {max_data} bytes: {} > {MAX_MESSAGE_BYTES}",
                envelope.queue_size()
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn sequential_creates_redelivered_in_reverse_to_a_new_instance_all_stay_listed() {
    // Given three sequential creates committed by an instance that died
    // before any reached user storage
    let mut sim = Sim::new();
    let s = sim.open_session().await;
    sim.write(s, create("/q", "")).await.unwrap();
    let mut commits = Vec::new();
    for _ in 0..3 {
        let req = sim.request(
            s,
            create_mode("/q/n-", "", CreateMode::PersistentSequential),
        );
        sim.writer.handle(&req, 1).await.unwrap();
        let commit = sim.commits.pop().unwrap();
        // Commit only: the system store moves on, user storage does not
        // (this instance's user writes go nowhere: it died before them).
        let dead = fk_core::distributor::Distributor::new(
            sim.system.clone(),
            std::sync::Arc::new(fk_core::memory::MemoryUserStore::default()),
            sim.replies.clone(),
            sim.watch_queue.clone(),
        );
        let done = dead.handle(&commit).await.unwrap();
        assert!(matches!(done, Distributed::Committed(_)), "{done:?}");
        commits.push(commit);
    }

    // When a new instance gets them back newest first (the emulator's
    // order after a timeout), and then again in order
    let fresh = sim.second_distributor();
    for commit in commits.iter().rev().chain(commits.iter()) {
        fresh.handle(commit).await.unwrap();
    }

    // Then every acknowledged name is listed, with the last Stat
    let q = sim.read("/q").await.unwrap();
    assert_eq!(
        q.children,
        vec!["n-0000000000", "n-0000000001", "n-0000000002"]
    );
    assert_eq!(q.stat.num_children, 3);
}
