//! Carrying a session from one process to the next: a command-line tool
//! that runs one command per process would otherwise open and close a
//! session (a reply queue, a session record, a close through the write
//! path) around every write. [`Client::detach`] leaves the session open
//! without a process to keep it alive; [`Client::resume`] picks it up again
//! if the deployment still has it.

use std::sync::Arc;

use fk_aws::deployment::Deployment;
use fk_aws::sqs::ReplyQueue;
use fk_aws::system::DynamoSystemStore;
use fk_core::system::SystemStore as _;
use fk_core::{Clock as _, SessionId};

use crate::connect;
use crate::options::ConnectOptions;
use crate::state::SessionState;
use crate::{Client, Code, Error};

/// How long [`Client::detach`] waits for the listener's last poll to
/// return once woken: far above the few milliseconds it takes.
const LISTENER_STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// A session left open by [`Client::detach`]: what another process needs
/// to go on with it. Whoever holds it can write as the session: keep it
/// where only its owner reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachedSession {
    pub id: SessionId,
    /// The session's reply queue.
    pub reply_queue_url: String,
    /// The next request's seq must be above this one.
    pub last_seq: u64,
}

impl Client {
    /// Leaves the session open and stops this client: no close is sent,
    /// the reply queue stays, and the session expires after its timeout
    /// unless [`Client::resume`] picks it up first. `None` for a client
    /// without a session, one not `Connected` (a reply overdue, the
    /// deployment unreachable, the session ended), or one whose listener
    /// did not stop in time: such a session is left to expire, never to
    /// be resumed.
    ///
    /// Call it once every request has its answer: a reply that comes
    /// later is for a seq the next process does not wait for, and is
    /// dropped.
    ///
    /// The reply queue's listener is woken and waits for its long poll to
    /// return (a few milliseconds: one SendMessage, the ReceiveMessage
    /// answering with it, one DeleteMessageBatch): a poll this process
    /// merely stopped waiting for would go on at the queue and take the
    /// next process's first reply, which would then stay invisible for
    /// the queue's visibility timeout (30 s).
    pub async fn detach(self) -> Option<DetachedSession> {
        let session = self.inner.session.as_ref()?;
        if session.status.get() != SessionState::Connected {
            return None;
        }
        session.keepalive.abort();
        if !session
            .listener
            .stop(&session.reply_queue, LISTENER_STOP_WITHIN)
            .await
        {
            return None;
        }
        let last_seq = session.outbox.flushed().await;
        Some(DetachedSession {
            id: session.id,
            reply_queue_url: session.reply_queue.url.clone(),
            last_seq,
        })
    }

    /// Goes on with a detached session if the deployment still has it and
    /// it has at least half its timeout left (so it cannot expire during
    /// the next request): one read of its record. Fails with
    /// `SessionExpired` otherwise; the caller then opens a new one.
    ///
    /// Seqs continue above `detached.last_seq` and anything the deployment
    /// decided for the session, so a write of an earlier process that was
    /// still in flight cannot be taken for a new one.
    ///
    /// One client at a time: two clients resumed from the same
    /// `DetachedSession` would poll one reply queue and take each other's
    /// replies, and could send two writes with one seq. Whoever keeps a
    /// detached session for others hands it to one of them at a time (the
    /// `fk` CLI locks a file), and a client that ended without
    /// [`Client::detach`] (a killed process) leaves a session nobody may
    /// resume: its seqs and its last poll are unknown.
    pub async fn resume(
        deployment: &Deployment,
        detached: &DetachedSession,
        options: ConnectOptions,
    ) -> Result<Client, Error> {
        let backends = connect::open(deployment).await?;
        let system = DynamoSystemStore::new(
            backends.clients.dynamodb.clone(),
            deployment.system_table.clone(),
            deployment.sessions_table.clone(),
        );
        let record = system
            .session(detached.id)
            .await
            .map_err(|e| Error::store(connect::sessions_table(deployment), e))?
            .ok_or_else(|| Error::because(Code::SessionExpired, "the session is gone"))?;
        let now = fk_core::SystemClock.now_ms();
        if record.reply_to != detached.reply_queue_url
            || now - record.heartbeat_ms > record.timeout_ms / 2
        {
            return Err(Error::because(
                Code::SessionExpired,
                "the session is about to expire",
            ));
        }
        let last_seq = [detached.last_seq, record.last_seq]
            .into_iter()
            .chain(record.refused.iter().copied())
            .max()
            .unwrap_or(0);
        let reply_queue = Arc::new(ReplyQueue::open(
            backends.clients.sqs.clone(),
            &detached.reply_queue_url,
        ));
        let timeout = std::time::Duration::from_millis(record.timeout_ms.max(0) as u64);
        Ok(Client::with_session(
            deployment,
            backends,
            options.with_session_timeout(timeout),
            detached.id,
            reply_queue,
            system,
            last_seq,
        ))
    }
}
