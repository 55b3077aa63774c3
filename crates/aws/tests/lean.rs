//! The lean transport against a scripted HTTP server: what it sends, which
//! answers it acts on, and that anything else falls back to the SDK, which
//! makes the same call again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use bytes::Bytes;
use fk_aws::calls::CallCounter;
use fk_aws::clients::Clients;
use fk_aws::lean::{LeanClient, LeanS3, Service};
use fk_aws::sqs::{SqsCommitQueue, SqsReplySink};
use fk_aws::system::DynamoSystemStore;
use fk_aws::user::{DynamoUserStore, S3UserStore};
use fk_core::message::Message as _;
use fk_core::system::{
    CommitOutcome, LockOutcome, LockRequest, NodeRecord, NodeWrite, SystemCommit, SystemStore,
};
use fk_core::user::{CommitWrites, UserStore, UserWrite};
use fk_core::Stat;
use fk_core::{
    CommitQueue, CommitRequest, CreateMode, Op, OpResult, Outcome, Reply, ReplySink, SessionId,
};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with one request.
#[derive(Clone)]
enum Step {
    /// Answers with this status and JSON body.
    Answer(u16, serde_json::Value),
    /// Answers with this status, extra header lines and raw body (S3).
    Raw(u16, &'static str, Vec<u8>),
    /// Closes the connection without answering.
    Hang,
}

/// A request the server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The request target, as sent (percent-encoded).
    path: String,
    target: String,
    authorization: String,
    /// The header block as sent.
    head: String,
    raw: Vec<u8>,
    body: serde_json::Value,
}

impl Seen {
    /// A header's value ("" when absent).
    fn header(&self, name: &str) -> String {
        header_in(&self.head, name)
    }
}

/// A header's value in a header block ("" when absent).
fn header_in(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default()
}

/// A loopback HTTP/1.1 server that answers requests by `script`, in order
/// (the last step again once it runs out), keeping connections alive.
struct Scripted {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    async fn start(script: Vec<Step>) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let next = Arc::new(AtomicUsize::new(0));
        let (seen2, script) = (seen.clone(), Arc::new(script));
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let (seen, script, next) = (seen2.clone(), script.clone(), next.clone());
                tokio::spawn(async move {
                    while let Some(request) = read_request(&mut socket).await {
                        seen.lock().unwrap().push(request);
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let (status, headers, body) = match &script[i.min(script.len() - 1)] {
                            Step::Hang => return,
                            Step::Answer(status, body) => (
                                *status,
                                "content-type: application/x-amz-json-1.0\r\n",
                                body.to_string().into_bytes(),
                            ),
                            Step::Raw(status, headers, body) => (*status, *headers, body.clone()),
                        };
                        let head = format!(
                            "HTTP/1.1 {status} X\r\n{headers}content-length: {}\r\n\r\n",
                            body.len()
                        );
                        let sent = socket
                            .write_all(head.as_bytes())
                            .await
                            .and(socket.write_all(&body).await);
                        if sent.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Scripted { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Reads one request (headers, then a body of its content-length).
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let header = |name: &str| header_in(&head, name);
    let len: usize = header("content-length").parse().unwrap_or(0);
    while buf.len() < head_end + len {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut request_line = head.lines().next().unwrap_or("").split(' ');
    let raw = buf[head_end..head_end + len].to_vec();
    Some(Seen {
        method: request_line.next().unwrap_or("").to_string(),
        path: request_line.next().unwrap_or("").to_string(),
        target: header("x-amz-target"),
        authorization: header("authorization"),
        body: serde_json::from_slice(&raw).unwrap_or_default(),
        raw,
        head,
    })
}

/// A credentials provider that counts how often it is asked.
#[derive(Debug, Clone, Default)]
struct Counting(Arc<AtomicUsize>);

impl ProvideCredentials for Counting {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        future::ProvideCredentials::ready(Ok(Credentials::new(
            format!("AKID{n}"),
            "secret",
            Some("session-token".into()),
            None,
            "counting",
        )))
    }
}

fn sdk_for(url: &str, credentials: Counting) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(url)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}

fn lock_request(token: &str) -> LockRequest<'_> {
    LockRequest {
        path: "/a",
        token,
        now_ms: 1_000,
        expires_ms: 31_000,
    }
}

fn store(sdk: &SdkConfig, counter: &CallCounter) -> DynamoSystemStore {
    let clients = Clients::new(sdk, counter);
    assert!(
        clients.lean_dynamodb.is_some(),
        "the lean transport is on by default"
    );
    DynamoSystemStore::new(clients.dynamodb.clone(), "sys", "ses").with_lean(clients.lean_dynamodb)
}

const ACQUIRED: &str = r#"{"Attributes": {"path": {"S": "/a"}, "lockToken": {"S": "t-1"}, "lockExpires": {"N": "31000"}}}"#;

#[tokio::test]
async fn a_lock_is_one_signed_update_item_with_the_sdks_request() {
    let server = Scripted::start(vec![Step::Answer(
        200,
        serde_json::from_str(ACQUIRED).unwrap(),
    )])
    .await;
    let counter = CallCounter::new();
    let store = store(&sdk_for(&server.url, Counting::default()), &counter);

    let outcome = store.lock(lock_request("t-1")).await.unwrap();

    assert_eq!(outcome, LockOutcome::Acquired(NodeRecord::default()));
    assert_eq!(
        counter.take(),
        [("DynamoDB.UpdateItem".to_string(), 1)].into()
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "DynamoDB_20120810.UpdateItem");
    assert!(
        seen[0]
            .authorization
            .starts_with("AWS4-HMAC-SHA256 Credential=AKID0/")
            && seen[0]
                .authorization
                .contains("/eu-west-1/dynamodb/aws4_request"),
        "{}",
        seen[0].authorization
    );
    let body = &seen[0].body;
    assert_eq!(body["TableName"], "sys");
    assert_eq!(body["Key"], serde_json::json!({"path": {"S": "/a"}}));
    assert_eq!(
        body["ConditionExpression"],
        "attribute_not_exists(#lockToken) OR #lockExpires < :now OR #lockToken = :t"
    );
    assert_eq!(
        body["ExpressionAttributeValues"],
        serde_json::json!({":t": {"S": "t-1"}, ":e": {"N": "31000"}, ":now": {"N": "1000"}})
    );
    assert_eq!(body["ReturnValues"], "ALL_NEW");
    assert_eq!(body["ReturnValuesOnConditionCheckFailure"], "ALL_OLD");
}

#[tokio::test]
async fn a_failed_condition_is_read_as_held_without_a_second_call() {
    let held = serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "message": "The conditional request failed",
        "Item": {"path": {"S": "/a"}, "lockToken": {"S": "other"}, "lockExpires": {"N": "45000"}},
    });
    let server = Scripted::start(vec![Step::Answer(400, held)]).await;
    let counter = CallCounter::new();
    let store = store(&sdk_for(&server.url, Counting::default()), &counter);

    let outcome = store.lock(lock_request("t-1")).await.unwrap();

    assert_eq!(outcome, LockOutcome::Held { expires_ms: 45_000 });
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn the_sdk_makes_the_call_again_when_the_lean_one_gets_no_answer() {
    for (case, first) in [
        Step::Hang,
        Step::Answer(500, serde_json::json!({"__type": "InternalServerError"})),
        Step::Answer(
            400,
            serde_json::json!({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"}),
        ),
        // A failed condition without the item it should return.
        Step::Answer(
            400,
            serde_json::json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}),
        ),
        // An item that does not read (a number sent as a JSON number).
        Step::Answer(200, serde_json::json!({"Attributes": {"czxid": {"N": 5}}})),
    ]
    .into_iter()
    .enumerate()
    {
        let server = Scripted::start(vec![
            first,
            Step::Answer(200, serde_json::from_str(ACQUIRED).unwrap()),
        ])
        .await;
        let counter = CallCounter::new();
        let store = store(&sdk_for(&server.url, Counting::default()), &counter);

        let outcome = store.lock(lock_request("t-1")).await.unwrap();

        assert_eq!(outcome, LockOutcome::Acquired(NodeRecord::default()));
        let seen = server.seen();
        assert_eq!(seen.len(), 2, "case {case}: one lean call, then the SDK's");
        assert_eq!(seen[0].body, seen[1].body, "case {case}: the SDK sends the same request");
        assert_eq!(
            counter.take(),
            [("DynamoDB.UpdateItem".to_string(), 2)].into(),
            "case {case}"
        );
    }
}

/// A commit of one node write (items: the node, the counter, the session).
fn a_commit() -> SystemCommit {
    SystemCommit {
        token: "0x0000000000000007-1".into(),
        commit_id: "0x0000000000000007-1.00000000000000ff".into(),
        zxid: 5,
        writes: vec![NodeWrite::Put {
            path: "/a".into(),
            stat: Stat::default(),
            fired: Default::default(),
        }],
        session: session(),
        seq: 1,
        ephemerals: Default::default(),
        close_session: false,
        persistent: Default::default(),
        in_flight: None,
    }
}

#[tokio::test]
async fn a_commit_the_lean_call_cannot_make_is_sent_by_the_sdk_with_its_token() {
    let canceled = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException";
    for (case, first) in [
        Step::Hang,
        Step::Answer(500, serde_json::json!({"__type": "InternalServerError"})),
        Step::Answer(
            400,
            serde_json::json!({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException"}),
        ),
        // A cancellation without its reasons.
        Step::Answer(400, serde_json::json!({"__type": canceled})),
    ]
    .into_iter()
    .enumerate()
    {
        let server = Scripted::start(vec![first, Step::Answer(200, serde_json::json!({}))]).await;
        let counter = CallCounter::new();
        let store = store(&sdk_for(&server.url, Counting::default()), &counter);

        let outcome = store.commit(&a_commit()).await.unwrap();

        assert_eq!(outcome, CommitOutcome::Committed, "case {case}");
        let seen = server.seen();
        assert_eq!(seen.len(), 2, "case {case}: one lean call, then the SDK's");
        assert_eq!(seen[0].target, "DynamoDB_20120810.TransactWriteItems");
        assert_eq!(seen[0].body["TransactItems"].as_array().unwrap().len(), 3);
        assert_eq!(
            seen[0].body, seen[1].body,
            "case {case}: the same transaction, with the same client request token"
        );
        assert_eq!(
            seen[1].body["ClientRequestToken"].as_str().map(str::len),
            Some(36)
        );
        assert_eq!(
            counter.take(),
            [("DynamoDB.TransactWriteItems".to_string(), 2)].into(),
            "case {case}"
        );
    }
}

#[tokio::test]
async fn a_commit_is_one_call_and_a_cancellation_is_read_from_its_reasons() {
    let canceled = serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled",
        "CancellationReasons": [
            {"Code": "None"},
            {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
            {"Code": "None"},
        ],
    });
    let server = Scripted::start(vec![
        Step::Answer(200, serde_json::json!({})),
        Step::Answer(400, canceled),
    ])
    .await;
    let counter = CallCounter::new();
    let store = store(&sdk_for(&server.url, Counting::default()), &counter);

    assert_eq!(
        store.commit(&a_commit()).await.unwrap(),
        CommitOutcome::Committed
    );
    // The counter's condition (the second item) failed: the commit is stale.
    assert_eq!(
        store.commit(&a_commit()).await.unwrap(),
        CommitOutcome::ZxidMismatch
    );

    assert_eq!(
        counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 2)].into()
    );
    let seen = server.seen();
    assert_ne!(
        seen[0].body["ClientRequestToken"], seen[1].body["ClientRequestToken"],
        "each transaction has a token of its own"
    );
}

/// A DynamoDB user store on `sdk` through the lean transport.
fn dynamodb_user_store(sdk: &SdkConfig, counter: &CallCounter) -> DynamoUserStore {
    let clients = Clients::new(sdk, counter);
    DynamoUserStore::new(clients.dynamodb.clone(), "user").with_lean(clients.lean_dynamodb)
}

#[tokio::test]
async fn a_user_store_write_the_lean_call_cannot_make_is_the_same_call_by_the_sdk() {
    let added = UserWrite::Children {
        path: "/p".into(),
        stat: Stat::default(),
        change: fk_core::user::ChildChange::Added("c".into()),
        in_flight: Default::default(),
    };
    let session = session();
    let both = [create("/a", b"\x00\xff"), added.clone()];
    let batch = [CommitWrites {
        zxid: 9,
        session,
        writes: &both,
    }];
    for first in [
        Step::Hang,
        Step::Answer(500, serde_json::json!({"__type": "InternalServerError"})),
    ] {
        for (write, operation) in [
            (&both[0], "PutItem"),
            (&added, "UpdateItem"),
            (&both[0], "TransactWriteItems"),
        ] {
            let server = Scripted::start(vec![
                first.clone(),
                Step::Answer(200, serde_json::json!({})),
            ])
            .await;
            let counter = CallCounter::new();
            let store = dynamodb_user_store(&sdk_for(&server.url, Counting::default()), &counter);

            if operation == "TransactWriteItems" {
                store.apply_batch(&batch).await.unwrap();
            } else {
                store.apply(9, write).await.unwrap();
            }

            let seen = server.seen();
            assert_eq!(seen.len(), 2, "{operation}: one lean call, then the SDK's");
            let target = format!("DynamoDB_20120810.{operation}");
            assert_eq!((&seen[0].target, &seen[1].target), (&target, &target));
            assert_eq!(seen[0].body, seen[1].body, "{operation}: the same request");
            assert_eq!(
                counter.take(),
                [(format!("DynamoDB.{operation}"), 2)].into(),
                "{operation}"
            );
        }
    }
}

#[tokio::test]
async fn a_superseded_user_store_write_is_an_answer_from_one_lean_call() {
    let failed = serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "message": "The conditional request failed",
    });
    let server = Scripted::start(vec![Step::Answer(400, failed)]).await;
    let counter = CallCounter::new();
    let store = dynamodb_user_store(&sdk_for(&server.url, Counting::default()), &counter);

    store.apply(3, &create("/a", b"x")).await.unwrap();

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].body["ConditionExpression"],
        "attribute_not_exists(#zxid) OR #zxid <= :zxid"
    );
    assert_eq!(
        seen[0].body["ExpressionAttributeValues"][":zxid"],
        serde_json::json!({"N": "3"})
    );
    assert_eq!(
        seen[0].body["Item"]["data"],
        serde_json::json!({"B": "eA=="})
    );
}

#[tokio::test]
async fn credentials_are_asked_for_once_and_again_after_the_service_refuses_them() {
    let server = Scripted::start(vec![
        Step::Answer(200, serde_json::json!({})),
        Step::Answer(200, serde_json::json!({})),
        Step::Answer(
            400,
            serde_json::json!({"__type": "com.amazon.coral.service#ExpiredTokenException"}),
        ),
        Step::Answer(200, serde_json::json!({})),
    ])
    .await;
    let asked = Counting::default();
    let sdk = sdk_for(&server.url, asked.clone());
    let lean = LeanClient::new(&sdk, Service::DynamoDb, &CallCounter::new()).unwrap();
    let empty = serde_json::json!({});
    let call = || lean.call("DescribeLimits", &empty);

    assert_eq!(call().await.unwrap().status, 200);
    assert_eq!(call().await.unwrap().status, 200);
    assert_eq!(asked.0.load(Ordering::SeqCst), 1, "kept between calls");
    let refused = call().await.unwrap();
    assert_eq!(refused.error_code(), Some("ExpiredTokenException"));
    assert_eq!(call().await.unwrap().status, 200);

    assert_eq!(
        asked.0.load(Ordering::SeqCst),
        2,
        "asked again after the refusal"
    );
    let keys: Vec<bool> = server
        .seen()
        .iter()
        .map(|s| s.authorization.contains("Credential=AKID1/"))
        .collect();
    assert_eq!(keys, [false, false, false, true]);
}

fn session() -> SessionId {
    SessionId::from_raw(7).unwrap()
}

fn reply(seq: u64) -> Reply {
    Reply {
        session: session(),
        seq,
        zxid: 40 + seq as i64,
        outcome: Outcome::Ok(OpResult::Deleted),
        after_event: None,
    }
}

#[tokio::test]
async fn a_reply_is_one_send_message_in_its_sessions_group_deduplicated_by_seq() {
    let server = Scripted::start(vec![Step::Answer(
        200,
        serde_json::json!({"MessageId": "m-1", "MD5OfMessageBody": "x", "SequenceNumber": "1"}),
    )])
    .await;
    let counter = CallCounter::new();
    let clients = Clients::new(&sdk_for(&server.url, Counting::default()), &counter);
    let sink = SqsReplySink::new(clients.sqs.clone()).with_lean(clients.lean_sqs.clone());
    let queue = format!("{}/123456789012/session-7.fifo", server.url);

    sink.reply(&queue, &reply(3)).await.unwrap();

    assert_eq!(counter.take(), [("SQS.SendMessage".to_string(), 1)].into());
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "AmazonSQS.SendMessage");
    assert!(seen[0]
        .authorization
        .contains("/eu-west-1/sqs/aws4_request"));
    let body = &seen[0].body;
    assert_eq!(body["QueueUrl"], queue.as_str());
    assert_eq!(body["MessageGroupId"], session().to_string());
    assert_eq!(body["MessageDeduplicationId"], format!("{}-3", session()));
    let envelope = reply(3).encode();
    assert_eq!(body["MessageBody"], envelope.body.as_str());
}

#[tokio::test]
async fn a_reply_the_lean_call_cannot_send_is_sent_by_the_sdk() {
    let server = Scripted::start(vec![
        Step::Answer(
            500,
            serde_json::json!({"__type": "com.amazonaws.sqs#InternalError"}),
        ),
        Step::Answer(
            200,
            serde_json::json!({"MessageId": "m-1", "MD5OfMessageBody": "x"}),
        ),
    ])
    .await;
    let counter = CallCounter::new();
    let clients = Clients::new(&sdk_for(&server.url, Counting::default()), &counter);
    let sink = SqsReplySink::new(clients.sqs.clone()).with_lean(clients.lean_sqs.clone());
    let queue = format!("{}/123456789012/session-7.fifo", server.url);

    sink.reply(&queue, &reply(4)).await.unwrap();

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].target, "AmazonSQS.SendMessage");
    assert_eq!(
        seen[1].body["MessageDeduplicationId"],
        seen[0].body["MessageDeduplicationId"]
    );
    assert_eq!(counter.take(), [("SQS.SendMessage".to_string(), 2)].into());
}

#[tokio::test]
async fn a_push_with_binary_data_is_the_sdks_send_message_and_falls_back_to_it() {
    let server = Scripted::start(vec![
        Step::Answer(
            500,
            serde_json::json!({"__type": "com.amazonaws.sqs#InternalError"}),
        ),
        Step::Answer(
            200,
            serde_json::json!({"MessageId": "m-1", "MD5OfMessageBody": "x"}),
        ),
        Step::Answer(
            200,
            serde_json::json!({"MessageId": "m-2", "MD5OfMessageBody": "x"}),
        ),
    ])
    .await;
    let counter = CallCounter::new();
    let clients = Clients::new(&sdk_for(&server.url, Counting::default()), &counter);
    let queue = format!("{}/123456789012/distributor.fifo", server.url);
    let commits =
        SqsCommitQueue::new(clients.sqs.clone(), &queue).with_lean(clients.lean_sqs.clone());
    let request = CommitRequest {
        token: "0x0000000000000007-1".into(),
        session: session(),
        seq: 1,
        reply_to: "q".into(),
        time_ms: 1_700_000_000_000,
        op: Op::Create {
            path: "/a".into(),
            data: Bytes::from_static(&[0, 159, 146, 150, 255]),
            mode: CreateMode::Persistent,
        },
        pre: Vec::new(),
        close_session: false,
    };

    // A push the lean call cannot make (500), then one it makes
    commits.push(&request).await.unwrap();
    commits.push(&request).await.unwrap();

    let seen = server.seen();
    assert_eq!(seen.len(), 3, "lean, the SDK's, lean");
    assert!(seen.iter().all(|s| s.target == "AmazonSQS.SendMessage"));
    let (lean, sdk) = (&seen[0].body, &seen[1].body);
    assert_eq!(
        lean["MessageAttributes"]["payload"],
        serde_json::json!({"DataType": "Binary", "BinaryValue": "AJ+Slv8="})
    );
    for field in [
        "QueueUrl",
        "MessageBody",
        "MessageGroupId",
        "MessageDeduplicationId",
        "MessageAttributes",
    ] {
        assert_eq!(lean[field], sdk[field], "{field}: the SDK sends the same");
    }
    assert_eq!(&seen[2].body, lean);
    assert_eq!(counter.take(), [("SQS.SendMessage".to_string(), 3)].into());
}

/// A configuration for AWS itself (no endpoint set).
fn aws(region: &'static str, fips: bool, credentials: bool) -> SdkConfig {
    let builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .use_fips(fips);
    match credentials {
        true => builder
            .credentials_provider(SharedCredentialsProvider::new(Counting::default()))
            .build(),
        false => builder.build(),
    }
}

#[test]
fn fips_and_the_region_choose_the_endpoint_as_the_sdk_does() {
    // No endpoint configured: the SDK's resolver names AWS's (nothing is
    // connected until a call).
    let endpoint = |sdk: &SdkConfig, service| {
        LeanClient::new(sdk, service, &CallCounter::new())
            .unwrap()
            .endpoint()
            .to_string()
    };
    let fips = aws("us-east-1", true, true);
    let plain = aws("eu-central-1", false, true);
    for (sdk, service, url) in [
        (
            &fips,
            Service::DynamoDb,
            "https://dynamodb-fips.us-east-1.amazonaws.com/",
        ),
        (
            &fips,
            Service::Sqs,
            "https://sqs-fips.us-east-1.amazonaws.com/",
        ),
        (
            &plain,
            Service::DynamoDb,
            "https://dynamodb.eu-central-1.amazonaws.com/",
        ),
        (
            &plain,
            Service::Sqs,
            "https://sqs.eu-central-1.amazonaws.com/",
        ),
    ] {
        assert_eq!(endpoint(sdk, service), url, "{service:?}");
    }

    let no_credentials = aws("eu-central-1", false, false);
    let err = LeanClient::new(&no_credentials, Service::Sqs, &CallCounter::new()).unwrap_err();
    assert!(err.contains("no credentials provider"), "{err}");
}

// S3: the user store's object calls.

const BUCKET: &str = "user-data";

/// An S3 user store on `sdk` through the lean transport (path-style, as
/// the SDK's client addresses an endpoint), and its call counter.
fn s3_store(sdk: &SdkConfig) -> (S3UserStore, CallCounter) {
    let counter = CallCounter::new();
    let clients = Clients::new(sdk, &counter);
    let lean = clients.lean_s3(BUCKET);
    assert!(lean.is_some(), "the lean transport is on by default");
    (
        S3UserStore::new(clients.s3.clone(), BUCKET).with_lean(lean),
        counter,
    )
}

fn create(path: &str, data: &'static [u8]) -> UserWrite {
    UserWrite::Create {
        path: path.into(),
        data: Bytes::from_static(data),
        stat: Stat::default(),
        in_flight: Default::default(),
    }
}

/// An object body as the store writes it: format 1, the header, the data.
fn record(zxid: i64, data: &[u8]) -> Vec<u8> {
    let header = serde_json::json!({"zxid": zxid}).to_string();
    let mut body = vec![1];
    body.extend_from_slice(&(header.len() as u32).to_be_bytes());
    body.extend_from_slice(header.as_bytes());
    body.extend_from_slice(data);
    body
}

const PUT_OK: &str = "etag: \"e-1\"\r\n";

#[tokio::test]
async fn an_object_write_is_one_put_signed_over_its_body() {
    let server = Scripted::start(vec![Step::Raw(200, PUT_OK, Vec::new())]).await;
    let (store, counter) = s3_store(&sdk_for(&server.url, Counting::default()));

    store.apply(5, &create("/a b/ü+x", b"hello")).await.unwrap();

    assert_eq!(counter.take(), [("S3.PutObject".to_string(), 1)].into());
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let put = &seen[0];
    assert_eq!(put.method, "PUT");
    // The key "n" + path, encoded as the SDK encodes it (`/` kept).
    assert_eq!(put.path, "/user-data/n/a%20b/%C3%BC%2Bx");
    assert_eq!(put.header("if-none-match"), "*", "a new node's object");
    assert_eq!(put.header("x-amz-meta-fk-zxid"), "5");
    assert_eq!(put.header("content-type"), "application/octet-stream");
    assert_eq!(
        put.header("x-amz-content-sha256"),
        hex(&Sha256::digest(&put.raw)),
        "the payload is signed"
    );
    assert!(
        put.authorization.contains("/eu-west-1/s3/aws4_request")
            && put.authorization.contains("x-amz-meta-fk-zxid")
            && put.authorization.contains("if-none-match"),
        "{}",
        put.authorization
    );
    assert!(put.raw.ends_with(b"hello") && put.raw[0] == 1);
    assert_eq!(
        signature_of(put, &server.url),
        put.authorization.rsplit("Signature=").next().unwrap(),
        "what arrived is what was signed"
    );
}

/// The SigV4 signature of `seen` as it arrived at `url`'s server (its
/// method, encoded path, the headers its authorization names, its body),
/// computed again as S3 checks it.
fn signature_of(seen: &Seen, url: &str) -> String {
    use aws_sigv4::http_request::{
        sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
        SigningSettings, UriPathNormalizationMode,
    };
    let signed: Vec<String> = seen
        .authorization
        .split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .split(';')
        .map(str::to_string)
        .collect();
    let headers: Vec<(String, String)> = signed
        .iter()
        .filter(|name| {
            !matches!(
                name.as_str(),
                "x-amz-date" | "x-amz-security-token" | "x-amz-content-sha256"
            )
        })
        .map(|name| (name.clone(), seen.header(name)))
        .collect();
    let date = seen.header("x-amz-date");
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &date[9..11],
        &date[11..13],
        &date[13..15]
    );
    let time =
        aws_smithy_types::DateTime::from_str(&iso, aws_smithy_types::date_time::Format::DateTime)
            .unwrap();
    let identity =
        Credentials::new("AKID0", "secret", Some("session-token".into()), None, "t").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("s3")
        .time(time.try_into().unwrap())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        &seen.method,
        format!("{url}{}", seen.path),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(&seen.raw),
    )
    .unwrap();
    sign(request, &params).unwrap().signature().to_string()
}

#[tokio::test]
async fn an_object_write_the_lean_call_cannot_make_is_the_same_put_by_the_sdk() {
    for (case, first) in [
        Step::Hang,
        Step::Raw(
            500,
            "",
            b"<Error><Code>InternalError</Code></Error>".to_vec(),
        ),
        Step::Raw(503, "", b"<Error><Code>SlowDown</Code></Error>".to_vec()),
        Step::Raw(
            403,
            "",
            b"<Error><Code>ExpiredToken</Code></Error>".to_vec(),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let server = Scripted::start(vec![first, Step::Raw(200, PUT_OK, Vec::new())]).await;
        let (store, counter) = s3_store(&sdk_for(&server.url, Counting::default()));

        store.apply(5, &create("/a", b"hello")).await.unwrap();

        let seen = server.seen();
        assert_eq!(seen.len(), 2, "case {case}: one lean call, then the SDK's");
        let (lean, sdk) = (&seen[0], &seen[1]);
        for name in ["if-none-match", "x-amz-meta-fk-zxid", "content-type"] {
            assert_eq!(lean.header(name), sdk.header(name), "case {case}: {name}");
        }
        assert_eq!(
            (lean.method.as_str(), lean.path.as_str()),
            ("PUT", "/user-data/n/a")
        );
        // (The SDK adds `?x-id=PutObject`, which S3 ignores.)
        let sdk_path = sdk.path.split('?').next().unwrap();
        assert_eq!((sdk.method.as_str(), sdk_path), ("PUT", "/user-data/n/a"));
        assert!(
            contains(&sdk.raw, &lean.raw),
            "case {case}: the SDK sends the same object"
        );
        assert_eq!(
            counter.take(),
            [("S3.PutObject".to_string(), 2)].into(),
            "case {case}"
        );
    }
}

#[tokio::test]
async fn a_failed_precondition_is_read_as_such_without_a_second_put() {
    // The object is not the one expected: the store reads its HEAD and
    // writes again on its ETag (the write is later than the object's).
    let server = Scripted::start(vec![
        Step::Raw(
            412,
            "",
            b"<Error><Code>PreconditionFailed</Code></Error>".to_vec(),
        ),
        Step::Raw(
            200,
            "etag: \"e-0\"\r\nx-amz-meta-fk-zxid: 3\r\n",
            Vec::new(),
        ),
        Step::Raw(200, PUT_OK, Vec::new()),
    ])
    .await;
    let (store, counter) = s3_store(&sdk_for(&server.url, Counting::default()));

    store.apply(5, &create("/a", b"hello")).await.unwrap();

    let seen = server.seen();
    let methods: Vec<&str> = seen.iter().map(|s| s.method.as_str()).collect();
    assert_eq!(methods, ["PUT", "HEAD", "PUT"]);
    assert_eq!(seen[2].header("if-match"), "\"e-0\"");
    assert_eq!(
        counter.take(),
        [
            ("S3.HeadObject".to_string(), 1),
            ("S3.PutObject".to_string(), 2)
        ]
        .into()
    );
}

#[tokio::test]
async fn a_read_is_one_get_and_a_missing_key_is_no_node() {
    let server = Scripted::start(vec![
        Step::Raw(200, "etag: \"e-1\"\r\n", record(5, b"hello")),
        Step::Raw(
            404,
            "",
            b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>"
                .to_vec(),
        ),
    ])
    .await;
    let (store, counter) = s3_store(&sdk_for(&server.url, Counting::default()));

    let node = store.get("/a").await.unwrap().expect("the node");
    assert_eq!(node.data, Bytes::from_static(b"hello"));
    assert_eq!(store.get("/b").await.unwrap(), None);

    assert_eq!(counter.take(), [("S3.GetObject".to_string(), 2)].into());
    let seen = server.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/user-data/n/a")
    );
    assert!(seen[0].authorization.contains("/eu-west-1/s3/aws4_request"));
}

#[tokio::test]
async fn a_missing_bucket_is_left_to_the_sdk_and_is_an_error() {
    let missing = b"<Error><Code>NoSuchBucket</Code></Error>".to_vec();
    let server = Scripted::start(vec![Step::Raw(404, "", missing)]).await;
    let (store, counter) = s3_store(&sdk_for(&server.url, Counting::default()));

    let err = store.get("/a").await.unwrap_err();

    assert!(err.to_string().contains("NoSuchBucket"), "{err}");
    assert_eq!(counter.take(), [("S3.GetObject".to_string(), 2)].into());
}

#[test]
fn a_buckets_endpoint_is_the_sdks_and_only_plain_sigv4_is_taken() {
    let url = |sdk: &SdkConfig, bucket: &str, path_style: bool| {
        LeanS3::new(sdk, bucket, path_style, &CallCounter::new()).map(|s3| s3.object_url("n/a b"))
    };
    let plain = aws("eu-central-1", false, true);
    let fips = aws("us-east-1", true, true);
    let emulator = sdk_for("http://127.0.0.1:5000", Counting::default());
    for (sdk, path_style, want) in [
        (
            &plain,
            false,
            "https://data.s3.eu-central-1.amazonaws.com/n/a%20b",
        ),
        (
            &plain,
            true,
            "https://s3.eu-central-1.amazonaws.com/data/n/a%20b",
        ),
        (
            &fips,
            false,
            "https://data.s3-fips.us-east-1.amazonaws.com/n/a%20b",
        ),
        (&emulator, true, "http://127.0.0.1:5000/data/n/a%20b"),
    ] {
        assert_eq!(url(sdk, "data", path_style).unwrap(), want);
    }
    // A directory bucket signs with S3 Express sessions: left to the SDK.
    let err = url(&plain, "data--euc1-az1--x-s3", false).unwrap_err();
    assert!(err.contains("not SigV4 for s3"), "{err}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
