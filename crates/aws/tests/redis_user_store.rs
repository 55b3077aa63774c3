//! RedisUserStore against a real Redis.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use fk_aws::calls::CallCounter;
use fk_aws::deployment::UserStoreConfig;
use fk_aws::user::{self, RedisUserStore, REDIS_MAX_DATA};
use fk_core::user::{ChildChange, UserStore, UserWrite};

use common::user_contract::{a_child_each, as_batch, child, create, path, stat, BINARY};

/// A store under a fresh key prefix, and the counter of its calls.
async fn store_and_counter() -> (Arc<dyn UserStore>, CallCounter) {
    let (clients, counter) = common::unused_clients().await;
    // The distributor's user: what the contract needs is what it may do.
    let cfg = UserStoreConfig::Redis {
        url: fk_testkit::redis().write_url.clone(),
        prefix: fk_testkit::unique_name("fk"),
        password_secret_arn: None,
    };
    let store = user::connect(&cfg, &clients, &counter).await.unwrap();
    (store, counter)
}

async fn store() -> Arc<dyn UserStore> {
    store_and_counter().await.0
}

user_store_contract!(store().await);

#[tokio::test]
async fn every_read_and_write_is_one_round_trip() {
    let (store, counter) = store_and_counter().await;
    let p = path("calls");
    let one = |call: &str| [(call.to_string(), 1u64)].into();

    store.apply(1, &create(&p, BINARY)).await.unwrap();
    assert_eq!(counter.take(), one("Redis.Script"));
    store
        .apply(2, &child(&p, ChildChange::Added("c".into()), 1))
        .await
        .unwrap();
    assert_eq!(counter.take(), one("Redis.Script"));
    store.get(&p).await.unwrap();
    assert_eq!(counter.take(), one("Redis.Pipeline"));
    store
        .apply(3, &UserWrite::Delete { path: p })
        .await
        .unwrap();
    assert_eq!(counter.take(), one("Redis.Script"));
}

#[tokio::test]
async fn keys_are_a_hash_and_a_child_set_under_the_prefix() {
    // Given a store under a known prefix
    let prefix = fk_testkit::unique_name("layout");
    let url = &fk_testkit::redis().url;
    let store = RedisUserStore::connect(url, &prefix, &CallCounter::new())
        .await
        .unwrap();

    // When a node with a child is written
    store.apply(1, &create("/a", BINARY)).await.unwrap();
    store
        .apply(2, &child("/a", ChildChange::Added("b".into()), 1))
        .await
        .unwrap();

    // Then Redis holds exactly the documented keys
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let data: Vec<u8> = redis::cmd("HGET")
        .arg(format!("{prefix}:n:/a"))
        .arg("data")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(data, BINARY);
    let children: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{prefix}:c:/a"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(children, vec!["b".to_string()]);
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");

    let err = RedisUserStore::connect(&url, "x", &CallCounter::new())
        .await
        .unwrap_err();

    assert!(err.retryable, "{err}");
}

#[tokio::test]
async fn it_holds_up_to_its_documented_maximum() {
    let store = store().await;
    assert_eq!(store.max_data_len(), REDIS_MAX_DATA);
    let p = path("big");
    let data = Bytes::from(vec![0xefu8; REDIS_MAX_DATA]);

    let write = UserWrite::Create {
        path: p.clone(),
        data: data.clone(),
        stat: stat(0),
        in_flight: Default::default(),
    };
    store.apply(1, &write).await.unwrap();

    assert_eq!(store.get(&p).await.unwrap().unwrap().data, data);
}

#[tokio::test]
async fn a_client_may_read_the_store_but_not_write_it() {
    // Given a node the distributor's user wrote
    let prefix = fk_testkit::unique_name("acl");
    let redis = fk_testkit::redis();
    let distributor = RedisUserStore::connect(&redis.write_url, &prefix, &CallCounter::new())
        .await
        .unwrap();
    distributor.apply(1, &create("/a", BINARY)).await.unwrap();

    // When a client connects as the clients' user
    let client = RedisUserStore::connect(&redis.read_url, &prefix, &CallCounter::new())
        .await
        .unwrap();

    // Then it reads the node, and every kind of write is refused, the
    // script and plain commands alike
    assert_eq!(client.get("/a").await.unwrap().unwrap().data, BINARY);
    let refused = client.apply(2, &create("/b", BINARY)).await.unwrap_err();
    assert!(
        refused.message.to_lowercase().contains("noperm"),
        "{refused}"
    );
    let raw = redis::Client::open(redis.read_url.as_str()).unwrap();
    let mut conn = raw.get_multiplexed_async_connection().await.unwrap();
    for attempt in [
        redis::cmd("HSET")
            .arg(format!("{prefix}:n:/a"))
            .arg("data")
            .arg("x")
            .clone(),
        redis::cmd("DEL").arg(format!("{prefix}:n:/a")).clone(),
        redis::cmd("SADD")
            .arg(format!("{prefix}:c:/a"))
            .arg("x")
            .clone(),
        redis::cmd("FLUSHALL").clone(),
    ] {
        let result: redis::RedisResult<redis::Value> = attempt.query_async(&mut conn).await;
        let err = result.expect_err("a client's write must be refused");
        assert!(err.to_string().to_lowercase().contains("noperm"), "{err}");
    }
    assert_eq!(distributor.get("/a").await.unwrap().unwrap().data, BINARY);
}

#[tokio::test]
async fn a_batch_of_commits_is_one_round_trip() {
    // Given ten commits, each a create and its parent's child list
    let (store, counter) = store_and_counter().await;
    let parents: Vec<String> = (0..10).map(|i| path(&format!("batch{i}"))).collect();
    let commits = a_child_each(&parents);
    let batch = as_batch(&commits, commits.len());
    counter.take();

    // When they are applied as one batch
    store.apply_batch(&batch).await.unwrap();

    // Then one MULTI/EXEC round trip applied all twenty changes
    assert_eq!(counter.take(), [("Redis.Script".to_string(), 1)].into());
    for p in &parents {
        assert_eq!(store.get(p).await.unwrap().unwrap().children, ["c"]);
    }
}
