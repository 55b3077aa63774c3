//! Watches end to end: registered by reads, fired by the distributor,
//! delivered by the watch function through the session's queue.

use std::time::Duration;

use fk_client::{AddWatchMode, Client, Code, CreateMode, EventType, WatchedEvent, WatcherType};
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;
use tokio::sync::mpsc::UnboundedReceiver as Receiver;

/// The next event, failing the test after a generous wait.
async fn next(events: &mut Receiver<WatchedEvent>) -> (EventType, String) {
    let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("an event within 20 s")
        .expect("the event stream is open");
    (event.event_type, event.path)
}

/// Nothing more arrives within a short while.
async fn quiet(events: &mut Receiver<WatchedEvent>) {
    let more = tokio::time::timeout(Duration::from_millis(800), events.recv()).await;
    assert!(more.is_err(), "unexpected event {more:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_watches_fire_once_with_zookeepers_event_types() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let writer = stack.client().await;
    let watcher = stack.client().await;
    let mut events = watcher.subscribe().unwrap();

    // exists on a missing node, then NodeCreated
    assert_eq!(watcher.exists_and_watch("/a").await.unwrap(), None);
    writer
        .create("/a", b"1", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        (EventType::NodeCreated, "/a".into())
    );

    // a data watch, then NodeDataChanged; the second set fires nothing
    watcher.get_data_and_watch("/a").await.unwrap();
    writer.set_data("/a", b"2", None).await.unwrap();
    writer.set_data("/a", b"3", None).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        (EventType::NodeDataChanged, "/a".into())
    );

    // a child watch, then NodeChildrenChanged
    let (children, _) = watcher.get_children_and_watch("/a").await.unwrap();
    assert!(children.is_empty());
    writer
        .create("/a/b", b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        (EventType::NodeChildrenChanged, "/a".into())
    );

    // data and child watches on one node: one NodeDeleted
    watcher.get_data_and_watch("/a/b").await.unwrap();
    watcher.get_children_and_watch("/a/b").await.unwrap();
    writer.delete("/a/b", None).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        (EventType::NodeDeleted, "/a/b".into())
    );
    quiet(&mut events).await;

    // No watch is left behind by a read of a missing node
    assert_eq!(
        watcher.get_data_and_watch("/nope").await.unwrap_err(),
        Code::NoNode
    );
    writer
        .create("/nope", b"", CreateMode::Persistent)
        .await
        .unwrap();
    quiet(&mut events).await;

    watcher.close().await.unwrap();
    writer.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_sees_the_event_before_it_can_read_the_change() {
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let writer = stack.client().await;
    let watcher = stack.client().await;
    let mut events = watcher.subscribe().unwrap();
    writer
        .create("/cfg", b"v0", CreateMode::Persistent)
        .await
        .unwrap();

    for round in 1..=5 {
        watcher.get_data_and_watch("/cfg").await.unwrap();
        let value = format!("v{round}");
        writer
            .set_data("/cfg", value.as_bytes(), None)
            .await
            .unwrap();
        // Poll until the new value shows; by then the event must be here.
        loop {
            let (data, _) = watcher.get_data("/cfg").await.unwrap();
            if data == value.as_bytes() {
                break;
            }
        }
        let delivered = events.try_recv();
        assert!(
            matches!(&delivered, Ok(e) if e.event_type == EventType::NodeDataChanged),
            "round {round}: the read showed {value} before its event: {delivered:?}"
        );
    }
    watcher.close().await.unwrap();
    writer.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_recursive_watches_and_their_removal() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let writer = stack.client().await;
    let watcher = stack.client().await;
    let mut events = watcher.subscribe().unwrap();

    watcher
        .add_watch("/app", AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    writer
        .create("/app", b"", CreateMode::Persistent)
        .await
        .unwrap();
    writer
        .create("/app/x", b"", CreateMode::Persistent)
        .await
        .unwrap();
    writer.set_data("/app/x", b"1", None).await.unwrap();
    writer
        .create("/other", b"", CreateMode::Persistent)
        .await
        .unwrap();
    writer.delete("/app/x", None).await.unwrap();

    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next(&mut events).await);
    }
    assert_eq!(
        seen,
        vec![
            (EventType::NodeCreated, "/app".to_string()),
            (EventType::NodeCreated, "/app/x".to_string()),
            (EventType::NodeDataChanged, "/app/x".to_string()),
            (EventType::NodeDeleted, "/app/x".to_string()),
        ]
    );

    watcher
        .remove_watches("/app", WatcherType::Any)
        .await
        .unwrap();
    assert_eq!(
        watcher
            .remove_watches("/app", WatcherType::Any)
            .await
            .unwrap_err(),
        Code::NoWatcher
    );
    writer
        .create("/app/y", b"", CreateMode::Persistent)
        .await
        .unwrap();
    quiet(&mut events).await;

    watcher.close().await.unwrap();
    writer.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_session_fires_the_watches_on_its_ephemerals() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let owner = stack.client().await;
    let watcher = stack.client().await;
    let mut events = watcher.subscribe().unwrap();
    owner
        .create("/lock", b"", CreateMode::Ephemeral)
        .await
        .unwrap();
    assert!(watcher.exists_and_watch("/lock").await.unwrap().is_some());

    owner.close().await.unwrap();

    assert_eq!(
        next(&mut events).await,
        (EventType::NodeDeleted, "/lock".into())
    );
    assert_eq!(watcher.exists("/lock").await.unwrap(), None);
    watcher.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_on_bad_paths_and_closed_sessions_are_refused() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let client = stack.client().await;
    for bad in ["bad", "/a/", "/a//b"] {
        assert_eq!(
            client.get_data_and_watch(bad).await.unwrap_err(),
            Code::BadArguments
        );
    }
    let clone: Client = client.clone();
    client.close().await.unwrap();

    assert_eq!(
        clone.exists_and_watch("/a").await.unwrap_err(),
        Code::SessionExpired
    );
    assert_eq!(
        clone
            .add_watch("/a", AddWatchMode::Persistent)
            .await
            .unwrap_err(),
        Code::SessionExpired
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_sees_the_event_before_any_later_state_of_other_nodes() {
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let writer = stack.client().await;
    let watcher = stack.client().await;
    let mut events = watcher.subscribe().unwrap();
    writer
        .create("/a", b"", CreateMode::Persistent)
        .await
        .unwrap();
    writer
        .create("/b", b"0", CreateMode::Persistent)
        .await
        .unwrap();

    for round in 1..=5 {
        watcher.get_data_and_watch("/a").await.unwrap();
        writer.set_data("/a", b"x", None).await.unwrap();
        let value = round.to_string();
        writer.set_data("/b", value.as_bytes(), None).await.unwrap();
        // /b changed after /a: once /b shows it, /a's event is here.
        loop {
            let (data, _) = watcher.get_data("/b").await.unwrap();
            if data == value.as_bytes() {
                break;
            }
        }
        let delivered = events.try_recv();
        assert!(
            matches!(&delivered, Ok(e) if e.path == "/a"),
            "round {round}: /b showed {value} before /a's event: {delivered:?}"
        );
    }
    watcher.close().await.unwrap();
    writer.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_hears_the_event_of_its_own_write_before_the_reply() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let client = stack.client().await;
    let mut events = client.subscribe().unwrap();
    client
        .create("/mine", b"", CreateMode::Persistent)
        .await
        .unwrap();

    for _ in 0..3 {
        client.get_data_and_watch("/mine").await.unwrap();
        client.set_data("/mine", b"v", None).await.unwrap();
        let delivered = events.try_recv();
        assert!(
            matches!(&delivered, Ok(e) if e.event_type == EventType::NodeDataChanged),
            "the reply came before the event: {delivered:?}"
        );
    }
    client.close().await.unwrap();
    stack.stop().await;
}
