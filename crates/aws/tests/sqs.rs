//! The SQS adapters against the emulator, and Lambda's record format.

mod common;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use bytes::Bytes;
use fk_aws::sqs::{self, ReplyQueue, SqsCommitQueue, SqsReplySink};
use fk_core::message::{Message, Outcome};
use fk_core::{
    CommitBundle, CommitQueue, CommitRequest, CreateMode, Envelope, Error, Op, OpResult, Reply,
    ReplySink, SessionId, WriteRequest,
};

const BINARY: &[u8] = b"\x00\xff\x00binary";

fn envelope(body: &str, payload: Option<&'static [u8]>) -> Envelope {
    Envelope {
        body: body.into(),
        payload: payload.map(Bytes::from_static),
    }
}

async fn queue(clients: &fk_aws::clients::Clients, name: &str) -> ReplyQueue {
    ReplyQueue::create(clients.sqs.clone(), &fk_testkit::unique_name(name))
        .await
        .unwrap()
}

/// Everything that arrives within a few polls.
async fn drain(queue: &ReplyQueue) -> Vec<Envelope> {
    let mut all = Vec::new();
    for _ in 0..3 {
        let got = queue.receive(1).await.unwrap();
        if got.is_empty() && !all.is_empty() {
            break;
        }
        all.extend(got);
    }
    all
}

#[tokio::test]
async fn sent_envelopes_arrive_in_order_with_their_binary_payloads() {
    // Given a reply queue
    let (clients, counter) = common::clients().await;
    let q = queue(&clients, "reply").await;
    counter.take();

    // When three envelopes are sent, one with a binary payload, one empty
    for (i, payload) in [None, Some(BINARY), Some(&b""[..])].into_iter().enumerate() {
        let e = envelope(&format!("m{i}"), payload);
        sqs::send(&clients.sqs, &q.url, "g", &format!("d{i}"), &e)
            .await
            .unwrap();
    }
    assert_eq!(counter.take()["SQS.SendMessage"], 3);

    // Then they are received in order, and deleted
    let got = drain(&q).await;
    assert_eq!(
        got,
        vec![
            envelope("m0", None),
            envelope("m1", Some(BINARY)),
            envelope("m2", None),
        ]
    );
    assert_eq!(counter.snapshot()["SQS.DeleteMessageBatch"], 1);
    assert!(q.receive(0).await.unwrap().is_empty());
    q.delete().await.unwrap();
}

#[tokio::test]
async fn a_repeated_deduplication_id_is_delivered_once() {
    let (clients, _) = common::clients().await;
    let q = queue(&clients, "dedup").await;

    for body in ["first", "second"] {
        sqs::send(&clients.sqs, &q.url, "g", "same-id", &envelope(body, None))
            .await
            .unwrap();
    }

    assert_eq!(drain(&q).await, vec![envelope("first", None)]);
}

fn commit_request(token_seq: u64) -> CommitRequest {
    let session: SessionId = "0x00000000000000ab".parse().unwrap();
    CommitRequest {
        token: fk_core::message::token(session, token_seq),
        session,
        seq: token_seq,
        reply_to: "unused".into(),
        time_ms: 1_700_000_000_000,
        op: Op::Create {
            path: "/a".into(),
            data: Bytes::from_static(BINARY),
            mode: CreateMode::Persistent,
        },
        pre: Vec::new(),
        close_session: false,
    }
}

#[tokio::test]
async fn the_commit_queue_delivers_each_token_once_in_the_one_group() {
    // Given a FIFO queue as the distributor queue
    let (clients, _) = common::clients().await;
    let q = queue(&clients, "distributor").await;
    // (Through the lean transport: the data travels as a binary attribute.)
    let commits =
        SqsCommitQueue::new(clients.sqs.clone(), &q.url).with_lean(clients.lean_sqs.clone());

    // When a commit is pushed twice (a writer redelivery), then another
    commits.push(&commit_request(1)).await.unwrap();
    commits.push(&commit_request(1)).await.unwrap();
    commits.push(&commit_request(2)).await.unwrap();

    // Then each arrives once, in order, with its data
    let got: Vec<CommitRequest> = drain(&q)
        .await
        .into_iter()
        .map(|e| CommitRequest::decode(e).unwrap())
        .collect();
    assert_eq!(got, vec![commit_request(1), commit_request(2)]);
}

fn outgoing(commit: CommitRequest) -> fk_core::Outgoing {
    fk_core::Outgoing {
        commit,
        span: tracing::Span::none(),
    }
}

/// Every commit that arrives within a few polls, bundles unpacked.
async fn drain_commits(queue: &ReplyQueue) -> (usize, Vec<CommitRequest>) {
    let messages = drain(queue).await;
    let commits = messages
        .iter()
        .flat_map(|e| CommitBundle::decode(e.clone()).unwrap().commits)
        .map(|b| b.commit)
        .collect();
    (messages.len(), commits)
}

#[tokio::test]
async fn a_batch_of_commits_goes_out_as_one_message_in_order_and_deduplicated() {
    // Given the distributor queue and a writer batch of 12 validated
    // writes, one of them pushed alone before
    let (clients, counter) = common::clients().await;
    let q = queue(&clients, "distributor-batch").await;
    let commits =
        SqsCommitQueue::new(clients.sqs.clone(), &q.url).with_lean(clients.lean_sqs.clone());
    commits.push(&commit_request(1)).await.unwrap();
    let batch: Vec<_> = (1..=12).map(|seq| outgoing(commit_request(seq))).collect();
    counter.take();

    // When the batch is pushed, and pushed again (a redelivered writer
    // batch that sends the same writes together)
    commits.push_batch(&batch).await.unwrap();
    commits.push_batch(&batch).await.unwrap();

    // Then one call a push carried it, and it arrives once, in order, as
    // one message after the one pushed alone (whose copy it carries: the
    // distributor drops that by token)
    assert_eq!(counter.take(), [("SQS.SendMessage".to_string(), 2)].into());
    let (messages, got) = drain_commits(&q).await;
    assert_eq!(messages, 2);
    let seqs: Vec<u64> = got.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [1].into_iter().chain(1..=12).collect::<Vec<_>>());
    assert_eq!(got[12], commit_request(12));
}

#[tokio::test]
async fn a_batch_larger_than_a_message_goes_out_in_as_many_as_fit() {
    // Given a distributor queue that takes SQS's largest messages, and
    // three writes of 400 KB each: two fit a message, three do not
    let (clients, counter) = common::clients().await;
    let out = clients
        .sqs
        .create_queue()
        .queue_name(format!(
            "{}.fifo",
            fk_testkit::unique_name("distributor-big")
        ))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::MaximumMessageSize,
            fk_core::message::MAX_MESSAGE_BYTES.to_string(),
        )
        .send()
        .await
        .unwrap();
    let q = ReplyQueue::open(clients.sqs.clone(), out.queue_url().unwrap());
    let commits = SqsCommitQueue::new(clients.sqs.clone(), &q.url);
    let big = |seq: u64| {
        let mut c = commit_request(seq);
        c.op = Op::SetData {
            path: "/a".into(),
            data: Bytes::from(vec![seq as u8; 400_000]),
            version: None,
        };
        c
    };
    counter.take();

    // When they are pushed as one batch
    commits
        .push_batch(&[outgoing(big(1)), outgoing(big(2)), outgoing(big(3))])
        .await
        .unwrap();

    // Then two messages carry them, in order, with their data
    assert_eq!(counter.take(), [("SQS.SendMessage".to_string(), 2)].into());
    let (messages, got) = drain_commits(&q).await;
    assert_eq!(messages, 2);
    assert_eq!(got, vec![big(1), big(2), big(3)]);
}

#[tokio::test]
async fn replies_reach_the_queue_named_in_reply_to() {
    // Sent as the distributor sends them: through the lean transport (a
    // reply that fell back to the SDK would count two SendMessage calls)
    let (clients, counter) = common::clients().await;
    let q = queue(&clients, "session").await;
    assert!(clients.lean_sqs.is_some(), "the lean transport is on");
    let sink = SqsReplySink::new(clients.sqs.clone()).with_lean(clients.lean_sqs.clone());
    counter.take();
    let session = SessionId::random();
    let ok = Reply {
        session,
        seq: 1,
        zxid: 4,
        outcome: Outcome::Ok(OpResult::Deleted),
        after_event: None,
    };
    let err = Reply {
        session,
        seq: 2,
        zxid: 0,
        outcome: Outcome::Err(Error::NoNode),
        after_event: None,
    };

    sink.reply(&q.url, &ok).await.unwrap();
    sink.reply(&q.url, &ok).await.unwrap();
    sink.reply(&q.url, &err).await.unwrap();

    assert_eq!(counter.take(), [("SQS.SendMessage".to_string(), 3)].into());
    let got: Vec<Reply> = drain(&q)
        .await
        .into_iter()
        .map(|e| Reply::decode(e).unwrap())
        .collect();
    assert_eq!(got, vec![ok, err]);
}

#[tokio::test]
async fn a_sessions_replies_go_out_ten_a_call_in_order_and_deduplicated() {
    // Given a session's reply queue and twelve replies, the first sent
    // alone before (a distributor batch that comes again)
    let (clients, counter) = common::clients().await;
    let q = queue(&clients, "session-batch").await;
    let sink = SqsReplySink::new(clients.sqs.clone());
    let session = SessionId::random();
    let reply = |seq: u64| Reply {
        session,
        seq,
        zxid: 100 + seq as i64,
        outcome: Outcome::Ok(OpResult::Deleted),
        after_event: None,
    };
    sink.reply(&q.url, &reply(1)).await.unwrap();
    let replies: Vec<(Reply, tracing::Span)> = (1..=12)
        .map(|seq| (reply(seq), tracing::Span::none()))
        .collect();
    counter.take();

    // When they are sent as one batch
    sink.reply_batch(&q.url, &replies).await.unwrap();

    // Then two calls carried them, and each arrives once, in order
    assert_eq!(
        counter.take(),
        [("SQS.SendMessageBatch".to_string(), 2)].into()
    );
    let mut got = Vec::new();
    while got.len() < 12 {
        let more = drain(&q).await;
        assert!(!more.is_empty(), "only {} of 12 arrived", got.len());
        got.extend(more.into_iter().map(|e| Reply::decode(e).unwrap()));
    }
    assert_eq!(got, (1..=12).map(reply).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_batch_send_keeps_order_and_binary_payloads_and_says_what_each_entry_did() {
    // Given a FIFO queue and three envelopes, two with binary payloads
    let (clients, counter) = common::clients().await;
    let q = queue(&clients, "send-batch").await;
    let envelopes = [
        envelope("m0", Some(BINARY)),
        envelope("m1", None),
        envelope("m2", Some(b"\x01")),
    ];
    let span = tracing::Span::none();
    let entries: Vec<sqs::BatchEntry> = envelopes
        .iter()
        .enumerate()
        .map(|(i, e)| sqs::BatchEntry {
            dedup_id: format!("d{i}"),
            envelope: e,
            parent: &span,
        })
        .collect();
    counter.take();

    // When they are sent with one call
    let outcomes = sqs::send_batch(&clients.sqs, &q.url, "g", &entries)
        .await
        .unwrap();

    // Then each was taken, by one SendMessageBatch, and they arrive in
    // order with their payloads
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(
        counter.take(),
        [("SQS.SendMessageBatch".to_string(), 1)].into()
    );
    let got = drain(&q).await;
    let sent: Vec<Envelope> = envelopes
        .into_iter()
        .map(|e| Envelope {
            payload: e.payload.filter(|p| !p.is_empty()),
            ..e
        })
        .collect();
    assert_eq!(got, sent);
}

/// The bodies of what one long poll of `url` receives, left in flight.
async fn receive_in_flight(sqs: aws_sdk_sqs::Client, url: String) -> Vec<String> {
    let out = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    out.messages()
        .iter()
        .filter_map(|m| m.body.clone())
        .collect()
}

#[tokio::test]
async fn a_fifo_group_with_messages_in_flight_is_held_from_every_other_receiver() {
    // Given a FIFO queue and two long polls waiting on it, as two function
    // instances' event sources wait
    let (clients, _) = common::clients().await;
    let q = queue(&clients, "fifo-exclusive").await;
    let first = tokio::spawn(receive_in_flight(clients.sqs.clone(), q.url.clone()));
    let second = tokio::spawn(receive_in_flight(clients.sqs.clone(), q.url.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // When twelve messages of one group arrive at once
    let envelopes: Vec<Envelope> = (0..12).map(|i| envelope(&format!("m{i}"), None)).collect();
    let span = tracing::Span::none();
    for chunk in envelopes.chunks(6) {
        let entries: Vec<sqs::BatchEntry> = chunk
            .iter()
            .map(|e| sqs::BatchEntry {
                dedup_id: e.body.clone(),
                envelope: e,
                parent: &span,
            })
            .collect();
        sqs::send_batch(&clients.sqs, &q.url, "session", &entries)
            .await
            .unwrap();
    }

    // Then one receiver holds the first of them, in order, and the other
    // gets none while they are in flight (SQS's rule for a group)
    let mut got = [first.await.unwrap(), second.await.unwrap()];
    got.sort_by_key(Vec::is_empty);
    let [held, other] = got;
    assert!(!held.is_empty(), "nothing received");
    let expected: Vec<String> = (0..held.len()).map(|i| format!("m{i}")).collect();
    assert_eq!(held, expected);
    assert!(
        other.is_empty(),
        "the group went to two receivers: {held:?} and {other:?}"
    );
}

fn fixture_event() -> SqsEvent {
    let path =
        fk_testkit::repo_root().join("crates/aws/tests/fixtures/sqs_write_request_event.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_lambda_record_decodes_to_its_envelope_with_the_base64_payload() {
    // Given the record Lambda hands the writer
    let event = fixture_event();
    let record = &event.records[0];

    // When it is read back
    let env = sqs::envelope_from_event(record);

    // Then the payload is the raw bytes, and the request decodes whole
    assert_eq!(env.payload.as_deref(), Some(BINARY));
    assert_eq!(sqs::receive_count(record), 3);
    let request = WriteRequest::decode(env).unwrap();
    assert_eq!(request.token(), "0x00000000000000ab-7");
    assert_eq!(
        request.op,
        Op::SetData {
            path: "/app".into(),
            data: Bytes::from_static(BINARY),
            version: Some(0),
        }
    );
}

#[tokio::test]
async fn a_buried_record_keeps_its_body_group_and_payload_and_says_why() {
    // Given a dead-letter queue and an unreadable record
    let (clients, counter) = common::clients().await;
    let dlq = queue(&clients, "dlq").await;
    let event = fixture_event();
    let record = &event.records[0];
    counter.take();

    // When it is buried (twice: a retried burial)
    sqs::bury(&clients.sqs, &dlq.url, record, "malformed body")
        .await
        .unwrap();
    sqs::bury(&clients.sqs, &dlq.url, record, "malformed body")
        .await
        .unwrap();

    // Then it is there once, with the reason
    assert_eq!(counter.take()["SQS.SendMessage"], 2);
    let out = clients
        .sqs
        .receive_message()
        .queue_url(&dlq.url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .unwrap();
    let messages = out.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.body(), record.body.as_deref());
    let attrs = m.message_attributes().unwrap();
    assert_eq!(attrs["fk_error"].string_value(), Some("malformed body"));
    assert_eq!(attrs["payload"].binary_value().unwrap().as_ref(), BINARY);
    let system = m.attributes().unwrap();
    assert_eq!(
        system[&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId],
        "0x00000000000000ab"
    );
}

#[tokio::test]
async fn a_deleted_reply_queue_is_gone() {
    let (clients, _) = common::clients().await;
    let q = queue(&clients, "gone").await;

    q.delete().await.unwrap();

    assert!(q.receive(0).await.is_err());
}
