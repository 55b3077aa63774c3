//! `--oracle`: every request also goes to a real ZooKeeper 3.8, and each
//! answer that differs from ours is reported — and only those.

#[path = "support/gateway.rs"]
mod support;

use std::time::Duration;

use fk_local::StoreKind;
use support::{eventually, open, GatewayStack};
use zookeeper_client as zkc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oracle_reports_the_answers_that_differ_from_zookeepers_and_no_others() {
    // given: a gateway whose oracle is a fresh ZooKeeper (both trees empty)
    let zookeeper = fk_testkit::zookeeper();
    let gw = GatewayStack::start_with(StoreKind::S3, Some(zookeeper.connect.clone())).await;
    let zk = gw.client().await;
    let persistent = open(zkc::CreateMode::Persistent);

    // when: requests both answer alike, then one where the service differs
    zk.create("/o", b"x", &persistent).await.unwrap();
    zk.create("/o/s-", b"", &open(zkc::CreateMode::PersistentSequential))
        .await
        .unwrap();
    zk.get_data("/o").await.unwrap();
    zk.set_data("/o", b"y", Some(0)).await.unwrap();
    assert!(zk.set_data("/o", b"z", Some(0)).await.is_err());
    assert!(zk.check_stat("/o/missing").await.unwrap().is_none());
    zk.get_children("/o").await.unwrap();
    zk.delete("/o/s-0000000000", None).await.unwrap();
    let container = open(zkc::CreateMode::Container);
    assert_eq!(
        zk.create("/o/c", b"", &container).await.unwrap_err(),
        zkc::Error::Unimplemented
    );
    zk.sync("/o").await.unwrap();

    // then: exactly the container create is reported (the oracle compares
    // in the background: wait for all ten comparisons)
    let compared = eventually(Duration::from_secs(20), || async {
        gw.gateway.oracle_compared() >= 10
    })
    .await;
    let mismatches = gw.gateway.mismatches();
    assert!(compared, "{} compared", gw.gateway.oracle_compared());
    assert_eq!(gw.gateway.oracle_compared(), 10);
    assert_eq!(mismatches.len(), 1, "{mismatches:#?}");
    assert_eq!(mismatches[0].op, "createContainer");
    assert!(mismatches[0].ours.starts_with("-6 "), "{:?}", mismatches[0]);
    assert!(
        mismatches[0].oracle.starts_with("0 "),
        "{:?}",
        mismatches[0]
    );
    drop(zk);
    gw.stack.stop().await;
}
