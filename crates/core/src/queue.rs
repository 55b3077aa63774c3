//! The queue ports: the distributor queue and the client channel.

use async_trait::async_trait;
use tracing::Instrument as _;

use crate::{CommitRequest, Reply, StoreError, WriteRequest};

/// The distributor queue: one total order of validated writes.
#[async_trait]
pub trait CommitQueue: Send + Sync {
    /// Appends a commit request. Pushing the same token twice within the
    /// deduplication window delivers it once.
    async fn push(&self, commit: &CommitRequest) -> Result<(), StoreError>;

    /// Appends several commit requests in order, each as [`push`] would
    /// and under its own span (its trace goes on through the queue). SQS:
    /// one `SendMessageBatch` per ten, so that the one message group's
    /// quota of calls carries ten writes a call. This default pushes one
    /// at a time.
    ///
    /// [`push`]: CommitQueue::push
    async fn push_batch(&self, batch: &[Outgoing]) -> Result<(), StoreError> {
        for out in batch {
            self.push(&out.commit).instrument(out.span.clone()).await?;
        }
        Ok(())
    }
}

/// A commit request on its way to the distributor queue, with the span it
/// was validated in.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub commit: CommitRequest,
    pub span: tracing::Span,
}

/// The writer queue: client writes, one FIFO group per session.
#[async_trait]
pub trait WriteQueue: Send + Sync {
    /// Sends a write in its session's group, deduplicated by its token.
    async fn send(&self, request: &WriteRequest) -> Result<(), StoreError>;
}

/// The client channel: how replies reach a session.
#[async_trait]
pub trait ReplySink: Send + Sync {
    /// Sends a reply to `reply_to`, the address the client gave.
    async fn reply(&self, reply_to: &str, reply: &Reply) -> Result<(), StoreError>;

    /// Sends several replies to `reply_to`, in order, each under its own
    /// span. SQS: one `SendMessageBatch` per ten. This default sends one
    /// at a time.
    async fn reply_batch(
        &self,
        reply_to: &str,
        replies: &[(Reply, tracing::Span)],
    ) -> Result<(), StoreError> {
        for (reply, span) in replies {
            self.reply(reply_to, reply).instrument(span.clone()).await?;
        }
        Ok(())
    }

    /// Removes a channel nobody will read again (an expired session's).
    async fn discard(&self, reply_to: &str) -> Result<(), StoreError>;
}

/// Sends a reply; a reply that can never be delivered (the client's queue
/// is gone) is logged and dropped, so that a departed client cannot block
/// the queue behind it. Transient failures are returned for a retry.
pub async fn send_reply(
    sink: &dyn ReplySink,
    reply_to: &str,
    reply: &Reply,
) -> Result<(), StoreError> {
    let span = reply_span(&tracing::Span::current(), reply);
    undeliverable_dropped(sink.reply(reply_to, reply).instrument(span).await, reply_to)
}

/// Sends a session's replies in order, as [`send_reply`] sends one, each
/// reply's span a child of the span beside it: with one call where the
/// sink batches them.
pub async fn send_replies(
    sink: &dyn ReplySink,
    reply_to: &str,
    replies: &[(Reply, tracing::Span)],
) -> Result<(), StoreError> {
    if let [(reply, parent)] = replies {
        return send_reply(sink, reply_to, reply)
            .instrument(parent.clone())
            .await;
    }
    let traced: Vec<(Reply, tracing::Span)> = replies
        .iter()
        .map(|(reply, parent)| (reply.clone(), reply_span(parent, reply)))
        .collect();
    let spans = traced.iter().map(|(_, span)| span.clone()).collect();
    let sent = crate::spans::in_all(spans, sink.reply_batch(reply_to, &traced)).await;
    undeliverable_dropped(sent, reply_to)
}

fn reply_span(parent: &tracing::Span, reply: &Reply) -> tracing::Span {
    tracing::info_span!(
        parent: parent,
        "reply",
        zk.session = %reply.session,
        zk.seq = reply.seq,
        zk.zxid = reply.zxid,
    )
}

fn undeliverable_dropped(sent: Result<(), StoreError>, reply_to: &str) -> Result<(), StoreError> {
    match sent {
        Err(e) if !e.retryable => {
            tracing::warn!(error = %e, reply_to, "reply dropped: undeliverable");
            Ok(())
        }
        other => other,
    }
}
