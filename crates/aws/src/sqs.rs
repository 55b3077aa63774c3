//! SQS: the distributor queue ([`SqsCommitQueue`]), replies to a session's
//! queue ([`SqsReplySink`], [`ReplyQueue`]), and reading the records Lambda
//! hands a function ([`envelope_from_event`], [`bury`]).
//!
//! Every queue is FIFO with explicit deduplication ids. A message is an
//! [`Envelope`]: the JSON body as the message body, the binary payload (if
//! any) as the `Binary` attribute [`PAYLOAD_ATTRIBUTE`].

use std::collections::HashMap;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use bytes::Bytes;
use fk_core::message::BundleEntry;
use fk_core::message::{Message, MAX_MESSAGE_BYTES, PAYLOAD_ATTRIBUTE};
use fk_core::watch::{Notification, NotificationSink, WatchBatch, WatchQueue};
use fk_core::{
    CommitBundle, CommitQueue, CommitRequest, Envelope, Outgoing, Reply, ReplySink, StoreError,
    WriteQueue, WriteRequest,
};
use tracing::Instrument as _;

use crate::errors::{self, SQS};
use crate::lean::LeanClient;
use base64::Engine as _;

/// The message group of the distributor queue: one group, one total order.
pub const COMMIT_GROUP: &str = "commits";
/// The attribute [`bury`] adds to say why a record was unreadable.
pub const ERROR_ATTRIBUTE: &str = "fk_error";

fn attribute_error(e: aws_sdk_sqs::error::BuildError) -> StoreError {
    StoreError::permanent(SQS, format!("building a message attribute: {e}"))
}

fn binary_attribute(data: &[u8]) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("Binary")
        .binary_value(Blob::new(data))
        .build()
        .map_err(attribute_error)
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(attribute_error)
}

/// Sends `envelope` to a FIFO queue: one SendMessage, in its own
/// producer span ([`send_span`]).
pub async fn send(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    group: &str,
    dedup_id: &str,
    envelope: &Envelope,
) -> Result<(), StoreError> {
    send_message(client, None, queue_url, group, dedup_id, envelope)
        .instrument(send_span(&tracing::Span::current(), queue_url, group))
        .await
}

/// The producer span of a message sent to `queue_url`, a child of
/// `parent`: its consumer's span becomes a child of it.
fn send_span(parent: &tracing::Span, queue_url: &str, group: &str) -> tracing::Span {
    producer_span(parent, queue_url, group, "SendMessage")
}

fn producer_span(
    parent: &tracing::Span,
    queue_url: &str,
    group: &str,
    operation: &'static str,
) -> tracing::Span {
    let queue = queue_name(queue_url);
    tracing::info_span!(
        parent: parent,
        "send",
        otel.name = format!("send {queue}"),
        otel.kind = "producer",
        messaging.system = "aws_sqs",
        messaging.operation.type = "send",
        messaging.operation.name = operation,
        messaging.destination.name = queue,
        messaging.message.conversation_id = group,
        messaging.batch.message_count = tracing::field::Empty,
    )
}

/// One SendMessage with the current span's trace context in its
/// attributes. An empty payload travels as no attribute (SQS rejects
/// empty values). Through `lean` first when there is one; by the SDK when
/// that gets no answer (the deduplication id makes a second copy none).
async fn send_message(
    client: &aws_sdk_sqs::Client,
    lean: Option<&LeanClient>,
    queue_url: &str,
    group: &str,
    dedup_id: &str,
    envelope: &Envelope,
) -> Result<(), StoreError> {
    if let Some(lean) = lean {
        if lean_send_message(lean, queue_url, group, dedup_id, envelope).await {
            return Ok(());
        }
    }
    let mut request = client
        .send_message()
        .queue_url(queue_url)
        .message_body(&envelope.body)
        .message_group_id(group)
        .message_deduplication_id(dedup_id);
    if let Some(payload) = envelope.payload.as_ref().filter(|p| !p.is_empty()) {
        request = request.message_attributes(PAYLOAD_ATTRIBUTE, binary_attribute(payload)?);
    }
    for (name, value) in fk_telemetry::inject() {
        request = request.message_attributes(name, string_attribute(&value)?);
    }
    request
        .send()
        .await
        .map_err(|e| errors::sdk(SQS, "SendMessage", e))?;
    Ok(())
}

/// A queue's name: the last segment of its URL.
pub fn queue_name(queue_url: &str) -> &str {
    queue_url.rsplit('/').next().unwrap_or(queue_url)
}

/// The trace context a received record carries in its message attributes.
pub fn trace_attribute<'a>(msg: &'a SqsMessage, name: &str) -> Option<&'a str> {
    msg.message_attributes
        .get(name)
        .and_then(|a| a.string_value.as_deref())
}

/// The distributor queue.
#[derive(Debug, Clone)]
pub struct SqsCommitQueue {
    client: aws_sdk_sqs::Client,
    /// The fast path of a push ([`crate::lean`]), if any.
    lean: Option<LeanClient>,
    queue_url: String,
}

impl SqsCommitQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsCommitQueue {
            client,
            lean: None,
            queue_url: queue_url.into(),
        }
    }

    /// Pushes through `lean` first (the SDK sends a push when `lean` gets
    /// no answer).
    pub fn with_lean(mut self, lean: Option<LeanClient>) -> Self {
        self.lean = lean;
        self
    }
}

#[async_trait]
impl CommitQueue for SqsCommitQueue {
    /// One SendMessage in group [`COMMIT_GROUP`], deduplicated by token.
    async fn push(&self, commit: &CommitRequest) -> Result<(), StoreError> {
        send_message(
            &self.client,
            self.lean.as_ref(),
            &self.queue_url,
            COMMIT_GROUP,
            &commit.token,
            &commit.encode(),
        )
        .instrument(send_span(
            &tracing::Span::current(),
            &self.queue_url,
            COMMIT_GROUP,
        ))
        .await
    }

    /// The requests in order as few messages as fit (one, unless their
    /// data passes SQS's 1 MiB), each a [`CommitBundle`]: one SendMessage
    /// for a writer batch, so that the one message group's quota of calls
    /// carries up to ten writes a call, and a distributor invocation of
    /// ten messages up to a hundred. Each request has its own send span,
    /// whose trace context its entry carries; a bundle of one goes as a
    /// single commit, as [`push`] sends it.
    ///
    /// [`push`]: CommitQueue::push
    async fn push_batch(&self, batch: &[Outgoing]) -> Result<(), StoreError> {
        let spans: Vec<tracing::Span> = batch
            .iter()
            .map(|out| send_span(&out.span, &self.queue_url, COMMIT_GROUP))
            .collect();
        let entries: Vec<BundleEntry> = batch
            .iter()
            .zip(&spans)
            .map(|(out, span)| {
                CommitBundle::entry(&out.commit, &span.in_scope(fk_telemetry::inject))
            })
            .collect();
        let mut start = 0;
        while start < batch.len() {
            let mut end = start + 1;
            let mut size = CommitBundle::OVERHEAD + entries[start].size();
            while end < batch.len() && size + entries[end].size() <= MAX_MESSAGE_BYTES {
                size += entries[end].size();
                end += 1;
            }
            let commits = batch[start..end].iter().map(|out| &out.commit);
            let (dedup_id, envelope) = if end - start == 1 {
                (
                    batch[start].commit.token.clone(),
                    batch[start].commit.encode(),
                )
            } else {
                (
                    CommitBundle::dedup_id(commits),
                    CommitBundle::envelope(&entries[start..end]),
                )
            };
            if end - start > 1 {
                for span in &spans[start..end] {
                    span.record("messaging.batch.message_count", end - start);
                }
            }
            // The one call shows in every request's trace.
            let sent = send_message(
                &self.client,
                self.lean.as_ref(),
                &self.queue_url,
                COMMIT_GROUP,
                &dedup_id,
                &envelope,
            );
            fk_core::spans::in_all(spans[start..end].to_vec(), sent).await?;
            start = end;
        }
        Ok(())
    }
}

/// Replies to the session queues clients name in `reply_to`.
#[derive(Debug, Clone)]
pub struct SqsReplySink {
    client: aws_sdk_sqs::Client,
    /// The fast path of a single reply ([`crate::lean`]), if any.
    lean: Option<LeanClient>,
}

impl SqsReplySink {
    pub fn new(client: aws_sdk_sqs::Client) -> Self {
        SqsReplySink { client, lean: None }
    }

    /// Sends single replies through `lean` first (the SDK's client sends
    /// batches, and a reply when `lean` gives no answer).
    pub fn with_lean(mut self, lean: Option<LeanClient>) -> Self {
        self.lean = lean;
        self
    }
}

/// One SendMessage through the lean transport, with the same body,
/// payload and trace context as the SDK's in [`send_message`]. `false`
/// when it gave no success, and the SDK sends it instead (the
/// deduplication id makes a second copy none).
async fn lean_send_message(
    lean: &LeanClient,
    queue_url: &str,
    group: &str,
    dedup_id: &str,
    envelope: &Envelope,
) -> bool {
    let mut attributes: serde_json::Map<String, serde_json::Value> = fk_telemetry::inject()
        .into_iter()
        .map(|(name, value)| {
            let value = serde_json::json!({"DataType": "String", "StringValue": value});
            (name, value)
        })
        .collect();
    if let Some(payload) = envelope.payload.as_ref().filter(|p| !p.is_empty()) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(payload);
        attributes.insert(
            PAYLOAD_ATTRIBUTE.to_string(),
            serde_json::json!({"DataType": "Binary", "BinaryValue": encoded}),
        );
    }
    let mut body = serde_json::json!({
        "QueueUrl": queue_url,
        "MessageBody": envelope.body,
        "MessageGroupId": group,
        "MessageDeduplicationId": dedup_id,
    });
    if !attributes.is_empty() {
        body["MessageAttributes"] = serde_json::Value::Object(attributes);
    }
    match lean.call("SendMessage", &body).await {
        Ok(answer) if answer.status == 200 && answer.body.get("MessageId").is_some() => true,
        Ok(answer) => {
            lean.fell_back("SendMessage", &answer.describe());
            false
        }
        Err(why) => {
            lean.fell_back("SendMessage", &why);
            false
        }
    }
}

#[async_trait]
impl ReplySink for SqsReplySink {
    /// One SendMessage, grouped by session, deduplicated by
    /// `<session>-<seq>`: through the lean transport when there is one,
    /// by the SDK when that gets no answer.
    async fn reply(&self, reply_to: &str, reply: &Reply) -> Result<(), StoreError> {
        let group = reply.session.to_string();
        let dedup = format!("{}-{}", reply.session, reply.seq);
        let envelope = reply.encode();
        let lean = self.lean.as_ref();
        send_message(&self.client, lean, reply_to, &group, &dedup, &envelope)
            .instrument(send_span(&tracing::Span::current(), reply_to, &group))
            .await
    }

    /// One SendMessageBatch per ten replies (and 1 MiB), in order: within
    /// the session's message group SQS keeps a batch's order. Each entry
    /// has its own producer span, a child of the reply's.
    async fn reply_batch(
        &self,
        reply_to: &str,
        replies: &[(Reply, tracing::Span)],
    ) -> Result<(), StoreError> {
        let envelopes: Vec<Envelope> = replies.iter().map(|(reply, _)| reply.encode()).collect();
        let mut start = 0;
        while start < replies.len() {
            let end = start + batch_len(&envelopes[start..]);
            if end - start == 1 {
                let (reply, span) = &replies[start];
                self.reply(reply_to, reply).instrument(span.clone()).await?;
            } else {
                self.send_replies(reply_to, &replies[start..end], &envelopes[start..end])
                    .await?;
            }
            start = end;
        }
        Ok(())
    }

    /// One DeleteQueue; a queue already gone is fine.
    async fn discard(&self, reply_to: &str) -> Result<(), StoreError> {
        match self.client.delete_queue().queue_url(reply_to).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let error = errors::sdk(SQS, "DeleteQueue", e);
                if error.retryable {
                    Err(error)
                } else {
                    tracing::info!(%error, reply_to, "reply queue already gone");
                    Ok(())
                }
            }
        }
    }
}

/// SQS's limit on the entries of one SendMessageBatch.
pub const MAX_BATCH_ENTRIES: usize = 10;

/// How many of `envelopes`, from the first, one SendMessageBatch takes:
/// at most ten, and 1 MiB in all (at least one, which fits by itself).
fn batch_len(envelopes: &[Envelope]) -> usize {
    let mut size = 0;
    let mut len = 0;
    for envelope in envelopes.iter().take(MAX_BATCH_ENTRIES) {
        size += envelope.queue_size();
        if len > 0 && size > MAX_MESSAGE_BYTES {
            break;
        }
        len += 1;
    }
    len
}

/// One message of a [`send_batch`].
pub struct BatchEntry<'a> {
    pub dedup_id: String,
    pub envelope: &'a Envelope,
    /// The span the message's producer span is a child of.
    pub parent: &'a tracing::Span,
}

/// Sends `entries` (no more than [`batch_len`] allows) to a FIFO queue in
/// `group` with one SendMessageBatch: SQS keeps their order within the
/// group. Each message has its own producer span, a child of its entry's
/// `parent`, and carries that span's trace context. `Err` if the call
/// failed; otherwise what SQS did with each entry, in order: a refused
/// entry was not queued.
pub async fn send_batch(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    group: &str,
    entries: &[BatchEntry<'_>],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let spans: Vec<tracing::Span> = entries
        .iter()
        .map(|e| producer_span(e.parent, queue_url, group, "SendMessageBatch"))
        .collect();
    let mut requests = Vec::with_capacity(entries.len());
    for (i, (entry, span)) in entries.iter().zip(&spans).enumerate() {
        let mut request = SendMessageBatchRequestEntry::builder()
            .id(i.to_string())
            .message_body(&entry.envelope.body)
            .message_group_id(group)
            .message_deduplication_id(&entry.dedup_id);
        if let Some(payload) = entry.envelope.payload.as_ref().filter(|p| !p.is_empty()) {
            request = request.message_attributes(PAYLOAD_ATTRIBUTE, binary_attribute(payload)?);
        }
        for (name, value) in span.in_scope(fk_telemetry::inject) {
            request = request.message_attributes(name, string_attribute(&value)?);
        }
        requests.push(request.build().map_err(attribute_error)?);
        span.record("messaging.batch.message_count", entries.len());
    }
    let call = client
        .send_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(requests))
        .send();
    let out = fk_core::spans::in_all(spans, call)
        .await
        .map_err(|e| errors::sdk(SQS, "SendMessageBatch", e))?;
    let mut outcomes: Vec<Result<(), StoreError>> = (0..entries.len()).map(|_| Ok(())).collect();
    for failed in out.failed() {
        let refusal = StoreError::transient(
            SQS,
            format!(
                "SendMessageBatch refused the message: {}: {}",
                failed.code(),
                failed.message().unwrap_or("no message")
            ),
        );
        if let Some(outcome) = failed
            .id()
            .parse::<usize>()
            .ok()
            .and_then(|i| outcomes.get_mut(i))
        {
            *outcome = Err(refusal);
        }
    }
    Ok(outcomes)
}

impl SqsReplySink {
    /// One SendMessageBatch of a session's replies. An entry SQS refuses
    /// fails the call: the distributor's batch comes again, and the
    /// replies that went through are deduplicated by `<session>-<seq>`.
    async fn send_replies(
        &self,
        reply_to: &str,
        replies: &[(Reply, tracing::Span)],
        envelopes: &[Envelope],
    ) -> Result<(), StoreError> {
        let group = replies[0].0.session.to_string();
        let entries: Vec<BatchEntry> = replies
            .iter()
            .zip(envelopes)
            .map(|((reply, span), envelope)| BatchEntry {
                dedup_id: format!("{}-{}", reply.session, reply.seq),
                envelope,
                parent: span,
            })
            .collect();
        let outcomes = send_batch(&self.client, reply_to, &group, &entries).await?;
        let refused: Vec<StoreError> = outcomes.into_iter().filter_map(Result::err).collect();
        if let Some(first) = refused.first() {
            return Err(StoreError::transient(
                SQS,
                format!(
                    "{} of {} replies refused, the first: {first}",
                    refused.len(),
                    replies.len()
                ),
            ));
        }
        Ok(())
    }
}

/// The writer queue: one FIFO group per session.
/// The FIFO message group of the watch queue: one total order of events.
pub const WATCH_GROUP: &str = "watches";

/// The watch queue: one message per commit that fires watches,
/// deduplicated by zxid.
#[derive(Debug, Clone)]
pub struct SqsWatchQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsWatchQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsWatchQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl WatchQueue for SqsWatchQueue {
    async fn push(&self, batch: &WatchBatch) -> Result<(), StoreError> {
        let dedup = format!("zxid-{}", batch.zxid);
        send(
            &self.client,
            &self.queue_url,
            WATCH_GROUP,
            &dedup,
            &batch.encode(),
        )
        .await
    }
}

/// Notifications go to the session's reply queue, in the session's group
/// (after and before its replies, in the order they are sent).
#[async_trait]
impl NotificationSink for SqsReplySink {
    async fn notify(&self, reply_to: &str, notification: &Notification) -> Result<(), StoreError> {
        let group = notification.session.to_string();
        let dedup = format!("{}-w{}", notification.session, notification.zxid);
        send(
            &self.client,
            reply_to,
            &group,
            &dedup,
            &notification.encode(),
        )
        .await
    }
}

pub struct SqsWriteQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsWriteQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsWriteQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl WriteQueue for SqsWriteQueue {
    /// One SendMessage in the session's group, deduplicated by token.
    async fn send(&self, request: &WriteRequest) -> Result<(), StoreError> {
        send(
            &self.client,
            &self.queue_url,
            &request.session.to_string(),
            &request.token(),
            &request.encode(),
        )
        .await
    }
}

/// A record Lambda delivered, as the envelope it was sent as.
pub fn envelope_from_event(msg: &SqsMessage) -> Envelope {
    let payload = msg
        .message_attributes
        .get(PAYLOAD_ATTRIBUTE)
        .and_then(|a| a.binary_value.as_ref())
        .map(|b| Bytes::copy_from_slice(&b.0));
    Envelope {
        body: msg.body.clone().unwrap_or_default(),
        payload,
    }
}

/// How many times the record has been delivered (1 the first time).
pub fn receive_count(msg: &SqsMessage) -> u32 {
    msg.attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Moves an unreadable record to the FIFO dead-letter queue `dlq_url`, with
/// its attributes and [`ERROR_ATTRIBUTE`] = `reason`: one SendMessage. The
/// group is the record's own (or `poison`), the dedup id its message id.
pub async fn bury(
    client: &aws_sdk_sqs::Client,
    dlq_url: &str,
    msg: &SqsMessage,
    reason: &str,
) -> Result<(), StoreError> {
    let group = msg
        .attributes
        .get("MessageGroupId")
        .map(String::as_str)
        .unwrap_or("poison");
    let dedup = msg
        .message_id
        .clone()
        .or_else(|| msg.md5_of_body.clone())
        .unwrap_or_else(|| "unknown".to_string());
    let body = msg.body.as_deref().filter(|b| !b.is_empty()).unwrap_or("-");
    let mut attributes = HashMap::new();
    for (name, attr) in &msg.message_attributes {
        if name == ERROR_ATTRIBUTE {
            continue;
        }
        if let Some(binary) = attr.binary_value.as_ref().filter(|b| !b.0.is_empty()) {
            attributes.insert(name.clone(), binary_attribute(&binary.0)?);
        } else if let Some(text) = attr.string_value.as_deref().filter(|s| !s.is_empty()) {
            attributes.insert(name.clone(), string_attribute(text)?);
        }
    }
    // Attributes count toward the message size limit: a long reason must
    // never be why a burial fails.
    let reason: String = reason.chars().take(1024).collect();
    attributes.insert(ERROR_ATTRIBUTE.to_string(), string_attribute(&reason)?);
    client
        .send_message()
        .queue_url(dlq_url)
        .message_body(body)
        .message_group_id(group)
        .message_deduplication_id(dedup)
        .set_message_attributes(Some(attributes))
        .send()
        .await
        .map_err(|e| errors::sdk(SQS, "SendMessage", e))?;
    Ok(())
}

/// The message group of [`ReplyQueue::wake`]'s messages.
const WAKE_GROUP: &str = "wake";
/// The field of a wake-up message's body that holds its token.
const WAKE_FIELD: &str = "wake";

/// The token of a message [`ReplyQueue::wake`] sent; `None` for any other
/// message (a reply, a notification).
pub fn wake_token(envelope: &Envelope) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(&envelope.body).ok()?;
    value.get(WAKE_FIELD)?.as_str().map(str::to_string)
}

/// A message received on a session's queue.
#[derive(Debug, Clone)]
pub struct Received {
    pub envelope: Envelope,
    /// The trace context it carries (`traceparent`, `tracestate`).
    pub trace: HashMap<String, String>,
}

/// A session's reply queue (FIFO), created by the client at session start.
#[derive(Debug, Clone)]
pub struct ReplyQueue {
    pub url: String,
    client: aws_sdk_sqs::Client,
}

impl ReplyQueue {
    /// Creates the FIFO queue `name` (`.fifo` is added if missing), or
    /// opens it if it exists: one CreateQueue.
    pub async fn create(client: aws_sdk_sqs::Client, name: &str) -> Result<Self, StoreError> {
        let name = if name.ends_with(".fifo") {
            name.to_string()
        } else {
            format!("{name}.fifo")
        };
        let out = client
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .map_err(|e| errors::sdk(SQS, "CreateQueue", e))?;
        let url = out
            .queue_url()
            .ok_or_else(|| StoreError::permanent(SQS, "CreateQueue returned no URL"))?
            .to_string();
        Ok(ReplyQueue { url, client })
    }

    /// The existing queue at `url` (a session carried over from another
    /// process); makes no call.
    pub fn open(client: aws_sdk_sqs::Client, url: &str) -> Self {
        ReplyQueue {
            url: url.to_string(),
            client,
        }
    }

    /// Waits up to `wait_seconds` (long poll) for up to 10 messages, and
    /// deletes what it received: one ReceiveMessage, plus one
    /// DeleteMessageBatch when something came.
    pub async fn receive(&self, wait_seconds: i32) -> Result<Vec<Envelope>, StoreError> {
        let received = self.receive_traced(wait_seconds).await?;
        Ok(received.into_iter().map(|r| r.envelope).collect())
    }

    /// [`receive`](Self::receive), with the trace context each message
    /// carries.
    pub async fn receive_traced(&self, wait_seconds: i32) -> Result<Vec<Received>, StoreError> {
        let mut request = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .message_attribute_names(PAYLOAD_ATTRIBUTE);
        for name in fk_telemetry::TRACE_ATTRIBUTES {
            request = request.message_attribute_names(name);
        }
        let out = request
            .send()
            .await
            .map_err(|e| errors::sdk(SQS, "ReceiveMessage", e))?;
        let messages = out.messages();
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut envelopes = Vec::with_capacity(messages.len());
        let mut deletes = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            let payload = m
                .message_attributes()
                .and_then(|a| a.get(PAYLOAD_ATTRIBUTE))
                .and_then(|a| a.binary_value())
                .map(|b| Bytes::copy_from_slice(b.as_ref()));
            let trace = fk_telemetry::TRACE_ATTRIBUTES
                .iter()
                .filter_map(|name| {
                    let value = m.message_attributes()?.get(*name)?.string_value()?;
                    Some((name.to_string(), value.to_string()))
                })
                .collect();
            envelopes.push(Received {
                envelope: Envelope {
                    body: m.body().unwrap_or_default().to_string(),
                    payload,
                },
                trace,
            });
            if let Some(handle) = m.receipt_handle() {
                deletes.push(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(handle)
                        .build()
                        .map_err(|e| StoreError::permanent(SQS, e.to_string()))?,
                );
            }
        }
        let deleted = self
            .client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(deletes))
            .send()
            .await
            .map_err(|e| errors::sdk(SQS, "DeleteMessageBatch", e))?;
        if let Some(failed) = deleted.failed().first() {
            // Such a message comes back after the visibility timeout: a
            // duplicate (replies carry their seq), not a loss.
            tracing::warn!(
                queue = %self.url,
                code = failed.code(),
                "could not delete a received reply"
            );
        }
        Ok(envelopes)
    }

    /// Ends a long poll of this queue now: one SendMessage of a message
    /// that [`wake_token`] recognises, in a group of its own (it neither
    /// waits behind the session's replies nor holds them up).
    ///
    /// A process that stops waiting for a ReceiveMessage does not cancel
    /// it: the queue goes on polling for the rest of its wait and hands
    /// the next message to nobody, which then stays invisible for the
    /// queue's visibility timeout. A listener that is to stop, so that
    /// another process can go on with the queue, is woken instead, and
    /// returns once it sees its own token.
    pub async fn wake(&self, token: &str) -> Result<(), StoreError> {
        let body = serde_json::json!({ WAKE_FIELD: token }).to_string();
        let envelope = Envelope {
            body,
            payload: None,
        };
        send(&self.client, &self.url, WAKE_GROUP, token, &envelope).await
    }

    /// Deletes the queue: one DeleteQueue.
    pub async fn delete(&self) -> Result<(), StoreError> {
        self.client
            .delete_queue()
            .queue_url(&self.url)
            .send()
            .await
            .map_err(|e| errors::sdk(SQS, "DeleteQueue", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_without_attributes_was_received_once_and_has_no_payload() {
        let mut msg = SqsMessage::default();
        msg.body = Some("{}".into());

        assert_eq!(receive_count(&msg), 1);
        assert_eq!(
            envelope_from_event(&msg),
            Envelope {
                body: "{}".into(),
                payload: None
            }
        );
    }

    #[test]
    fn only_a_wake_up_message_has_a_wake_token() {
        let wake = Envelope {
            body: serde_json::json!({ WAKE_FIELD: "abc" }).to_string(),
            payload: None,
        };
        let reply = Envelope {
            body: r#"{"session":"0x1","seq":1,"zxid":2,"outcome":{"Ok":"Deleted"}}"#.into(),
            payload: None,
        };
        let unreadable = Envelope {
            body: "not json".into(),
            payload: None,
        };

        assert_eq!(wake_token(&wake).as_deref(), Some("abc"));
        assert_eq!(wake_token(&reply), None);
        assert_eq!(wake_token(&unreadable), None);
    }
}
