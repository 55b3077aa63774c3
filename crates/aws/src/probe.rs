//! Cheap checks that a deployment's resources exist and that the caller
//! may use them: a client runs them at connect, so that a deployment
//! document that names a missing queue or table fails there, naming it,
//! instead of at the first write (or, for a wrong bucket, never: every
//! read would look like a missing node).
//!
//! Each check is one call that changes nothing and reads no node, and
//! needs no permission beyond the client's own (terraform/modules/iam,
//! `client`), except `sqs:GetQueueAttributes` on the writer queue, which
//! it grants for this.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use fk_core::StoreError;

use crate::errors::{self, DYNAMODB, SQS};
use crate::schema::{SYSTEM_KEY, USER_KEY};

/// The key of an item that never exists in the system or user table: node
/// paths start with `/`, and the counter is `#counter`.
const NO_ITEM: &str = "#probe";

/// The queue at `url` exists and the caller may read its attributes: one
/// GetQueueAttributes.
pub async fn queue(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<(), StoreError> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| errors::sdk(SQS, "GetQueueAttributes", e))?;
    Ok(())
}

/// The system table `table` exists and the caller may update it: one
/// UpdateItem whose condition never holds, so that it writes nothing.
pub async fn system_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), StoreError> {
    let result = dynamodb
        .update_item()
        .table_name(table)
        .key(SYSTEM_KEY, AttributeValue::S(NO_ITEM.into()))
        .update_expression("SET #a = :v")
        .condition_expression("attribute_exists(#k)")
        .expression_attribute_names("#k", SYSTEM_KEY)
        .expression_attribute_names("#a", "probe")
        .expression_attribute_values(":v", AttributeValue::Bool(true))
        .send()
        .await;
    errors::applied("UpdateItem", result).map(|_| ())
}

/// The user table `table` exists and the caller may read it: one
/// (eventually consistent) GetItem of an item that never exists.
pub async fn user_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), StoreError> {
    dynamodb
        .get_item()
        .table_name(table)
        .key(USER_KEY, AttributeValue::S(NO_ITEM.into()))
        .send()
        .await
        .map_err(|e| errors::sdk(DYNAMODB, "GetItem", e))?;
    Ok(())
}

/// The bucket exists and the caller may list it (which the client may, to
/// tell a missing node from a refused read): one HeadBucket. Its 404 has no
/// body, hence no error code: the status says it.
#[cfg(feature = "s3")]
pub async fn bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), StoreError> {
    use fk_core::FailureKind;

    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
            Err(StoreError::permanent(
                errors::S3,
                format!("HeadBucket failed with NotFound: no bucket {bucket}"),
            )
            .with_kind(FailureKind::MissingResource))
        }
        Err(e) => Err(errors::sdk(errors::S3, "HeadBucket", e)),
    }
}
