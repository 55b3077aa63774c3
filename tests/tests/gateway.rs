//! The ZooKeeper gateway (`fk-gateway`) with ZooKeeper's Rust client
//! (`zookeeper-client`, the client the conformance suite's reference side
//! uses): operations and error codes, notification order, what it refuses,
//! and sessions across a broken connection.

#[path = "support/gateway.rs"]
mod support;

use std::time::Duration;

use fk_local::StoreKind;
use support::{eventually, open, CuttableProxy, GatewayStack};
use zookeeper_client as zkc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_answer_through_the_gateway_with_zookeepers_codes() {
    let gw = GatewayStack::start(StoreKind::S3).await;
    let zk = gw.client().await;
    let persistent = open(zkc::CreateMode::Persistent);

    let (stat, _) = zk.create("/app", b"v1", &persistent).await.unwrap();
    assert_eq!((stat.version, stat.data_length), (0, 2));
    let (_, seq) = zk
        .create(
            "/app/lock-",
            b"",
            &open(zkc::CreateMode::EphemeralSequential),
        )
        .await
        .unwrap();
    assert_eq!(seq.into_i64(), 0);
    let (data, stat) = zk.get_data("/app").await.unwrap();
    assert_eq!((data.as_slice(), stat.num_children), (&b"v1"[..], 1));
    assert_eq!(
        zk.set_data("/app", b"v2", Some(7)).await.unwrap_err(),
        zkc::Error::BadVersion
    );
    assert_eq!(
        zk.set_data("/app", b"v2", Some(0)).await.unwrap().version,
        1
    );
    assert_eq!(
        zk.create("/app", b"", &persistent).await.unwrap_err(),
        zkc::Error::NodeExists
    );
    assert_eq!(zk.check_stat("/nowhere").await.unwrap(), None);
    assert_eq!(
        zk.get_data("/nowhere").await.unwrap_err(),
        zkc::Error::NoNode
    );
    assert_eq!(
        zk.delete("/app", None).await.unwrap_err(),
        zkc::Error::NotEmpty
    );
    let (children, stat) = zk.get_children("/app").await.unwrap();
    assert_eq!(
        (children, stat.num_children),
        (vec!["lock-0000000000".to_string()], 1)
    );
    assert_eq!(
        zk.list_ephemerals("/app").await.unwrap(),
        vec!["/app/lock-0000000000".to_string()]
    );
    assert_eq!(zk.count_descendants_number("/").await.unwrap(), 2);
    zk.sync("/app").await.unwrap();
    let (acl, _) = zk.get_acl("/app").await.unwrap();
    assert_eq!(acl, zkc::Acls::anyone_all().to_vec());

    let mut multi = zk.new_multi_writer();
    multi.add_check_version("/app", 1).unwrap();
    multi.add_create("/app/m", b"m", &persistent).unwrap();
    multi.add_set_data("/app/m", b"n", Some(0)).unwrap();
    let results = multi.commit().await.unwrap();
    assert_eq!(results.len(), 3);
    let mut failing = zk.new_multi_writer();
    failing.add_delete("/app/m", None).unwrap();
    failing.add_check_version("/app", 99).unwrap();
    match failing.commit().await.unwrap_err() {
        zkc::MultiWriteError::OperationFailed { index, source } => {
            assert_eq!((index, source), (1, zkc::Error::BadVersion));
        }
        other => panic!("{other:?}"),
    }
    let mut reads = zk.new_multi_reader();
    reads.add_get_data("/app/m").unwrap();
    reads.add_get_data("/nowhere").unwrap();
    let results = reads.commit().await.unwrap();
    assert!(matches!(&results[0], zkc::MultiReadResult::Data { data, .. } if data == b"n"));
    assert!(matches!(
        &results[1],
        zkc::MultiReadResult::Error {
            err: zkc::Error::NoNode
        }
    ));
    drop(zk);
    gw.stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_event_arrives_before_the_reply_that_shows_its_change() {
    let gw = GatewayStack::start(StoreKind::Dynamodb).await;
    let watcher = gw.client().await;
    let writer = gw.client().await;
    writer
        .create("/w", b"0", &open(zkc::CreateMode::Persistent))
        .await
        .unwrap();
    let (_, _, data_watch) = watcher.get_and_watch_data("/w").await.unwrap();
    let mut recursive = watcher
        .watch("/", zkc::AddWatchMode::PersistentRecursive)
        .await
        .unwrap();

    writer.set_data("/w", b"1", None).await.unwrap();
    // The read that shows the change comes after its notification, so
    // the event is already there when the read returns.
    let (data, _) = watcher.get_data("/w").await.unwrap();
    assert_eq!(data, b"1");
    let event = tokio::time::timeout(Duration::from_millis(1), data_watch.changed())
        .await
        .expect("the event came before the reply");
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (zkc::EventType::NodeDataChanged, "/w")
    );
    let event = tokio::time::timeout(Duration::from_millis(1), recursive.changed())
        .await
        .expect("the persistent watch's event came before the reply");
    assert_eq!(event.event_type, zkc::EventType::NodeDataChanged);

    // A persistent watch goes on firing; a removed one stops.
    writer.delete("/w", None).await.unwrap();
    assert_eq!(watcher.check_stat("/w").await.unwrap(), None);
    let event = tokio::time::timeout(Duration::from_millis(1), recursive.changed())
        .await
        .unwrap();
    assert_eq!(event.event_type, zkc::EventType::NodeDeleted);
    #[allow(deprecated)] // "Rust has Drop": dropping sends no removeWatches
    recursive.remove().await.unwrap();
    drop(watcher);
    drop(writer);
    gw.stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_service_lacks_is_answered_unimplemented_and_the_session_goes_on() {
    let gw = GatewayStack::start(StoreKind::S3).await;
    let zk = gw.client().await;
    zk.create("/n", b"", &open(zkc::CreateMode::Persistent))
        .await
        .unwrap();

    let read_only = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_read());
    assert_eq!(
        zk.create("/r", b"", &read_only).await.unwrap_err(),
        zkc::Error::Unimplemented
    );
    assert_eq!(
        zk.set_acl("/n", &zkc::Acls::anyone_read(), None)
            .await
            .unwrap_err(),
        zkc::Error::Unimplemented
    );
    assert_eq!(
        zk.auth("digest", b"user:secret").await.unwrap_err(),
        zkc::Error::Unimplemented
    );
    assert_eq!(
        zk.list_auth_users().await.unwrap_err(),
        zkc::Error::Unimplemented
    );
    // The service's own answer to a container: UNIMPLEMENTED too.
    let container = open(zkc::CreateMode::Container);
    assert_eq!(
        zk.create("/c", b"", &container).await.unwrap_err(),
        zkc::Error::Unimplemented
    );

    assert_eq!(zk.state(), zkc::SessionState::SyncConnected);
    assert!(zk.check_stat("/n").await.unwrap().is_some());
    drop(zk);
    gw.stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reconnects_within_its_timeout_keeps_its_session_nodes_and_watches() {
    let gw = GatewayStack::start(StoreKind::S3).await;
    let proxy = CuttableProxy::start(gw.address()).await;
    let zk = support::connect(&proxy.address()).await;
    let other = gw.client().await;
    let session = zk.session_id();
    zk.create("/mine", b"", &open(zkc::CreateMode::Ephemeral))
        .await
        .unwrap();
    zk.create("/w", b"0", &open(zkc::CreateMode::Persistent))
        .await
        .unwrap();
    let (_, _, watch) = zk.get_and_watch_data("/w").await.unwrap();
    let mut states = zk.state_watcher();

    // when: the connection breaks, and the node changes before the client
    // can connect again
    proxy.cut_and_hold();
    assert_eq!(states.changed().await, zkc::SessionState::Disconnected);
    other.set_data("/w", b"1", None).await.unwrap();
    proxy.let_in();

    // then: the client reconnects to its session, hears the change, and
    // its ephemeral node never went
    let event = tokio::time::timeout(Duration::from_secs(20), watch.changed())
        .await
        .expect("the event after the reconnect");
    assert_eq!(event.event_type, zkc::EventType::NodeDataChanged);
    assert_eq!(zk.state(), zkc::SessionState::SyncConnected);
    assert_eq!(zk.session_id(), session);
    let stat = other
        .check_stat("/mine")
        .await
        .unwrap()
        .expect("still there");
    assert_eq!(stat.ephemeral_owner, session.0);
    zk.set_data("/w", b"2", None).await.unwrap();
    drop(zk);
    drop(other);
    gw.stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_client_does_not_come_back_expires_and_its_ephemeral_nodes_go() {
    let gw = GatewayStack::start(StoreKind::S3).await;
    let observer = gw.client().await;
    let crashing = zkc::Client::connector()
        .with_session_timeout(Duration::from_secs(2))
        .with_detached()
        .connect(&gw.address())
        .await
        .unwrap();
    assert_eq!(crashing.session_timeout(), Duration::from_secs(2));
    crashing
        .create("/gone", b"", &open(zkc::CreateMode::Ephemeral))
        .await
        .unwrap();
    let session = crashing.session().clone();

    // when: the client goes without closing its session
    drop(crashing);

    // then: the session outlives the connection for its timeout, then
    // expires; its ephemeral node goes and it cannot be resumed
    assert!(observer.check_stat("/gone").await.unwrap().is_some());
    let gone = eventually(Duration::from_secs(30), || async {
        observer.check_stat("/gone").await.unwrap().is_none()
    })
    .await;
    assert!(gone, "the ephemeral node of an expired session goes");
    assert_eq!(gw.gateway.session_count(), 1, "only the observer's is left");
    let resumed = zkc::Client::connector()
        .with_session(session)
        .with_fail_eagerly()
        .connect(&gw.address())
        .await;
    assert_eq!(resumed.unwrap_err(), zkc::Error::SessionExpired);
    drop(observer);
    gw.stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cut_off_while_closing_hears_expired_only_once_its_ephemeral_nodes_are_gone() {
    let gw = GatewayStack::start(StoreKind::S3).await;
    let proxy = CuttableProxy::start(gw.address()).await;
    let observer = gw.client().await;
    for round in 0..3 {
        let zk = support::connect(&proxy.address()).await;
        let mine = format!("/mine-{round}");
        zk.create(&mine, b"", &open(zkc::CreateMode::Ephemeral))
            .await
            .unwrap();
        let mut states = zk.state_watcher();

        // when: the client closes its session, and its connection breaks
        // while the close goes through the service (a write: hundreds of
        // milliseconds here), so that it reconnects to a closing session
        drop(zk);
        tokio::time::sleep(Duration::from_millis(30)).await;
        proxy.cut();

        // then: whatever the client is told, the session ended and its
        // ephemeral node is gone by the time it hears so
        let ended = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let state = states.changed().await;
                if state.is_terminated() {
                    return state;
                }
            }
        })
        .await
        .expect("the session ends");
        assert!(
            matches!(
                ended,
                zkc::SessionState::Closed | zkc::SessionState::Expired
            ),
            "{ended:?}"
        );
        assert!(
            observer.check_stat(&mine).await.unwrap().is_none(),
            "round {round}: the client heard {ended:?} while its ephemeral node was still there"
        );
    }
    drop(observer);
    gw.stack.stop().await;
}
