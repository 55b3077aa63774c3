//! Bad input stays clean on every store: data at a store's limit is kept,
//! data over it, a path over the path limit, and a multi whose message
//! would not fit a queue are refused at once with `BadArguments`, and
//! nothing is lost or left locked.

use bytes::Bytes;
use fk_client::{Code, CreateMode};
use fk_core::path::MAX_PATH_LEN;
use fk_core::Op;
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

async fn limits_hold(store: StoreKind, max_data: usize) {
    let stack = Stack::start(StackOptions::new(store)).await;
    let zk = stack.client().await;
    let full = |byte: u8| vec![byte; max_data];

    // At the limit: created, and set to a full node again.
    zk.create("/big", &full(1), CreateMode::Persistent)
        .await
        .unwrap();
    let stat = zk.set_data("/big", &full(2), Some(0)).await.unwrap();
    assert_eq!(stat.version, 1);
    let (data, _) = zk.get_data("/big").await.unwrap();
    assert_eq!(data, full(2));

    // Over it: refused at once, the node unchanged.
    let over = vec![3u8; max_data + 1];
    assert_eq!(
        zk.set_data("/big", &over, None).await.unwrap_err(),
        Code::BadArguments
    );
    assert_eq!(
        zk.create("/bigger", &over, CreateMode::Persistent)
            .await
            .unwrap_err(),
        Code::BadArguments
    );

    // A path at the limit works; one byte more is refused, reads included.
    let long = format!("/{}", "l".repeat(MAX_PATH_LEN - 1));
    zk.create(&long, b"x", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(zk.get_data(&long).await.unwrap().0, b"x");
    let too_long = format!("{long}l");
    assert_eq!(
        zk.create(&too_long, b"x", CreateMode::Persistent)
            .await
            .unwrap_err(),
        Code::BadArguments
    );
    assert_eq!(zk.exists(&too_long).await.unwrap_err(), Code::BadArguments);
    let ten_kb = format!("/{}", "x".repeat(10_000));
    assert_eq!(
        zk.create(&ten_kb, b"", CreateMode::Persistent)
            .await
            .unwrap_err(),
        Code::BadArguments
    );

    // A multi of full sets whose message would pass 1 MiB: refused whole.
    let count = fk_core::message::MAX_MESSAGE_BYTES / max_data + 1;
    let sets: Vec<Op> = (0..count)
        .map(|i| Op::SetData {
            path: "/big".into(),
            data: Bytes::from(vec![4 + i as u8; max_data]),
            version: None,
        })
        .collect();
    let failure = zk.multi(sets).await.unwrap_err();
    assert_eq!(failure.error, Code::BadArguments);

    // Nothing was lost or left behind: the session still writes the node.
    let (data, stat) = zk.get_data("/big").await.unwrap();
    assert_eq!((data, stat.version), (full(2), 1));
    zk.set_data("/big", b"small", Some(1)).await.unwrap();
    zk.close().await.unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_limits_are_clean_errors() {
    limits_hold(StoreKind::S3, fk_aws::user::S3_MAX_DATA).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_limits_are_clean_errors() {
    limits_hold(StoreKind::Dynamodb, fk_aws::user::DYNAMODB_MAX_DATA).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_limits_are_clean_errors() {
    limits_hold(StoreKind::Redis, fk_aws::user::REDIS_MAX_DATA).await;
}
