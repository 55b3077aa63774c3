//! A session's background: the reply queue's listener task, the requests
//! waiting for an answer, and the keep-alive.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fk_aws::sqs::ReplyQueue;
use fk_aws::system::DynamoSystemStore;
use fk_core::system::SystemStore as _;
use fk_core::watch::Notification;
use fk_core::{DecodeError, Envelope, Message, Reply, SessionId};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

use crate::state::Status;
use crate::watches::Registry;
use crate::{Code, Error};

/// What arrives on a session's channel.
enum Incoming {
    Reply(Reply),
    Notification(Notification),
}

/// A reply has an `outcome`; a notification has `events`.
fn decode(envelope: Envelope) -> Result<Incoming, DecodeError> {
    let value: serde_json::Value = serde_json::from_str(&envelope.body)?;
    if value.get("events").is_some() {
        Ok(Incoming::Notification(Notification::decode(envelope)?))
    } else {
        Ok(Incoming::Reply(Reply::decode(envelope)?))
    }
}

/// Requests sent and not yet answered.
#[derive(Default)]
pub(crate) struct Pending {
    waiting: Mutex<PendingState>,
    /// Signalled whenever a request completes.
    completed: Notify,
}

#[derive(Default)]
struct PendingState {
    answer_to: HashMap<u64, oneshot::Sender<Reply>>,
    in_flight: BTreeSet<u64>,
}

impl Pending {
    /// Registers a request before it is sent.
    pub(crate) fn expect(&self, seq: u64) -> oneshot::Receiver<Reply> {
        let (tx, rx) = oneshot::channel();
        let mut state = self.waiting.lock().unwrap();
        state.answer_to.insert(seq, tx);
        state.in_flight.insert(seq);
        rx
    }

    /// Marks a request done, answered or not.
    pub(crate) fn finish(&self, seq: u64) {
        let mut state = self.waiting.lock().unwrap();
        state.answer_to.remove(&seq);
        state.in_flight.remove(&seq);
        drop(state);
        self.completed.notify_waiters();
    }

    /// Hands a reply to its waiting request; a duplicate or late reply
    /// (a redelivered write answered twice) finds nobody and is dropped.
    fn deliver(&self, reply: Reply) {
        let sender = self.waiting.lock().unwrap().answer_to.remove(&reply.seq);
        match sender {
            Some(tx) => {
                let _ = tx.send(reply);
            }
            None => tracing::debug!(seq = reply.seq, "reply for no waiting request"),
        }
    }

    /// Waits until every request up to `seq` has completed, so a read
    /// issued after a write sees it (ZooKeeper's FIFO client order).
    pub(crate) async fn wait_through(&self, seq: u64) {
        loop {
            let notified = self.completed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let busy = {
                let state = self.waiting.lock().unwrap();
                state.in_flight.range(..=seq).next().is_some()
            };
            if !busy {
                return;
            }
            notified.await;
        }
    }
}

/// The task that polls a session's reply queue, and how it ends.
pub(crate) struct Listener {
    /// Taken by [`Listener::stop`] to wait for it.
    task: Mutex<Option<JoinHandle<()>>>,
    /// The token of the wake-up message that ends this listener and no
    /// other (a wake-up left in the queue by an earlier process's listener
    /// is skipped).
    token: String,
}

impl Listener {
    /// Ends the task at once: any long poll it has under way goes on at
    /// the queue without it (see [`ReplyQueue::wake`]). For a session that
    /// nobody will poll again (closed, its queue deleted, or left to
    /// expire).
    pub(crate) fn abort(&self) {
        if let Some(task) = self.task.lock().unwrap().as_ref() {
            task.abort();
        }
    }

    /// Ends the task between two polls, so that no ReceiveMessage of this
    /// process is left at the queue to take a message meant for the next
    /// user of the session: wakes its poll and waits, up to `within`, for
    /// it to return. `false` (and the task aborted) if it did not.
    pub(crate) async fn stop(&self, queue: &ReplyQueue, within: Duration) -> bool {
        let Some(mut task) = self.task.lock().unwrap().take() else {
            return false;
        };
        if let Err(e) = queue.wake(&self.token).await {
            tracing::debug!(error = %e, "could not wake the reply queue's listener");
            task.abort();
            return false;
        }
        match tokio::time::timeout(within, &mut task).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => false,
            Err(_) => {
                tracing::debug!(?within, "the reply queue's listener did not stop in time");
                task.abort();
                false
            }
        }
    }
}

/// Polls the reply queue and dispatches replies and watch notifications
/// until stopped.
pub(crate) fn spawn_listener(
    queue: Arc<ReplyQueue>,
    session: SessionId,
    pending: Arc<Pending>,
    watches: Arc<Registry>,
    status: Arc<Status>,
) -> Listener {
    // Random: the token must differ from any an earlier listener of the
    // same queue used.
    let token = format!("{session}-{:x}", SessionId::random().raw());
    let own = token.clone();
    let task = tokio::spawn(async move {
        loop {
            match queue.receive_traced(20).await {
                Ok(received) => {
                    status.reachable(true);
                    let mut woken = false;
                    for message in received {
                        if let Some(token) = fk_aws::sqs::wake_token(&message.envelope) {
                            woken |= token == own;
                            continue;
                        }
                        match decode(message.envelope) {
                            Ok(Incoming::Reply(reply)) if reply.session == session => {
                                status.reply_overdue(false);
                                pending.deliver(reply)
                            }
                            Ok(Incoming::Notification(n)) if n.session == session => {
                                // Under the trace of the write that fired it.
                                let span = tracing::info_span!(
                                    "zk.watch_event",
                                    otel.kind = "consumer",
                                    messaging.system = "aws_sqs",
                                    messaging.operation.type = "process",
                                    messaging.destination.name =
                                        fk_aws::sqs::queue_name(&queue.url),
                                    zk.session = %n.session,
                                    zk.zxid = n.zxid,
                                    zk.path = n
                                        .events
                                        .first()
                                        .map(|e| e.path.as_str())
                                        .unwrap_or("-"),
                                    zk.events = n.events.len(),
                                );
                                fk_telemetry::continue_trace(&span, |name| {
                                    message.trace.get(name).map(String::as_str)
                                });
                                span.in_scope(|| watches.dispatch(&n))
                            }
                            Ok(_) => tracing::warn!("a message for another session"),
                            Err(e) => tracing::warn!(error = %e, "unreadable reply"),
                        }
                    }
                    if woken {
                        return;
                    }
                }
                Err(e) => {
                    status.reachable(false);
                    tracing::warn!(error = %e, "reply queue receive failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
        }
    });
    Listener {
        task: Mutex::new(Some(task)),
        token,
    }
}

/// Touches the session record every third of its timeout; marks the
/// session expired once the record is gone, and suspended while the
/// touch fails.
pub(crate) fn spawn_keepalive(
    system: DynamoSystemStore,
    id: SessionId,
    timeout: Duration,
    status: Arc<Status>,
    watches: Arc<Registry>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = (timeout / 3).max(Duration::from_millis(100));
        loop {
            tokio::time::sleep(period).await;
            let now = fk_core::Clock::now_ms(&fk_core::SystemClock);
            match system.touch_session(id, now).await {
                Ok(true) => status.reachable(true),
                Ok(false) if status.closing() => {
                    // The close removed the record; it ends the session.
                    return;
                }
                Ok(false) => {
                    tracing::warn!(session = %id, "session expired");
                    status.expire();
                    watches.end(Error::because(Code::SessionExpired, "the session expired"));
                    return;
                }
                Err(e) => {
                    status.reachable(false);
                    tracing::warn!(error = %e, "keep-alive failed; retrying");
                }
            }
        }
    })
}
