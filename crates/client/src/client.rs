//! The client: connect, ZooKeeper's reads and writes, close. Watches are
//! in `watching.rs`, multi in `multi.rs`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fk_aws::calls::CallCounter;
use fk_aws::clients::Clients;
use fk_aws::deployment::Deployment;
use fk_aws::sqs::ReplyQueue;
use fk_aws::system::DynamoSystemStore;
use fk_core::system::{SessionRecord, SystemStore as _};
use fk_core::{
    path, CreateMode, Message, Op, OpResult, Outcome, SessionId, Stat, UserNode, UserStore,
    WriteRequest,
};
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use crate::connect::{self, Backends};
use crate::options::{ClientBuilder, ConnectOptions};
use crate::session::{spawn_listener, Pending};
use crate::state::{SessionState, Status};
use crate::watches::Registry;
use crate::{Code, Error};

/// A connection to a deployment: a ZooKeeper handle.
///
/// Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) deployment: Deployment,
    user: Arc<dyn UserStore>,
    calls: CallCounter,
    pub(crate) options: ConnectOptions,
    pub(crate) session: Option<Session>,
    /// The read-only client's state (a session has its own).
    read_only: Status,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("deployment", &self.deployment.name)
            .field("session", &self.session.as_ref().map(|s| s.id))
            .finish()
    }
}

pub(crate) struct Session {
    pub(crate) id: SessionId,
    clients: Clients,
    pub(crate) reply_queue: Arc<ReplyQueue>,
    pending: Arc<Pending>,
    /// The last seq sent; held while sending so that the queue receives a
    /// session's writes in seq order.
    next_seq: Mutex<u64>,
    listener: JoinHandle<()>,
    keepalive: JoinHandle<()>,
    pub(crate) status: Arc<Status>,
    /// Where one-shot watches are registered.
    pub(crate) system: DynamoSystemStore,
    pub(crate) watches: Arc<Registry>,
}

impl Drop for Session {
    /// A client dropped without `close` stops answering, like a crashed
    /// process: its session expires after its timeout.
    fn drop(&mut self) {
        self.listener.abort();
        self.keepalive.abort();
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl Client {
    /// A builder: options, then [`ClientBuilder::connect`].
    pub fn builder(deployment: &Deployment) -> ClientBuilder {
        ClientBuilder::new(deployment)
    }

    /// Opens a session with default options.
    pub async fn connect(deployment: &Deployment) -> Result<Client, Error> {
        Self::open(deployment, ConnectOptions::default()).await
    }

    /// Opens a session with `options`.
    pub async fn connect_with(
        deployment: &Deployment,
        options: ConnectOptions,
    ) -> Result<Client, Error> {
        Self::open(deployment, options).await
    }

    /// A client without a session: it reads, and refuses writes with
    /// `NotReadOnly`. Creates nothing in the deployment.
    pub async fn read_only(deployment: &Deployment) -> Result<Client, Error> {
        Self::open_read_only(deployment, ConnectOptions::default()).await
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Client {
        Client { inner }
    }

    /// Checks the deployment's resources, creates the reply queue (at the
    /// same time) and registers the session.
    pub(crate) async fn open(
        deployment: &Deployment,
        options: ConnectOptions,
    ) -> Result<Client, Error> {
        let backends = connect::open(deployment).await?;
        let id = SessionId::random();
        let queue_name = format!(
            "{}{}.fifo",
            deployment.reply_queue_prefix,
            id.to_string().trim_start_matches("0x")
        );
        let (checked, created) = tokio::join!(
            connect::check(deployment, &backends, true),
            ReplyQueue::create(backends.clients.sqs.clone(), &queue_name),
        );
        let reply_queue = match (checked, created) {
            (Ok(()), Ok(queue)) => Arc::new(queue),
            (Err(e), created) => {
                if let Ok(queue) = created {
                    let _ = queue.delete().await;
                }
                return Err(e);
            }
            (Ok(()), Err(e)) => return Err(Error::store(connect::reply_queue(&queue_name), e)),
        };
        let system = DynamoSystemStore::new(
            backends.clients.dynamodb.clone(),
            deployment.system_table.clone(),
            deployment.sessions_table.clone(),
        );
        let record = SessionRecord {
            id,
            timeout_ms: options.session_timeout.as_millis() as i64,
            reply_to: reply_queue.url.clone(),
            last_seq: 0,
            refused: Vec::new(),
            ephemerals: Vec::new(),
            heartbeat_ms: fk_core::Clock::now_ms(&fk_core::SystemClock),
        };
        let created = match system.create_session(&record).await {
            Ok(created) => created,
            Err(e) => {
                let _ = reply_queue.delete().await;
                return Err(Error::store(connect::sessions_table(deployment), e));
            }
        };
        if !created {
            // 62 random bits collided: vanishingly rare, and safe to refuse.
            let _ = reply_queue.delete().await;
            return Err(Error::because(Code::SystemError, "session id collision"));
        }
        let pending = Arc::new(Pending::default());
        let watches = Arc::new(Registry::new());
        let status = Arc::new(Status::new(SessionState::Connected));
        let listener = spawn_listener(
            reply_queue.clone(),
            id,
            pending.clone(),
            watches.clone(),
            status.clone(),
        );
        let keepalive = spawn_keepalive(
            system.clone(),
            id,
            options.session_timeout,
            status.clone(),
            watches.clone(),
        );
        let Backends {
            clients,
            user,
            calls,
        } = backends;
        Ok(Client {
            inner: Arc::new(Inner {
                deployment: deployment.clone(),
                user,
                calls,
                options,
                session: Some(Session {
                    id,
                    clients,
                    reply_queue,
                    pending,
                    next_seq: Mutex::new(0),
                    listener,
                    keepalive,
                    status,
                    system,
                    watches,
                }),
                read_only: Status::new(SessionState::ReadOnly),
            }),
        })
    }

    pub(crate) async fn open_read_only(
        deployment: &Deployment,
        options: ConnectOptions,
    ) -> Result<Client, Error> {
        let backends = connect::open(deployment).await?;
        connect::check(deployment, &backends, false).await?;
        Ok(Client {
            inner: Arc::new(Inner {
                deployment: deployment.clone(),
                user: backends.user,
                calls: backends.calls,
                options,
                session: None,
                read_only: Status::new(SessionState::ReadOnly),
            }),
        })
    }

    /// The session's state now.
    pub fn state(&self) -> SessionState {
        self.status().get()
    }

    /// The session's state as it changes: `Connected`, `Suspended` while
    /// the backend does not answer, then `Expired` or `Closed`.
    pub fn state_watcher(&self) -> watch::Receiver<SessionState> {
        self.status().subscribe()
    }

    fn status(&self) -> &Status {
        match &self.inner.session {
            Some(session) => &session.status,
            None => &self.inner.read_only,
        }
    }

    /// The session id, if this client has a session.
    pub fn session_id(&self) -> Option<SessionId> {
        self.inner.session.as_ref().map(|s| s.id)
    }

    /// The session timeout asked for at connect.
    pub fn session_timeout(&self) -> Duration {
        self.inner.options.session_timeout
    }

    /// The deployment this client talks to.
    pub fn deployment(&self) -> &Deployment {
        &self.inner.deployment
    }

    /// The AWS calls (and Redis round trips) this client has made.
    pub fn calls(&self) -> &CallCounter {
        &self.inner.calls
    }

    /// Creates a node; returns its actual path (sequential nodes get a
    /// suffix) and its `Stat`.
    pub async fn create(
        &self,
        path: &str,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<(String, Stat), Error> {
        let op = Op::Create {
            path: path.to_string(),
            data: Bytes::copy_from_slice(data),
            mode,
        };
        match self.write(op).await? {
            OpResult::Created { path, stat } => Ok((path, stat)),
            other => Err(unexpected(other)),
        }
    }

    /// Creates a node and whichever of its ancestors are missing (as
    /// persistent nodes with empty data), like `mkdir -p`: an ancestor
    /// created meanwhile by someone else is fine, the node itself existing
    /// is `NodeExists`. Returns what [`create`](Client::create) returns.
    pub async fn create_all(
        &self,
        path: &str,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<(String, Stat), Error> {
        path::validate(path).map_err(Error::from)?;
        match self.create(path, data, mode).await {
            Err(e) if e == Code::NoNode => {}
            done => return done,
        }
        let mut ancestor = String::new();
        let parents: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        for name in &parents[..parents.len().saturating_sub(1)] {
            ancestor.push('/');
            ancestor.push_str(name);
            match self.create(&ancestor, b"", CreateMode::Persistent).await {
                Ok(_) => {}
                Err(e) if e == Code::NodeExists => {}
                Err(e) => return Err(e),
            }
        }
        self.create(path, data, mode).await
    }

    /// Replaces a node's data if its version is `version` (`None`: any).
    pub async fn set_data(
        &self,
        path: &str,
        data: &[u8],
        version: Option<i32>,
    ) -> Result<Stat, Error> {
        let op = Op::SetData {
            path: path.to_string(),
            data: Bytes::copy_from_slice(data),
            version,
        };
        match self.write(op).await? {
            OpResult::SetData { stat } => Ok(stat),
            other => Err(unexpected(other)),
        }
    }

    /// Deletes a childless node if its version is `version` (`None`: any).
    pub async fn delete(&self, path: &str, version: Option<i32>) -> Result<(), Error> {
        let op = Op::Delete {
            path: path.to_string(),
            version,
        };
        match self.write(op).await? {
            OpResult::Deleted => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// A node's data and `Stat`.
    pub async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat), Error> {
        let node = self.read(path).await?.ok_or(Code::NoNode)?;
        Ok((node.data.to_vec(), node.stat))
    }

    /// A node's `Stat`, or `None` if it does not exist.
    pub async fn exists(&self, path: &str) -> Result<Option<Stat>, Error> {
        Ok(self.read(path).await?.map(|n| n.stat))
    }

    /// A node's child names, sorted.
    pub async fn get_children(&self, path: &str) -> Result<Vec<String>, Error> {
        Ok(self.get_children_with_stat(path).await?.0)
    }

    /// A node's child names, sorted, and its `Stat`.
    pub async fn get_children_with_stat(&self, path: &str) -> Result<(Vec<String>, Stat), Error> {
        let node = self.read(path).await?.ok_or(Code::NoNode)?;
        let mut children = node.children;
        children.sort();
        Ok((children, node.stat))
    }

    /// This session's ephemeral nodes whose paths start with `prefix`
    /// (ZooKeeper's `getEphemerals`), sorted.
    pub async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>, Error> {
        path::validate(prefix)?;
        let session = self.session()?;
        let record =
            self.inner
                .options
                .retry_policy
                .run(|| async {
                    session.system.session(session.id).await.map_err(|e| {
                        Error::store(connect::sessions_table(&self.inner.deployment), e)
                    })
                })
                .await?
                .ok_or(Code::SessionExpired)?;
        let mut owned = Vec::new();
        for path in record
            .ephemerals
            .into_iter()
            .filter(|p| p.starts_with(prefix))
        {
            // The record may hold a stale entry; the node itself decides.
            if let Some(stat) = self.exists(&path).await? {
                if stat.ephemeral_owner == session.id.raw() {
                    owned.push(path);
                }
            }
        }
        owned.sort();
        Ok(owned)
    }

    /// How many nodes lie below `path`, at any depth (ZooKeeper's
    /// `getAllChildrenNumber`). Reads every node of the subtree.
    pub async fn get_all_children_number(&self, path: &str) -> Result<i32, Error> {
        let mut count = 0;
        let mut pending = vec![path.to_string()];
        while let Some(next) = pending.pop() {
            let children = match self.get_children(&next).await {
                Ok(children) => children,
                // Deleted meanwhile: it no longer counts, nor do its children.
                Err(e) if e == Code::NoNode && next != path => continue,
                Err(e) => return Err(e),
            };
            count += children.len() as i32;
            pending.extend(children.iter().map(|c| path::join(&next, c)));
        }
        Ok(count)
    }

    /// Waits until every write committed before this call is applied to
    /// user storage, so that a read after it sees them (ZooKeeper's
    /// `sync`). Goes through both queues; commits nothing.
    pub async fn sync(&self, path: &str) -> Result<(), Error> {
        match self
            .write(Op::Sync {
                path: path.to_string(),
            })
            .await?
        {
            OpResult::Synced { .. } => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// The live session, or why there is none.
    pub(crate) fn session(&self) -> Result<&Session, Error> {
        let session = self.inner.session.as_ref().ok_or(Code::NotReadOnly)?;
        if session.status.ended() {
            return Err(Code::SessionExpired.into());
        }
        Ok(session)
    }

    /// Ends the session: its ephemeral nodes are deleted (one ordered
    /// write, after every write the session sent before), its record goes,
    /// then its reply queue. Every watch handle hears `SessionExpired`.
    pub async fn close(self) -> Result<(), Error> {
        let Some(session) = &self.inner.session else {
            return Ok(());
        };
        let closed = match self.write(Op::CloseSession).await {
            Ok(_) => Ok(()),
            Err(e) if e == Code::SessionExpired => Ok(()),
            Err(e) => Err(e),
        };
        session.status.close();
        session.watches.end(Error::because(
            Code::SessionExpired,
            "the session was closed",
        ));
        session.keepalive.abort();
        session.listener.abort();
        session.reply_queue.delete().await.map_err(|e| {
            let name = fk_aws::sqs::queue_name(&session.reply_queue.url);
            Error::store(connect::reply_queue(name), e)
        })?;
        closed
    }

    /// Reads a node, retried as the policy says.
    pub(crate) async fn read(&self, path: &str) -> Result<Option<UserNode>, Error> {
        let span = tracing::info_span!(
            "zk.read",
            otel.kind = "client",
            zk.op = "read",
            zk.path = path,
            zk.session = self
                .inner
                .session
                .as_ref()
                .map(|s| s.id.to_string())
                .as_deref()
                .unwrap_or("-"),
        );
        let read = self
            .inner
            .options
            .retry_policy
            .run(|| self.read_in_order(path))
            .instrument(span);
        Box::pin(read).await
    }

    async fn read_in_order(&self, path: &str) -> Result<Option<UserNode>, Error> {
        path::validate(path)?;
        if let Some(session) = &self.inner.session {
            if session.status.ended() {
                return Err(Code::SessionExpired.into());
            }
            let last_sent = *session.next_seq.lock().await;
            session.pending.wait_through(last_sent).await;
        }
        let mut node = self
            .inner
            .user
            .get(path)
            .await
            .map_err(|e| Error::store(connect::user_store(&self.inner.deployment), e))?;
        if node.is_none() && path == path::ROOT {
            // The root exists before its first change gives it a record.
            node = Some(UserNode::default());
        }
        if let Some(session) = &self.inner.session {
            // Ordered notifications: never show a change before the event
            // of a watch it fired.
            let timeout = self.inner.options.request_timeout;
            // The record lists this session's notifications still in
            // flight when it was written: they come first.
            if let Some(zxid) = node.as_ref().and_then(|n| n.in_flight.of(session.id)) {
                session.watches.catch_up_to(zxid, timeout).await;
            }
            let stat = node.as_ref().map(|n| n.stat);
            session.watches.catch_up(path, stat.as_ref(), timeout).await;
        }
        Ok(node)
    }

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
            if let Err(e) = sent {
                session.pending.finish(seq);
                return Err(e);
            }
            *next = seq;
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
        if reply.outcome == Outcome::Err(Code::SessionExpired) {
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

/// Touches the session record every third of its timeout; marks the
/// session expired once the record is gone, and suspended while the
/// touch fails.
fn spawn_keepalive(
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

pub(crate) fn unexpected(result: OpResult) -> Error {
    tracing::error!(?result, "reply does not match the request");
    Error::because(
        Code::MarshallingError,
        format!("the reply does not match the request: {result:?}"),
    )
}
