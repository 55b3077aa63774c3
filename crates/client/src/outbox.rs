//! A session's writes on their way to the writer queue.
//!
//! Each write gets its seq when it is issued, and one task per session
//! sends the writes in seq order, so they reach the writer queue's message
//! group in the order the application issued them, however many it keeps
//! in flight.
//!
//! A seq is given once. A caller that stops waiting (its future dropped)
//! before or while its write is sent does not give its seq back: the next
//! write takes the next one, so it can never be taken for the first's copy.
//!
//! Each write is sent alone, though one SendMessageBatch could carry the
//! writes queued behind a send. A session's writes that arrive together
//! reach one writer invocation and one bundle, and the distributor commits
//! a session's writes one DynamoDB transaction each (a transaction holds
//! the session's item once) and, on S3, applies them one after another: in
//! `make bench-model` (64 sessions, 8 writes in flight each) batched sends
//! saved two calls a write but cut the one total order from 1,297 to 214
//! writes/s (DynamoDB store). Sent as they are issued, a session's writes
//! spread over several writer invocations.

use std::sync::{Arc, Mutex};

use fk_aws::sqs;
use fk_core::{Envelope, Message as _, Reply, WriteRequest};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use crate::session::Pending;
use crate::{Code, Error, RetryPolicy};

/// Where a session's writes are queued to be sent.
pub(crate) struct Outbox {
    /// The last seq given out. Held while a write is queued, so that the
    /// sending task receives the writes in seq order.
    last: Mutex<u64>,
    items: mpsc::UnboundedSender<Item>,
    task: JoinHandle<()>,
}

/// A write given its seq and queued to be sent.
pub(crate) struct Ticket {
    pub(crate) seq: u64,
    pub(crate) token: String,
    /// Kept to send the write again as the same request.
    pub(crate) envelope: Arc<Envelope>,
    /// Whether the queue took it (`Err`: it was not sent).
    pub(crate) sent: oneshot::Receiver<Result<(), Error>>,
    pub(crate) answer: oneshot::Receiver<Reply>,
}

enum Item {
    Write(Queued),
    /// Answered once every write queued before it has been sent (or has
    /// failed to be).
    Flush(oneshot::Sender<()>),
}

struct Queued {
    token: String,
    envelope: Arc<Envelope>,
    /// The write's span: its send span is a child of it.
    span: tracing::Span,
    sent: oneshot::Sender<Result<(), Error>>,
}

/// Where the writes go.
pub(crate) struct Destination {
    pub(crate) sqs: aws_sdk_sqs::Client,
    pub(crate) queue_url: String,
    /// The session's message group.
    pub(crate) group: String,
    /// The queue as errors name it.
    pub(crate) resource: String,
    pub(crate) policy: RetryPolicy,
}

impl Outbox {
    /// An outbox whose next write gets `last_seq + 1`, and its sending task.
    pub(crate) fn start(destination: Destination, last_seq: u64) -> Outbox {
        let (items, queued) = mpsc::unbounded_channel();
        Outbox {
            last: Mutex::new(last_seq),
            items,
            task: tokio::spawn(send_in_order(destination, queued)),
        }
    }

    /// Gives the write `request(seq)` the next seq and queues it, its reply
    /// expected in `pending`. A write larger than a queue message is
    /// refused with `BadArguments` and takes no seq.
    pub(crate) fn enqueue(
        &self,
        pending: &Pending,
        request: impl FnOnce(u64) -> WriteRequest,
    ) -> Result<Ticket, Error> {
        let mut last = self.last.lock().unwrap();
        let seq = *last + 1;
        let request = request(seq);
        let envelope = Arc::new(request.encode());
        if !envelope.fits_queue() {
            return Err(Error::because(
                Code::BadArguments,
                "the write is larger than a queue message",
            ));
        }
        let token = request.token();
        let (sent_tx, sent) = oneshot::channel();
        // Expected before it can be sent: its reply finds it.
        let answer = pending.expect(seq);
        let queued = self.items.send(Item::Write(Queued {
            token: token.clone(),
            envelope: envelope.clone(),
            span: tracing::Span::current(),
            sent: sent_tx,
        }));
        if queued.is_err() {
            pending.finish(seq);
            return Err(Error::because(
                Code::ConnectionLoss,
                "the session's sender stopped",
            ));
        }
        *last = seq;
        Ok(Ticket {
            seq,
            token,
            envelope,
            sent,
            answer,
        })
    }

    /// The last seq given out.
    pub(crate) fn last(&self) -> u64 {
        *self.last.lock().unwrap()
    }

    /// Waits until every write queued so far has been sent (or has failed
    /// to be), and returns the last seq given out.
    pub(crate) async fn flushed(&self) -> u64 {
        let (done, flushed) = oneshot::channel();
        let last = {
            let last = self.last.lock().unwrap();
            let _ = self.items.send(Item::Flush(done));
            *last
        };
        let _ = flushed.await;
        last
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The sending task: sends the queued writes one at a time, in order,
/// each as the retry policy says (again with the same deduplication id:
/// the queue keeps one copy of a message it took before).
async fn send_in_order(to: Destination, mut items: mpsc::UnboundedReceiver<Item>) {
    while let Some(item) = items.recv().await {
        match item {
            Item::Write(write) => {
                let sent = to
                    .policy
                    .run(|| async {
                        sqs::send(
                            &to.sqs,
                            &to.queue_url,
                            &to.group,
                            &write.token,
                            &write.envelope,
                        )
                        .instrument(write.span.clone())
                        .await
                        .map_err(|e| Error::store(&to.resource, e))
                    })
                    .await;
                let _ = write.sent.send(sent);
            }
            Item::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}
