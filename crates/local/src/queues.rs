//! FIFO queues with dead-letter queues, created idempotently.

use std::collections::HashMap;

use anyhow::Context as _;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata as _};
use aws_sdk_sqs::operation::create_queue::CreateQueueError;
use aws_sdk_sqs::types::QueueAttributeName as Attr;
use fk_core::message::MAX_MESSAGE_BYTES;

/// How long a dead-letter queue keeps messages: SQS's maximum, 14 days.
const DLQ_RETENTION_S: u32 = 14 * 24 * 3600;
/// Every queue is encrypted, by default with the AWS managed key (the
/// queues module's `kms_master_key_id`).
const SQS_MANAGED_KEY: &str = "alias/aws/sqs";

/// A FIFO queue and the dead-letter queue its redrive policy points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoQueue {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
    pub dlq_arn: String,
}

/// Creates (or updates to these settings) `<name>.fifo` and its DLQ
/// `<name>-dlq.fifo`. No content-based deduplication: senders give explicit
/// deduplication ids. After `max_receive_count` receives without a delete a
/// message moves to the DLQ.
pub async fn fifo_with_dlq(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    visibility_timeout_s: i32,
    max_receive_count: i32,
) -> anyhow::Result<FifoQueue> {
    let dlq_url = ensure(
        sqs,
        &format!("{name}-dlq.fifo"),
        HashMap::from([
            (Attr::FifoQueue, "true".to_owned()),
            (Attr::ContentBasedDeduplication, "false".to_owned()),
            (Attr::MessageRetentionPeriod, DLQ_RETENTION_S.to_string()),
            (Attr::MaximumMessageSize, MAX_MESSAGE_BYTES.to_string()),
            (Attr::KmsMasterKeyId, SQS_MANAGED_KEY.to_owned()),
        ]),
    )
    .await?;
    let dlq_arn = arn(sqs, &dlq_url).await?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receive_count.to_string(),
    });
    let url = ensure(
        sqs,
        &format!("{name}.fifo"),
        HashMap::from([
            (Attr::FifoQueue, "true".to_owned()),
            (Attr::ContentBasedDeduplication, "false".to_owned()),
            (Attr::VisibilityTimeout, visibility_timeout_s.to_string()),
            (Attr::RedrivePolicy, redrive.to_string()),
            (Attr::MaximumMessageSize, MAX_MESSAGE_BYTES.to_string()),
            (Attr::KmsMasterKeyId, SQS_MANAGED_KEY.to_owned()),
        ]),
    )
    .await?;
    let arn = arn(sqs, &url).await?;
    Ok(FifoQueue {
        url,
        arn,
        dlq_url,
        dlq_arn,
    })
}

/// Creates `name` with `attributes`, or, if it exists with other settings,
/// sets them (`FifoQueue` cannot change, so it is left out).
async fn ensure(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attributes: HashMap<Attr, String>,
) -> anyhow::Result<String> {
    let created = sqs
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes.clone()))
        .send()
        .await;
    match created {
        Ok(out) => out.queue_url.context("CreateQueue returned no URL"),
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(CreateQueueError::QueueNameExists(_))
            ) || err.code() == Some("QueueAlreadyExists") =>
        {
            let url = sqs
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("GetQueueUrl {name}: {}", DisplayErrorContext(e)))?
                .queue_url
                .context("GetQueueUrl returned no URL")?;
            let mut changeable = attributes;
            changeable.remove(&Attr::FifoQueue);
            sqs.set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(changeable))
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("SetQueueAttributes {name}: {}", DisplayErrorContext(e))
                })?;
            Ok(url)
        }
        Err(err) => Err(anyhow::anyhow!(
            "CreateQueue {name}: {}",
            DisplayErrorContext(err)
        )),
    }
}

/// The queue's ARN.
pub async fn arn(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(Attr::QueueArn)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GetQueueAttributes {url}: {}", DisplayErrorContext(e)))?
        .attributes
        .and_then(|mut a| a.remove(&Attr::QueueArn))
        .with_context(|| format!("{url} has no QueueArn attribute"))
}
