//! The lean transport against a scripted HTTP server: what it sends, which
//! answers it acts on, and that anything else falls back to the SDK, which
//! makes the same call again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use fk_aws::calls::CallCounter;
use fk_aws::clients::Clients;
use fk_aws::lean::{LeanClient, Service};
use fk_aws::sqs::SqsReplySink;
use fk_aws::system::DynamoSystemStore;
use fk_core::message::Message as _;
use fk_core::system::{LockOutcome, LockRequest, NodeRecord, SystemStore};
use fk_core::{OpResult, Outcome, Reply, ReplySink, SessionId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with one request.
#[derive(Clone)]
enum Step {
    /// Answers with this status and JSON body.
    Answer(u16, serde_json::Value),
    /// Closes the connection without answering.
    Hang,
}

/// A request the server received.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    authorization: String,
    body: serde_json::Value,
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
                        match &script[i.min(script.len() - 1)] {
                            Step::Hang => return,
                            Step::Answer(status, body) => {
                                let body = body.to_string();
                                let head = format!(
                                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n",
                                    body.len()
                                );
                                let sent = socket
                                    .write_all(head.as_bytes())
                                    .await
                                    .and(socket.write_all(body.as_bytes()).await);
                                if sent.is_err() {
                                    return;
                                }
                            }
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
    let header = |name: &str| {
        head.lines()
            .find_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let len: usize = header("content-length").parse().unwrap_or(0);
    while buf.len() < head_end + len {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        target: header("x-amz-target"),
        authorization: header("authorization"),
        body: serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or_default(),
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
