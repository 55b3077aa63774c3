//! A session's writes on their way to the writer queue.
//!
//! Each write gets its seq when it is issued, and one task per session
//! sends the writes in seq order. The writes issued while a send is under
//! way (or together, as a join of several does) leave together in the next
//! call, a SendMessageBatch of up to ten: an application that keeps several
//! writes in flight pays one call for several, and its writes still reach
//! the writer queue's message group in the order it issued them.
//!
//! Such writes then reach one writer invocation and one bundle, and the
//! distributor commits a session's consecutive writes of a group under one
//! update of its session item (`fk_aws::system::transaction_len`). On
//! DynamoDB and Redis a call carries up to ten by default, and a group's
//! writes reach user storage in one step. On S3 a session's changes reach
//! storage one after another, so writes that arrive together wait for each
//! other there: a call carries at most two by default
//! ([`S3_BATCH_SENDS`](crate::S3_BATCH_SENDS)). Against each write alone,
//! `make bench-model` (64 sessions, 8 writes in flight each) finds that two
//! save nearly half the calls per write that ten would, for about a quarter
//! of the rate where ten cost nearly two thirds.
//! [`ConnectOptions::batch_sends`](crate::ConnectOptions) sets it.
//!
//! A seq is given once. A caller that stops waiting (its future dropped)
//! before or while its write is sent does not give its seq back: the next
//! write takes the next one, so it can never be taken for the first's copy.

use std::sync::{Arc, Mutex};

use fk_aws::sqs::{self, BatchEntry, MAX_BATCH_ENTRIES};
use fk_core::message::MAX_MESSAGE_BYTES;
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
    /// The most writes one call carries: 1 sends each write alone.
    pub(crate) max_batch: usize,
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

/// The sending task: takes the queued writes in order, as many at a time
/// as one call carries, and sends them.
async fn send_in_order(to: Destination, mut items: mpsc::UnboundedReceiver<Item>) {
    let mut held = None;
    loop {
        let item = match held.take() {
            Some(item) => item,
            None => match items.recv().await {
                Some(item) => item,
                None => return,
            },
        };
        let first = match item {
            Item::Write(write) => write,
            Item::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let mut batch = vec![first];
        let max_batch = to.max_batch.clamp(1, MAX_BATCH_ENTRIES);
        if max_batch > 1 {
            // Writes issued at the same moment as this one (a join of
            // several futures, tasks woken together) are queued once they
            // have run: let them, so they leave in this call.
            tokio::task::yield_now().await;
        }
        let mut size = batch[0].envelope.queue_size();
        while batch.len() < max_batch {
            match items.try_recv() {
                Ok(Item::Write(write))
                    if size + write.envelope.queue_size() <= MAX_MESSAGE_BYTES =>
                {
                    size += write.envelope.queue_size();
                    batch.push(write);
                }
                Ok(other) => {
                    held = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        send_batch(&to, batch).await;
    }
}

/// Sends `batch` (one call's worth, in seq order) and tells each write
/// whether the queue took it. A call that fails is made again as the
/// retry policy says, with the same deduplication ids: the queue keeps
/// one copy of a message it took before.
///
/// SQS answers for each message of a batch. A refused write that a later
/// one follows into the queue is not sent again: it would reach the writer
/// after a later seq, which the deployment takes for decided. It fails
/// (not sent). Refused writes at the end of the batch are sent again.
async fn send_batch(to: &Destination, mut batch: Vec<Queued>) {
    let mut retries = 0;
    while !batch.is_empty() {
        let outcomes = if let [write] = batch.as_slice() {
            sqs::send(
                &to.sqs,
                &to.queue_url,
                &to.group,
                &write.token,
                &write.envelope,
            )
            .instrument(write.span.clone())
            .await
            .map(|()| vec![Ok(())])
        } else {
            let entries: Vec<BatchEntry> = batch
                .iter()
                .map(|write| BatchEntry {
                    dedup_id: write.token.clone(),
                    envelope: &write.envelope,
                    parent: &write.span,
                })
                .collect();
            sqs::send_batch(&to.sqs, &to.queue_url, &to.group, &entries).await
        };
        let error = match outcomes {
            Err(e) => Error::store(&to.resource, e),
            Ok(outcomes) => {
                // Every write up to the last one the queue took is done:
                // taken, or refused for good.
                let taken = outcomes
                    .iter()
                    .rposition(Result::is_ok)
                    .map_or(0, |i| i + 1);
                let rest = batch.split_off(taken);
                let mut outcomes = outcomes.into_iter();
                for (write, outcome) in batch.into_iter().zip(outcomes.by_ref()) {
                    let outcome = outcome.map_err(|e| Error::store(&to.resource, e));
                    let _ = write.sent.send(outcome);
                }
                batch = rest;
                // What is left was refused: sent again, if the policy says.
                let Some(Err(refusal)) = outcomes.next() else {
                    return;
                };
                Error::store(&to.resource, refusal)
            }
        };
        match to.policy.delay(retries, &error) {
            Some(wait) => {
                tracing::debug!(%error, ?wait, writes = batch.len(), "sending writes again");
                tokio::time::sleep(wait).await;
                retries += 1;
            }
            None => {
                for write in batch {
                    let _ = write.sent.send(Err(error.clone()));
                }
                return;
            }
        }
    }
}
