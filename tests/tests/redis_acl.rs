//! The Redis store's split of rights, end to end: the deployment document
//! every client reads names a user that may read the store but not write
//! it, so no client can bypass the ordered write path.

use fk_aws::deployment::UserStoreConfig;
use fk_core::CreateMode;
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_the_redis_store_reads_through_its_user_and_cannot_write() {
    // Given a Redis stack and a node written through the service
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let zk = stack.client().await;
    zk.create("/acl", b"through the queue", CreateMode::Persistent)
        .await
        .unwrap();
    let (data, _) = zk.get_data("/acl").await.unwrap();
    assert_eq!(data, b"through the queue");

    // When something with the clients' credentials writes Redis directly
    let UserStoreConfig::Redis { url, prefix, .. } = &stack.deployment.user_store else {
        panic!("a redis deployment");
    };
    let raw = redis::Client::open(url.as_str()).unwrap();
    let mut conn = raw.get_multiplexed_async_connection().await.unwrap();
    let written: redis::RedisResult<i64> = redis::cmd("HSET")
        .arg(format!("{prefix}:n:/acl"))
        .arg("data")
        .arg("bypassed")
        .query_async(&mut conn)
        .await;

    // Then Redis refuses it and the node is unchanged
    let err = written.expect_err("the clients' user must not write");
    assert!(err.to_string().to_lowercase().contains("noperm"), "{err}");
    let (data, _) = zk.get_data("/acl").await.unwrap();
    assert_eq!(data, b"through the queue");
    stack.stop().await;
}
