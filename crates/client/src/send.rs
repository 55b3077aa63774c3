//! The write path of a session: seq order, waiting for the reply, and the
//! retries that cannot apply a write twice.

use std::sync::Arc;
use std::time::Duration;

use fk_core::{Op, OpResult, Outcome, Reply, WriteRequest};
use tokio::sync::oneshot;
use tracing::Instrument as _;

use crate::session::Pending;
use crate::{Client, Code, Error};

impl Client {
    /// Sends a write and turns its outcome into a result.
    pub(crate) async fn write(&self, op: Op) -> Result<OpResult, Error> {
        // Boxed: the send's future is deep, and callers nest it further
        // (a watch handle's `remove`); a box keeps their futures' types
        // within the compiler's depth limit, at one allocation per write.
        match Box::pin(self.send_retrying_refusals(op)).await? {
            Outcome::Ok(result) => Ok(result),
            Outcome::Err(code) => Err(code.into()),
            Outcome::MultiErr(failure) => Err(failure.error.into()),
        }
    }

    /// Sends a write; a refusal with a retryable code (`OperationTimeout`:
    /// a lock was lost; `ThrottledOp`) is sent again as a new request, as
    /// the retry policy says: the deployment records a refusal before it
    /// answers it, so the refused request never applies. A failure to get
    /// any answer is not retried here (`send_in_order` retries it as the
    /// same request): a new request might apply the write twice.
    pub(crate) async fn send_retrying_refusals(&self, op: Op) -> Result<Outcome, Error> {
        let policy = self.inner.options.retry_policy;
        let mut done = 0;
        loop {
            let outcome = self.send(op.clone()).await?;
            let refused = match &outcome {
                Outcome::Err(code) => *code,
                Outcome::MultiErr(failure) => failure.error,
                Outcome::Ok(_) => return Ok(outcome),
            };
            match policy.delay(done, &Error::from(refused)) {
                Some(wait) => {
                    tracing::debug!(
                        code = refused.code_name(),
                        ?wait,
                        "write refused; sending it again"
                    );
                    tokio::time::sleep(wait).await;
                    done += 1;
                }
                None => return Ok(outcome),
            }
        }
    }

    /// Sends a write in the session's order and waits for its outcome,
    /// in a client span that the write's whole trace descends from.
    pub(crate) async fn send(&self, op: Op) -> Result<Outcome, Error> {
        let session = self.inner.session.as_ref().map(|s| s.id.to_string());
        let span = tracing::info_span!(
            "zk.op",
            otel.name = format!("zk.{}", op.name()),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            rpc.system = "faaskeeper",
            rpc.service = "ZooKeeper",
            rpc.method = op.name(),
            zk.op = op.name(),
            zk.path = op.path(),
            zk.session = session.as_deref().unwrap_or("-"),
            zk.zxid = tracing::field::Empty,
            zk.error = tracing::field::Empty,
        );
        let outcome = self.send_in_order(op).instrument(span.clone()).await;
        let error = match &outcome {
            Ok(Outcome::Err(e)) => Some(*e),
            Ok(Outcome::MultiErr(f)) => Some(f.error),
            Ok(Outcome::Ok(_)) => None,
            Err(e) => Some(e.code()),
        };
        if let Some(e) = error {
            span.record("zk.error", e.code_name());
            span.record("otel.status_code", "ERROR");
        }
        outcome
    }

    /// Sends `op` as the session's next seq and waits for its reply. A
    /// transient failure to send, and a reply that does not come in time,
    /// are retried (as the policy says) with the same request: the same
    /// seq and deduplication id, which the deployment decides once.
    async fn send_in_order(&self, op: Op) -> Result<Outcome, Error> {
        let session = self.inner.session.as_ref().ok_or(Code::NotReadOnly)?;
        if session.status.ended() {
            return Err(Code::SessionExpired.into());
        }
        let policy = self.inner.options.retry_policy;
        let timeout = self.inner.options.request_timeout;
        let writer_queue = &self.inner.deployment.writer_queue_url;
        let group = session.id.to_string();
        let ticket = session
            .outbox
            .enqueue(&session.pending, |seq| WriteRequest {
                session: session.id,
                seq,
                reply_to: session.reply_queue.url.clone(),
                op,
            })?;
        let seq = ticket.seq;
        let mut awaiting = Awaiting {
            pending: session.pending.clone(),
            seq,
            answer: ticket.answer,
            patience: timeout,
            done: false,
        };
        match ticket.sent.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(awaiting.unsent(e)),
            Err(_) => {
                return Err(awaiting.unsent(Error::because(
                    Code::ConnectionLoss,
                    "the session's sender stopped",
                )))
            }
        }
        let mut retries = 0;
        let reply = loop {
            match tokio::time::timeout(timeout, &mut awaiting.answer).await {
                Ok(Ok(reply)) => break reply,
                Ok(Err(_)) => {
                    return Err(awaiting.unsent(Error::because(
                        Code::ConnectionLoss,
                        "the session's listener stopped",
                    )));
                }
                Err(_) => {
                    session.status.reply_overdue(true);
                    let error = Error::no_reply(seq, timeout);
                    let Some(wait) = policy.delay(retries, &error) else {
                        return Err(awaiting.unsent(error));
                    };
                    retries += 1;
                    tracing::debug!(seq, ?wait, "no reply in time; sending the write again");
                    tokio::time::sleep(wait).await;
                    // The same request: deduplicated by the queue, or
                    // decided once per seq by the deployment.
                    let resent = fk_aws::sqs::send(
                        &session.clients.sqs,
                        writer_queue,
                        &group,
                        &ticket.token,
                        &ticket.envelope,
                    )
                    .await;
                    if let Err(e) = resent {
                        tracing::debug!(error = %e, "sending the write again failed");
                    }
                }
            }
        };
        awaiting.answered();
        tracing::Span::current().record("zk.zxid", reply.zxid);
        tracing::info!(zk.zxid = reply.zxid, "reply received");
        if reply.outcome == Outcome::Err(Code::SessionExpired) && !session.status.closing() {
            session.status.expire();
            session
                .watches
                .end(Error::because(Code::SessionExpired, "the session expired"));
        }
        if let Some(zxid) = reply.after_event {
            // A watch event this write (or one just before) fired.
            session.watches.catch_up_to(zxid, timeout).await;
        }
        Ok(reply.outcome)
    }
}

/// A queued write's claim on its reply. It keeps the seq in flight, so
/// that the session's later reads wait for the write. If its caller stops
/// waiting (the future dropped), it keeps it in flight until the reply
/// comes or one request timeout passes, as the caller would have.
struct Awaiting {
    pending: Arc<Pending>,
    seq: u64,
    answer: oneshot::Receiver<Reply>,
    patience: Duration,
    /// Whether the outcome is known (the reply came, or none will).
    done: bool,
}

impl Awaiting {
    /// The write has its reply.
    fn answered(mut self) {
        self.done = true;
    }

    /// The write ends without a reply, with `error`.
    fn unsent(mut self, error: Error) -> Error {
        self.done = true;
        error
    }
}

impl Drop for Awaiting {
    fn drop(&mut self) {
        let (pending, seq) = (self.pending.clone(), self.seq);
        let abandoned = !self.done && self.answer.try_recv().is_err();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if abandoned => {
                let (_, closed) = oneshot::channel();
                let answer = std::mem::replace(&mut self.answer, closed);
                let patience = self.patience;
                runtime.spawn(async move {
                    let _ = tokio::time::timeout(patience, answer).await;
                    pending.finish(seq);
                });
            }
            _ => pending.finish(seq),
        }
    }
}
