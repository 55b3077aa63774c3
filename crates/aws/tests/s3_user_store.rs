//! S3UserStore against the emulator.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use fk_aws::calls::CallCounter;
use fk_aws::deployment::UserStoreConfig;
use fk_aws::user::{self, S3UserStore, S3_MAX_DATA};
use fk_core::user::{ChildChange, UserStore, UserWrite};
use fk_core::Stat;

use common::user_contract::{child, create, path, stat, BINARY};

/// A fresh bucket's store, and the counter of its calls.
async fn store_and_counter() -> (Arc<dyn UserStore>, CallCounter) {
    let (clients, counter) = common::clients().await;
    let bucket = fk_testkit::unique_name("user");
    clients
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let cfg = UserStoreConfig::S3 { bucket };
    let store = user::connect(&cfg, &clients, &counter).await.unwrap();
    counter.take();
    (store, counter)
}

async fn store() -> Arc<dyn UserStore> {
    store_and_counter().await.0
}

user_store_contract!(store().await);

#[tokio::test]
async fn a_node_is_one_object_under_n_plus_its_path() {
    // Given a bucket with a root child written
    let (clients, counter) = common::clients().await;
    let bucket = fk_testkit::unique_name("user");
    clients
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let store = S3UserStore::new(clients.s3.clone(), &bucket);

    // When the root gets its first child
    store
        .apply(&child("/", ChildChange::Added("app".into()), 1))
        .await
        .unwrap();

    // Then the object is n/, in the documented format
    let object = clients
        .s3
        .get_object()
        .bucket(&bucket)
        .key("n/")
        .send()
        .await
        .unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(body[0], 1);
    let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&body[5..5 + len]).unwrap();
    assert_eq!(header["children"], serde_json::json!(["app"]));
    assert_eq!(header["stat"]["cversion"], 1);
    assert_eq!(body.len(), 5 + len);
    assert!(counter.total() > 0);
}

#[tokio::test]
async fn writes_cost_the_documented_calls() {
    let (store, counter) = store_and_counter().await;
    let p = path("calls");

    store.apply(&create(&p, BINARY)).await.unwrap();
    assert_eq!(counter.take(), [("S3.PutObject".to_string(), 1)].into());

    let set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"x"),
        stat: stat(1),
        in_flight: Default::default(),
    };
    store.apply(&set).await.unwrap();
    assert_eq!(
        counter.take(),
        [("S3.PutObject".to_string(), 1)].into(),
        "a node without children is written without reading it"
    );

    let parent_set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"y"),
        stat: Stat {
            num_children: 1,
            ..stat(2)
        },
        in_flight: Default::default(),
    };
    store.apply(&parent_set).await.unwrap();
    assert_eq!(
        counter.take(),
        [
            ("S3.GetObject".to_string(), 1),
            ("S3.PutObject".to_string(), 1)
        ]
        .into(),
        "a node with children is read for them"
    );

    store.get(&p).await.unwrap();
    assert_eq!(counter.take(), [("S3.GetObject".to_string(), 1)].into());

    store.apply(&UserWrite::Delete { path: p }).await.unwrap();
    assert_eq!(counter.take(), [("S3.DeleteObject".to_string(), 1)].into());
}

#[tokio::test]
async fn it_holds_up_to_its_documented_maximum() {
    let store = store().await;
    assert_eq!(store.max_data_len(), S3_MAX_DATA);
    let p = path("big");
    let data = Bytes::from(vec![0xabu8; S3_MAX_DATA]);

    let write = UserWrite::Create {
        path: p.clone(),
        data: data.clone(),
        stat: stat(0),
        in_flight: Default::default(),
    };
    store.apply(&write).await.unwrap();

    assert_eq!(store.get(&p).await.unwrap().unwrap().data, data);
}
