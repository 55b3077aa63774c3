//! DynamoUserStore against the emulator.

mod common;

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use fk_aws::calls::CallCounter;
use fk_aws::clients::Clients;
use fk_aws::deployment::UserStoreConfig;
use fk_aws::schema;
use fk_aws::user::{self, DynamoUserStore, DYNAMODB_MAX_DATA};
use fk_core::user::{ChildChange, UserStore, UserWrite};
use fk_core::Stat;

use common::user_contract::{a_child_each, as_batch, child, create, path, stat, BINARY};

/// A fresh table's store, its clients and the counter of its calls.
async fn fixture() -> (Arc<dyn UserStore>, Clients, CallCounter, String) {
    let (clients, counter) = common::clients().await;
    let table = fk_testkit::unique_name("user");
    let system = fk_testkit::unique_name("system");
    let sessions = fk_testkit::unique_name("sessions");
    schema::create_tables(&clients.dynamodb, &system, &sessions, Some(&table))
        .await
        .unwrap();
    let cfg = UserStoreConfig::Dynamodb {
        table: table.clone(),
    };
    let store = user::connect(&cfg, &clients, &counter).await.unwrap();
    counter.take();
    (store, clients, counter, table)
}

async fn store() -> Arc<dyn UserStore> {
    fixture().await.0
}

user_store_contract!(store().await);

/// A fresh table's store that writes through the SDK alone (the store
/// above writes through the lean transport first).
async fn sdk_store() -> Arc<dyn UserStore> {
    let (_, clients, _, table) = fixture().await;
    Arc::new(DynamoUserStore::new(clients.dynamodb.clone(), table))
}

mod through_the_sdk_alone {
    use super::*;

    user_store_contract!(sdk_store().await);
}

/// A node's item as stored, without its key.
async fn raw_item(
    clients: &Clients,
    table: &str,
    path: &str,
) -> std::collections::HashMap<String, AttributeValue> {
    let mut item = common::raw_item(clients, table, path).await.unwrap();
    item.remove("path");
    item
}

#[tokio::test]
async fn the_lean_transport_and_the_sdk_write_the_same_items() {
    // Given one table written by a store on the lean transport and by one
    // on the SDK alone, each on its own node
    let (lean, clients, counter, table) = fixture().await;
    let sdk = DynamoUserStore::new(clients.dynamodb.clone(), &table);
    let (a, b) = (path("lean"), path("sdk"));
    let with_children = Stat {
        num_children: 1,
        ..stat(2)
    };
    let in_flight = fk_core::watch::InFlight([("0x00000000000000ab".parse().unwrap(), 7)].into());
    let writes = |p: &str| {
        vec![
            create(p, BINARY),
            UserWrite::SetData {
                path: p.into(),
                data: Bytes::from_static(b""),
                stat: stat(1),
                in_flight: in_flight.clone(),
            },
            child(p, ChildChange::Added("c".into()), 1),
            UserWrite::SetData {
                path: p.into(),
                data: Bytes::from_static(b"y"),
                stat: with_children,
                in_flight: Default::default(),
            },
            child(p, ChildChange::Removed("c".into()), 2),
            UserWrite::Delete { path: p.into() },
        ]
    };
    for (zxid, (on_lean, on_sdk)) in writes(&a).iter().zip(writes(&b).iter()).enumerate() {
        let zxid = zxid as i64 + 1;
        counter.take();

        // When each applies the same write
        lean.apply(zxid, on_lean).await.unwrap();
        let lean_calls = counter.take();
        sdk.apply(zxid, on_sdk).await.unwrap();

        // Then the lean one made one call (no fallback) as the SDK did,
        // and both items are the same
        assert_eq!(lean_calls, counter.take(), "write {zxid}");
        assert_eq!(lean_calls.values().sum::<u64>(), 1, "write {zxid}");
        let (mut x, mut y) = (
            raw_item(&clients, &table, &a).await,
            raw_item(&clients, &table, &b).await,
        );
        // A tombstone's expiry is the clock's.
        x.remove("expiresAt");
        y.remove("expiresAt");
        assert_eq!(x, y, "write {zxid}");
    }

    // And an older write is refused by both alike, as an answer
    counter.take();
    lean.apply(1, &create(&a, BINARY)).await.unwrap();
    assert_eq!(counter.take(), [("DynamoDB.PutItem".to_string(), 1)].into());
    assert!(lean.get(&a).await.unwrap().is_none());
}

#[tokio::test]
async fn every_write_is_one_call() {
    let (store, _, counter, _) = fixture().await;
    let p = path("calls");
    let one = |op: &str| [(format!("DynamoDB.{op}"), 1u64)].into();

    store.apply(1, &create(&p, BINARY)).await.unwrap();
    assert_eq!(counter.take(), one("PutItem"));
    let set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"x"),
        stat: stat(1),
        in_flight: Default::default(),
    };
    store.apply(2, &set).await.unwrap();
    assert_eq!(
        counter.take(),
        one("PutItem"),
        "a childless node is replaced"
    );
    store
        .apply(3, &child(&p, ChildChange::Added("c".into()), 1))
        .await
        .unwrap();
    assert_eq!(counter.take(), one("UpdateItem"));
    let parent_set = UserWrite::SetData {
        path: p.clone(),
        data: Bytes::from_static(b"y"),
        stat: Stat {
            num_children: 1,
            ..stat(2)
        },
        in_flight: Default::default(),
    };
    store.apply(4, &parent_set).await.unwrap();
    assert_eq!(
        counter.take(),
        one("UpdateItem"),
        "a parent keeps its children"
    );
    store.get(&p).await.unwrap();
    assert_eq!(counter.take(), one("GetItem"));
    store
        .apply(5, &UserWrite::Delete { path: p })
        .await
        .unwrap();
    assert_eq!(
        counter.take(),
        one("PutItem"),
        "a delete leaves a tombstone"
    );
}

#[tokio::test]
async fn a_node_at_the_maximum_can_be_set_to_the_maximum_again() {
    // The old item's data must not count against the new one's size.
    let store = store().await;
    let p = path("big-set");
    let full = |byte: u8| Bytes::from(vec![byte; DYNAMODB_MAX_DATA]);
    let write = UserWrite::Create {
        path: p.clone(),
        data: full(1),
        stat: stat(0),
        in_flight: Default::default(),
    };
    store.apply(1, &write).await.unwrap();

    let set = UserWrite::SetData {
        path: p.clone(),
        data: full(2),
        stat: stat(1),
        in_flight: Default::default(),
    };
    store.apply(2, &set).await.unwrap();

    assert_eq!(store.get(&p).await.unwrap().unwrap().data, full(2));
}

#[tokio::test]
async fn the_item_holds_binary_data_a_stat_map_and_a_child_set() {
    let (store, clients, _, table) = fixture().await;
    let p = path("layout");
    store.apply(1, &create(&p, BINARY)).await.unwrap();
    store
        .apply(2, &child(&p, ChildChange::Added("c".into()), 1))
        .await
        .unwrap();

    let item = raw_item(&clients, &table, &p).await;

    assert_eq!(item["data"].as_b().unwrap().as_ref(), BINARY);
    assert_eq!(
        item["stat"].as_m().unwrap()["cversion"],
        AttributeValue::N("1".into())
    );
    assert_eq!(item["children"], AttributeValue::Ss(vec!["c".into()]));
}

#[tokio::test]
async fn it_holds_up_to_its_documented_maximum() {
    let store = store().await;
    assert_eq!(store.max_data_len(), DYNAMODB_MAX_DATA);
    let p = path("big");
    let data = Bytes::from(vec![0xcdu8; DYNAMODB_MAX_DATA]);

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
async fn a_batch_of_ten_commits_is_one_transaction() {
    // Given ten sessions' creates (each a node and its parent's child list)
    let (store, _, counter, _) = fixture().await;
    let parents: Vec<String> = (0..10).map(|i| path(&format!("batch{i}"))).collect();
    for p in &parents {
        store.apply(1, &create(p, b"")).await.unwrap();
    }
    counter.take();
    let commits = a_child_each(&parents);
    let batch = as_batch(&commits, commits.len());

    // When they are applied as one batch
    store.apply_batch(&batch).await.unwrap();

    // Then one transaction carried all twenty changes
    assert_eq!(
        counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
    );
    for p in &parents {
        assert_eq!(store.get(p).await.unwrap().unwrap().children, ["c"]);
    }
}

#[tokio::test]
async fn a_sessions_sets_of_one_node_in_a_batch_go_as_the_last_in_one_transaction() {
    // Given two nodes
    let (store, _, counter, _) = fixture().await;
    let (p, q) = (path("sets-p"), path("sets-q"));
    store.apply(1, &create(&p, b"")).await.unwrap();
    store.apply(1, &create(&q, b"")).await.unwrap();
    counter.take();

    // When a batch sets p ten times and q once between them (a
    // transaction may touch an item only once)
    let commits = common::user_contract::sets_around_another(&p, &q);
    store.apply_batch(&as_batch(&commits, 1)).await.unwrap();

    // Then one transaction wrote p's last set and q's
    assert_eq!(
        counter.take(),
        [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
    );
    let node = store.get(&p).await.unwrap().unwrap();
    assert_eq!((node.data, node.stat.version), (Bytes::from("v10"), 10));
    assert_eq!(
        store.get(&q).await.unwrap().unwrap().data,
        Bytes::from("v1")
    );
}
