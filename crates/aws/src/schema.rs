//! The DynamoDB tables' key attributes, and creating the tables (the local
//! runner's provisioning and the tests; Terraform declares the same keys).

use std::time::Duration;

use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
    ScalarAttributeType, SseSpecification, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use fk_core::StoreError;

use crate::errors::{self, DYNAMODB};

/// Partition key (S) of the system table: the node path, or `#counter`.
pub const SYSTEM_KEY: &str = "path";
/// Partition key (S) of the sessions table: the session id, `0x…`.
pub const SESSIONS_KEY: &str = "session";
/// Partition key (S) of the DynamoDB user table: the node path.
pub const USER_KEY: &str = "path";
/// The user table's time-to-live attribute (N, epoch seconds): a deleted
/// node's tombstone expires (crates/aws/src/user/dynamodb.rs).
pub const USER_EXPIRES_AT: &str = "expiresAt";

/// Creates the system, sessions and (if named) user tables unless they
/// exist, as terraform/modules/system-storage and user-storage-dynamodb
/// declare them (tests/tests/terraform.rs compares the two): on-demand
/// billing, encrypted with the AWS managed key, point-in-time recovery, and
/// the user table's time to live; returns when all are active.
pub async fn create_tables(
    client: &aws_sdk_dynamodb::Client,
    system: &str,
    sessions: &str,
    user: Option<&str>,
) -> Result<(), StoreError> {
    let mut tables = vec![(system, SYSTEM_KEY), (sessions, SESSIONS_KEY)];
    tables.extend(user.map(|u| (u, USER_KEY)));
    for &(table, key) in &tables {
        create_table(client, table, key).await?;
    }
    for &(table, _) in &tables {
        wait_active(client, table).await?;
        client
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(built)?,
            )
            .send()
            .await
            .map_err(|e| errors::sdk(DYNAMODB, "UpdateContinuousBackups", e))?;
    }
    if let Some(user) = user {
        enable_time_to_live(client, user).await?;
    }
    Ok(())
}

fn built(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::permanent(DYNAMODB, e.to_string())
}

/// Turns on `USER_EXPIRES_AT` expiry, unless it is on already (DynamoDB
/// refuses to enable it twice).
async fn enable_time_to_live(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), StoreError> {
    let described = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| errors::sdk(DYNAMODB, "DescribeTimeToLive", e))?;
    let on = described.time_to_live_description().is_some_and(|d| {
        d.attribute_name() == Some(USER_EXPIRES_AT)
            && matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            )
    });
    if on {
        return Ok(());
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(USER_EXPIRES_AT)
                .enabled(true)
                .build()
                .map_err(built)?,
        )
        .send()
        .await
        .map_err(|e| errors::sdk(DYNAMODB, "UpdateTimeToLive", e))?;
    Ok(())
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
) -> Result<(), StoreError> {
    let result = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(built)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .map_err(built)?,
        )
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(CreateTableError::ResourceInUseException(_))
            ) =>
        {
            Ok(())
        }
        Err(err) => Err(errors::sdk(DYNAMODB, "CreateTable", err)),
    }
}

/// Waits (at most a minute) until `table` is active. The emulator creates
/// tables active; real DynamoDB takes a few seconds.
async fn wait_active(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), StoreError> {
    for _ in 0..120 {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| errors::sdk(DYNAMODB, "DescribeTable", e))?;
        let status = out.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(StoreError::transient(
        DYNAMODB,
        format!("table {table} did not become active within a minute"),
    ))
}
