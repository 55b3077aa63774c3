//! The write path of a session: seq order, waiting for the reply, and the
//! retries that cannot apply a write twice.

use fk_core::{Message, Op, OpResult, Outcome, WriteRequest};
use tracing::Instrument as _;

use crate::connect;
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
        let writer_queue = &self.inner.deployment.writer_queue_url;
        let group = session.id.to_string();
        let (seq, token, envelope, mut answer) = {
            let mut next = session.next_seq.lock().await;
            let seq = *next + 1;
            let answer = session.pending.expect(seq);
            let request = WriteRequest {
                session: session.id,
                seq,
                reply_to: session.reply_queue.url.clone(),
                op,
            };
            let envelope = request.encode();
            if !envelope.fits_queue() {
                // Larger than any queue takes: a clear error, nothing sent.
                session.pending.finish(seq);
                return Err(Error::because(
                    Code::BadArguments,
                    "the write is larger than a queue message",
                ));
            }
            let token = request.token();
            // Under the lock: no later seq leaves before this one.
            let sent = policy
                .run(|| async {
                    fk_aws::sqs::send(
                        &session.clients.sqs,
                        writer_queue,
                        &group,
                        &token,
                        &envelope,
                    )
                    .await
                    .map_err(|e| Error::store(connect::writer_queue(&self.inner.deployment), e))
                })
                .await;
            // Spent even if the send failed: a send that timed out may
            // still have queued the request, and a later write reusing its
            // seq (and deduplication id) would be dropped as its copy and
            // handed its reply.
            *next = seq;
            if let Err(e) = sent {
                session.pending.finish(seq);
                return Err(e);
            }
            (seq, token, envelope, answer)
        };
        let timeout = self.inner.options.request_timeout;
        let mut retries = 0;
        let reply = loop {
            match tokio::time::timeout(timeout, &mut answer).await {
                Ok(Ok(reply)) => break reply,
                Ok(Err(_)) => {
                    session.pending.finish(seq);
                    return Err(Error::because(
                        Code::ConnectionLoss,
                        "the session's listener stopped",
                    ));
                }
                Err(_) => {
                    session.status.reply_overdue(true);
                    let error = Error::no_reply(seq, timeout);
                    let Some(wait) = policy.delay(retries, &error) else {
                        session.pending.finish(seq);
                        return Err(error);
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
                        &token,
                        &envelope,
                    )
                    .await;
                    if let Err(e) = resent {
                        tracing::debug!(error = %e, "sending the write again failed");
                    }
                }
            }
        };
        session.pending.finish(seq);
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
