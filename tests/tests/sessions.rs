//! Sessions: keep-alive, expiry by the heartbeat, ephemeral nodes.

use std::time::Duration;

use fk_client::{Client, Code, ConnectOptions, CreateMode, SessionState};
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_session_expires_and_its_ephemerals_go() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let observer = stack.client().await;
    observer
        .create("/svc", b"", CreateMode::Persistent)
        .await
        .unwrap();
    let short = ConnectOptions::default().with_session_timeout(Duration::from_secs(2));
    let doomed = Client::connect_with(&stack.deployment, short)
        .await
        .unwrap();
    doomed
        .create("/svc/worker-", b"", CreateMode::EphemeralSequential)
        .await
        .unwrap();
    doomed
        .create("/svc/lead", b"", CreateMode::Ephemeral)
        .await
        .unwrap();
    assert_eq!(observer.get_children("/svc").await.unwrap().len(), 2);

    // The process "dies": no close, no more keep-alives.
    drop(doomed);

    let mut gone = false;
    for _ in 0..100 {
        if observer.get_children("/svc").await.unwrap().is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        gone,
        "the heartbeat expired the session and deleted its ephemerals"
    );
    assert!(stack.invocations("heartbeat") >= 2);
    // The observer, which kept its session alive, is untouched.
    assert_eq!(observer.state(), SessionState::Connected);
    observer
        .create("/svc/still-here", b"", CreateMode::Ephemeral)
        .await
        .unwrap();
    observer.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_session_outlives_its_timeout_by_keeping_alive() {
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let short = ConnectOptions::default().with_session_timeout(Duration::from_secs(2));
    let zk = Client::connect_with(&stack.deployment, short)
        .await
        .unwrap();
    zk.create("/mine", b"", CreateMode::Ephemeral)
        .await
        .unwrap();

    tokio::time::sleep(Duration::from_secs(5)).await;

    assert_eq!(zk.state(), SessionState::Connected);
    assert!(zk.exists("/mine").await.unwrap().is_some());
    zk.set_data("/mine", b"alive", None).await.unwrap();
    zk.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_session_answers_session_expired() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let zk = stack.client().await;
    let handle = zk.clone();
    zk.close().await.unwrap();

    assert_eq!(handle.state(), SessionState::Closed);
    assert_eq!(
        handle
            .create("/late", b"", CreateMode::Persistent)
            .await
            .unwrap_err(),
        Code::SessionExpired
    );
    stack.stop().await;
}
