//! Shared set-up: clients against the test emulator, counting calls.
#![allow(dead_code)] // Each test file uses part of this.

use fk_aws::calls::CallCounter;
use fk_aws::clients::{sdk_config, Clients};

pub const REGION: &str = "us-east-1";

/// Clients for the emulator, and the counter they report to.
pub async fn clients() -> (Clients, CallCounter) {
    let moto = fk_testkit::moto();
    let sdk = sdk_config(Some(&moto.endpoint), REGION).await;
    let counter = CallCounter::new();
    (Clients::new(&sdk, &counter), counter)
}

pub mod user_contract;

/// Clients that are never called (for stores that need none), so the
/// emulator is not started for nothing.
pub async fn unused_clients() -> (Clients, CallCounter) {
    let sdk = sdk_config(Some("http://127.0.0.1:9"), REGION).await;
    let counter = CallCounter::new();
    (Clients::new(&sdk, &counter), counter)
}

/// The item at `path` (its key) in `table`, read behind the stores' backs
/// with a consistent GetItem.
pub async fn raw_item(
    clients: &Clients,
    table: &str,
    path: &str,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    clients
        .dynamodb
        .get_item()
        .table_name(table)
        .key(
            "path",
            aws_sdk_dynamodb::types::AttributeValue::S(path.into()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}
