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

/// The emulator's clients, their call counter and a new bucket.
async fn fresh_bucket() -> (fk_aws::clients::Clients, CallCounter, String) {
    let (clients, counter) = common::clients().await;
    let bucket = fk_testkit::unique_name("user");
    clients
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    (clients, counter, bucket)
}

/// A fresh bucket's store, and the counter of its calls.
async fn store_and_counter() -> (Arc<dyn UserStore>, CallCounter) {
    let (clients, counter, bucket) = fresh_bucket().await;
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
    let (clients, counter, bucket) = fresh_bucket().await;
    let store = S3UserStore::new(clients.s3.clone(), &bucket);

    // When the root gets its first child
    store
        .apply(1, &child("/", ChildChange::Added("app".into()), 1))
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
async fn any_path_is_the_same_object_to_the_lean_transport_and_to_the_sdk() {
    // Given a store on the lean transport and one on the SDK alone
    let (clients, counter, bucket) = fresh_bucket().await;
    let lean = S3UserStore::new(clients.s3.clone(), &bucket).with_lean(clients.lean_s3(&bucket));
    let sdk = S3UserStore::new(clients.s3.clone(), &bucket);
    for (i, name) in [
        "a b",
        "ü+é",
        "x%2Fy",
        "q?r#s&t=u",
        "~!$'()*,;:@[]",
        "tab\tend",
    ]
    .into_iter()
    .enumerate()
    {
        let p = format!("{}/{name}", path("odd"));
        counter.take();

        // When the lean store writes the node
        lean.apply(1, &create(&p, BINARY)).await.unwrap();

        // Then it is one PutObject (no fallback), and the SDK reads it at
        // the node's key
        assert_eq!(
            counter.take(),
            [("S3.PutObject".to_string(), 1)].into(),
            "{name}"
        );
        let node = sdk.get(&p).await.unwrap().expect("written");
        assert_eq!(node.data, Bytes::from_static(BINARY), "{name}");
        let object = clients
            .s3
            .head_object()
            .bucket(&bucket)
            .key(user::s3_object_key(&p))
            .send()
            .await
            .unwrap();
        assert_eq!(
            object
                .metadata()
                .unwrap()
                .get("fk-zxid")
                .map(String::as_str),
            Some("1")
        );

        // And what the SDK writes there, the lean store reads
        let set = UserWrite::SetData {
            path: p.clone(),
            data: Bytes::from(format!("v{i}")),
            stat: stat(2),
            in_flight: Default::default(),
        };
        sdk.apply(2, &set).await.unwrap();
        counter.take();
        let node = lean.get(&p).await.unwrap().expect("set");
        assert_eq!(node.data, Bytes::from(format!("v{i}")), "{name}");
        assert_eq!(counter.take(), [("S3.GetObject".to_string(), 1)].into());
    }
}

#[tokio::test]
async fn writes_cost_the_documented_calls() {
    let (store, counter) = store_and_counter().await;
    let p = path("calls");

    store.apply(1, &create(&p, BINARY)).await.unwrap();
    assert_eq!(counter.take(), [("S3.PutObject".to_string(), 1)].into());

    let set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"x"),
        stat: stat(1),
        in_flight: Default::default(),
    };
    store.apply(2, &set).await.unwrap();
    assert_eq!(
        counter.take(),
        [("S3.PutObject".to_string(), 1)].into(),
        "a node without children that this instance wrote is written without reading it"
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
    store.apply(3, &parent_set).await.unwrap();
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

    store
        .apply(4, &UserWrite::Delete { path: p })
        .await
        .unwrap();
    assert_eq!(
        counter.take(),
        [("S3.PutObject".to_string(), 1)].into(),
        "a delete leaves a tombstone"
    );
}

/// Two stores on one bucket: two distributor instances, the first one late.
/// The first puts and gets objects through the lean transport, the second
/// through the SDK alone, so each reads the other's ETags.
async fn two_instances() -> (S3UserStore, S3UserStore, CallCounter) {
    let (clients, counter, bucket) = fresh_bucket().await;
    let lean = clients.lean_s3(&bucket);
    assert!(lean.is_some());
    let first = S3UserStore::new(clients.s3.clone(), &bucket).with_lean(lean);
    let second = S3UserStore::new(clients.s3.clone(), &bucket);
    (first, second, counter)
}

#[tokio::test]
async fn an_instance_that_never_wrote_a_node_reads_its_head_before_replacing_it() {
    let (first, second, counter) = two_instances().await;
    let p = path("head");
    first.apply(1, &create(&p, BINARY)).await.unwrap();
    counter.take();

    let set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"x"),
        stat: stat(1),
        in_flight: Default::default(),
    };
    second.apply(2, &set).await.unwrap();

    assert_eq!(
        counter.take(),
        [
            ("S3.HeadObject".to_string(), 1),
            ("S3.PutObject".to_string(), 1)
        ]
        .into()
    );
    assert_eq!(second.get(&p).await.unwrap().unwrap().data, b"x".as_ref());
}

#[tokio::test]
async fn a_late_instance_does_not_overwrite_what_a_newer_one_wrote() {
    // Given a node the first instance created, that a second one then set
    let (first, second, _) = two_instances().await;
    let p = path("late");
    first.apply(1, &create(&p, b"v0")).await.unwrap();
    let set = |zxid: i64, data: &'static [u8]| UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(data),
        stat: stat(zxid as i32),
        in_flight: Default::default(),
    };
    second.apply(3, &set(3, b"v3")).await.unwrap();

    // When the first, whose ETag is stale, writes an older commit
    first.apply(2, &set(2, b"v2")).await.unwrap();
    // and a delete of an older commit arrives at it too
    first
        .apply(2, &UserWrite::Delete { path: p.clone() })
        .await
        .unwrap();

    // Then the newer write stands
    let node = first.get(&p).await.unwrap().unwrap();
    assert_eq!(node.data, Bytes::from_static(b"v3"));
    assert_eq!(node.stat, stat(3));
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
    store.apply(1, &write).await.unwrap();

    assert_eq!(store.get(&p).await.unwrap().unwrap().data, data);
}

#[tokio::test]
async fn a_sessions_consecutive_sets_of_one_node_in_a_batch_are_one_put() {
    // Given two nodes
    let (store, counter) = store_and_counter().await;
    let (p, q) = (path("sets-p"), path("sets-q"));
    store.apply(1, &create(&p, b"")).await.unwrap();
    store.apply(1, &create(&q, b"")).await.unwrap();
    counter.take();

    // When one session's batch sets it five times, then another node,
    // then it five times more
    let commits = common::user_contract::sets_around_another(&p, &q);
    store
        .apply_batch(&common::user_contract::as_batch(&commits, 1))
        .await
        .unwrap();

    // Then each run of sets is one PutObject (the fifth, then the tenth),
    // and q's is written between them
    assert_eq!(counter.take(), [("S3.PutObject".to_string(), 3)].into());
    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!((node.data, node.stat.version), (Bytes::from("v10"), 10));
    assert_eq!(
        store.get(&q).await.unwrap().unwrap().data,
        Bytes::from("v1")
    );
}
