//! At-least-once delivery, crashes and poison messages on the local stack.

use std::collections::BTreeMap;
use std::time::Duration;

use fk_core::{CreateMode, Error, Message, Op, SessionId, WriteRequest};
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

/// Sends a raw message to the writer queue, as a client (or a buggy one) would.
async fn send_raw(stack: &Stack, group: &str, dedup: &str, envelope: &fk_core::Envelope) {
    let sdk = fk_aws::clients::sdk_config(stack.deployment.endpoint.as_deref(), "us-east-1").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    fk_aws::sqs::send(
        &sqs,
        &stack.deployment.writer_queue_url,
        group,
        dedup,
        envelope,
    )
    .await
    .unwrap();
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_write_delivered_twice_applies_once() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let zk = stack.client().await;
    zk.create("/dup", b"", CreateMode::Persistent)
        .await
        .unwrap();
    let session = zk.session_id().unwrap();
    // Replies to a queue that does not exist are dropped, not retried.
    let reply_to = format!(
        "{}/123456789012/gone.fifo",
        stack.deployment.endpoint.clone().unwrap()
    );
    let req = WriteRequest {
        session,
        seq: 1000,
        reply_to,
        op: Op::SetData {
            path: "/dup".into(),
            data: "twice".into(),
            version: None,
        },
    };

    // Two copies that SQS cannot deduplicate (different dedup ids): what a
    // client retry after a lost acknowledgement looks like.
    send_raw(&stack, &session.to_string(), "copy-1", &req.encode()).await;
    send_raw(&stack, &session.to_string(), "copy-2", &req.encode()).await;

    eventually("both copies are handled", || async {
        stack
            .handled("writer")
            .iter()
            .filter(|l| l["outcome"].as_str().unwrap_or("").contains("-1000"))
            .count()
            == 2
    })
    .await;
    eventually("the write is applied", || async {
        zk.exists("/dup").await.unwrap().unwrap().version >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(zk.exists("/dup").await.unwrap().unwrap().version, 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_crash_between_lock_and_commit_loses_and_doubles_nothing() {
    let mut options = StackOptions::new(StoreKind::S3);
    options.lock_ttl_ms = 2_000;
    // A writer waits for a lock until a second before its function
    // timeout (visibility - 1 s): long enough to outwait the dead lock.
    options.visibility_timeout_s = 6;
    options.writer_env = BTreeMap::from([(
        "FK_FAULT_CRASH_AFTER_LOCK".to_string(),
        "/crash".to_string(),
    )]);
    let stack = Stack::start(options).await;
    let a = stack.client().await;
    let b = stack.client().await;

    // A's writer dies holding the locks of / and /crash; B needs / too.
    let a_create = tokio::spawn(async move {
        let r = a.create("/crash", b"once", CreateMode::Persistent).await;
        (a, r)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b_result = b.create("/other", b"", CreateMode::Persistent).await;
    let (a, a_result) = a_create.await.unwrap();

    assert_eq!(b_result.unwrap().0, "/other");
    assert_eq!(a_result.unwrap().0, "/crash");
    let (children, root) = a.get_children_with_stat("/").await.unwrap();
    assert_eq!(children, vec!["crash".to_string(), "other".to_string()]);
    assert_eq!((root.cversion, root.num_children), (2, 2));
    let (data, stat) = a.get_data("/crash").await.unwrap();
    assert_eq!((&data[..], stat.version), (&b"once"[..], 0));
    let crashes = stack
        .handled("writer")
        .iter()
        .filter(|l| {
            l["outcome"]
                .as_str()
                .unwrap_or("")
                .starts_with("create /crash")
        })
        .count();
    assert_eq!(
        crashes, 1,
        "the first delivery died before logging; the second succeeded"
    );
    let logs: String = std::fs::read_dir(&stack.log_dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(
        logs.matches("fault injection: crashing with the locks held")
            .count(),
        1,
        "the writer crashed exactly once"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_goes_to_the_dead_letter_queue_and_blocks_nobody() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let garbage = fk_core::Envelope {
        body: "{\"op\":\"format_disk\"}".into(),
        payload: None,
    };
    send_raw(&stack, "poison", "poison-1", &garbage).await;

    let zk = stack.client().await;
    zk.create("/after", b"ok", CreateMode::Persistent)
        .await
        .unwrap();

    let sdk = fk_aws::clients::sdk_config(stack.deployment.endpoint.as_deref(), "us-east-1").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let mut found = None;
    for _ in 0..50 {
        let got = sqs
            .receive_message()
            .queue_url(&stack.provisioned.writer_dlq_url)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(m) = got.messages.unwrap_or_default().into_iter().next() {
            found = Some(m);
            break;
        }
    }
    let dead = found.expect("the poison message in the dead-letter queue");
    assert_eq!(dead.body.as_deref(), Some("{\"op\":\"format_disk\"}"));
    let reason = dead.message_attributes.unwrap()["fk_error"]
        .string_value
        .clone()
        .unwrap();
    assert!(reason.contains("malformed"), "{reason}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_from_an_unknown_session_is_answered_session_expired() {
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let real = stack.client().await;
    // A session the deployment never heard of, listening on a real queue.
    let ghost = SessionId::random();
    let sdk = fk_aws::clients::sdk_config(stack.deployment.endpoint.as_deref(), "us-east-1").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = fk_aws::sqs::ReplyQueue::create(
        sqs,
        &format!(
            "{}ghost{}.fifo",
            stack.deployment.reply_queue_prefix,
            &ghost.to_string()[2..10]
        ),
    )
    .await
    .unwrap();
    let req = WriteRequest {
        session: ghost,
        seq: 1,
        reply_to: queue.url.clone(),
        op: Op::Create {
            path: "/ghost".into(),
            data: "".into(),
            mode: CreateMode::Persistent,
        },
    };
    send_raw(&stack, &ghost.to_string(), &req.token(), &req.encode()).await;

    let mut replies = Vec::new();
    for _ in 0..20 {
        replies.extend(queue.receive(1).await.unwrap());
        if !replies.is_empty() {
            break;
        }
    }
    let reply = fk_core::Reply::decode(replies.remove(0)).unwrap();
    assert_eq!(reply.outcome, fk_core::Outcome::Err(Error::SessionExpired));
    assert_eq!(real.exists("/ghost").await.unwrap(), None);
    // The refused write released its locks: others can create under /.
    real.create("/alive", b"", CreateMode::Persistent)
        .await
        .unwrap();
    queue.delete().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_over_the_stores_limit_is_refused_and_nothing_is_written() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let zk = stack.client().await;
    let too_big = vec![b'x'; fk_aws::user::DYNAMODB_MAX_DATA + 1];
    let just_fits = vec![b'y'; fk_aws::user::DYNAMODB_MAX_DATA];

    assert_eq!(
        zk.create("/big", &too_big, CreateMode::Persistent)
            .await
            .map_err(|e| e.code()),
        Err(Error::BadArguments)
    );
    zk.create("/big", &just_fits, CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(zk.get_data("/big").await.unwrap().0.len(), just_fits.len());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_is_all_or_nothing_through_the_functions() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let zk = stack.client().await;
    let create = |path: &str| Op::Create {
        path: path.into(),
        data: "d".into(),
        mode: CreateMode::Persistent,
    };

    let results = zk
        .multi(vec![
            create("/m"),
            create("/m/a"),
            Op::Check {
                path: "/m".into(),
                version: Some(0),
            },
        ])
        .await
        .unwrap();
    let failed = zk
        .multi(vec![
            create("/m/b"),
            Op::Delete {
                path: "/m".into(),
                version: None,
            },
        ])
        .await
        .unwrap_err();

    assert_eq!(results.len(), 3);
    assert_eq!(failed.error, Error::NotEmpty);
    assert_eq!(failed.results, vec![Ok(()), Err(Error::NotEmpty)]);
    assert_eq!(zk.get_children("/m").await.unwrap(), vec!["a".to_string()]);
    let (_, stat) = zk.get_data("/m").await.unwrap();
    assert_eq!(
        stat.czxid,
        zk.exists("/m/a").await.unwrap().unwrap().czxid,
        "one commit"
    );
    zk.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_session_removes_its_ephemerals_for_everyone() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let owner = stack.client().await;
    let watcher = stack.client().await;
    owner
        .create("/svc", b"", CreateMode::Persistent)
        .await
        .unwrap();
    owner
        .create("/svc/member-", b"", CreateMode::EphemeralSequential)
        .await
        .unwrap();
    watcher
        .create("/svc/other", b"", CreateMode::Ephemeral)
        .await
        .unwrap();
    let id = owner.session_id().unwrap();

    owner.close().await.unwrap();

    assert_eq!(
        watcher.get_children("/svc").await.unwrap(),
        vec!["other".to_string()]
    );
    // The closed session is gone: a write in its name is refused.
    let sdk = fk_aws::clients::sdk_config(stack.deployment.endpoint.as_deref(), "us-east-1").await;
    let system = fk_aws::system::DynamoSystemStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        stack.deployment.system_table.clone(),
        stack.deployment.sessions_table.clone(),
    );
    use fk_core::system::SystemStore;
    assert_eq!(system.session(id).await.unwrap(), None);
    watcher.close().await.unwrap();
    stack.stop().await;
}
