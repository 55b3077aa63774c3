//! The client: connect, ZooKeeper's operations, close.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fk_aws::calls::CallCounter;
use fk_aws::clients::{sdk_config, Clients};
use fk_aws::deployment::Deployment;
use fk_aws::sqs::ReplyQueue;
use fk_aws::system::DynamoSystemStore;
use fk_core::op::MultiFailure;
use fk_core::system::{Expected, SessionRecord, SystemStore as _, WatchRegistration};
use fk_core::watch::{AddWatchMode, WatchKind, Watcher, WatcherType};
use fk_core::{
    path, CreateMode, Error, Message, Op, OpResult, Outcome, SessionId, Stat, StoreError, UserNode,
    UserStore, WriteRequest,
};
use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use crate::session::{spawn_listener, Pending};
use crate::watches::{OneShot, Registry, WatchedEvent};

/// How a client connects.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// ZooKeeper's session timeout: how long the session outlives silence.
    pub session_timeout: Duration,
    /// How long a write waits for its reply before `ConnectionLoss`.
    pub request_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            session_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A connection to a deployment: a ZooKeeper handle.
///
/// Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    deployment: Deployment,
    user: Arc<dyn UserStore>,
    calls: CallCounter,
    options: ConnectOptions,
    session: Option<Session>,
}

struct Session {
    id: SessionId,
    clients: Clients,
    reply_queue: Arc<ReplyQueue>,
    pending: Arc<Pending>,
    /// The last seq sent; held while sending so that the queue receives a
    /// session's writes in seq order.
    next_seq: Mutex<u64>,
    listener: JoinHandle<()>,
    keepalive: JoinHandle<()>,
    /// Set once the deployment says the session is gone.
    expired: Arc<AtomicBool>,
    /// Set by `close`.
    closed: AtomicBool,
    /// Where one-shot watches are registered.
    system: DynamoSystemStore,
    watches: Arc<Registry>,
}

/// The session's state, as ZooKeeper's `KeeperState` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// The session is alive (ZooKeeper's `SyncConnected`).
    Connected,
    /// The deployment expired the session: every further operation
    /// answers `SessionExpired`.
    Expired,
    /// The client closed the session: every further operation answers
    /// `SessionExpired`.
    Closed,
    /// A read-only client: it has no session.
    ReadOnly,
}

impl Drop for Session {
    /// A client dropped without `close` stops answering, like a crashed
    /// process: its session expires after its timeout.
    fn drop(&mut self) {
        self.listener.abort();
        self.keepalive.abort();
    }
}

impl Client {
    /// Opens a session with default options.
    pub async fn connect(deployment: &Deployment) -> Result<Client, Error> {
        Self::connect_with(deployment, ConnectOptions::default()).await
    }

    /// Opens a session: registers it and creates its reply queue.
    pub async fn connect_with(
        deployment: &Deployment,
        options: ConnectOptions,
    ) -> Result<Client, Error> {
        let (clients, user, calls) = open_stores(deployment).await?;
        let id = SessionId::random();
        let queue_name = format!(
            "{}{}.fifo",
            deployment.reply_queue_prefix,
            id.to_string().trim_start_matches("0x")
        );
        let reply_queue = Arc::new(
            ReplyQueue::create(clients.sqs.clone(), &queue_name)
                .await
                .map_err(connection_loss)?,
        );
        let system = DynamoSystemStore::new(
            clients.dynamodb.clone(),
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
        if !system
            .create_session(&record)
            .await
            .map_err(connection_loss)?
        {
            // 62 random bits collided: vanishingly rare, and safe to refuse.
            let _ = reply_queue.delete().await;
            return Err(Error::SystemError);
        }
        let pending = Arc::new(Pending::default());
        let watches = Arc::new(Registry::new());
        let listener = spawn_listener(reply_queue.clone(), id, pending.clone(), watches.clone());
        let expired = Arc::new(AtomicBool::new(false));
        let keepalive =
            spawn_keepalive(system.clone(), id, options.session_timeout, expired.clone());
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
                    expired,
                    closed: AtomicBool::new(false),
                    system,
                    watches,
                }),
            }),
        })
    }

    /// A client without a session: it reads, and refuses writes with
    /// `NotReadOnly`. Creates nothing in the deployment.
    pub async fn read_only(deployment: &Deployment) -> Result<Client, Error> {
        let (_, user, calls) = open_stores(deployment).await?;
        Ok(Client {
            inner: Arc::new(Inner {
                deployment: deployment.clone(),
                user,
                calls,
                options: ConnectOptions::default(),
                session: None,
            }),
        })
    }

    /// The session's state.
    pub fn state(&self) -> SessionState {
        match &self.inner.session {
            None => SessionState::ReadOnly,
            Some(s) if s.closed.load(Ordering::SeqCst) => SessionState::Closed,
            Some(s) if s.expired.load(Ordering::SeqCst) => SessionState::Expired,
            Some(_) => SessionState::Connected,
        }
    }

    /// The session id, if this client has a session.
    pub fn session_id(&self) -> Option<SessionId> {
        self.inner.session.as_ref().map(|s| s.id)
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
        let node = self.read(path).await?.ok_or(Error::NoNode)?;
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
        let node = self.read(path).await?.ok_or(Error::NoNode)?;
        let mut children = node.children;
        children.sort();
        Ok((children, node.stat))
    }

    /// This session's ephemeral nodes whose paths start with `prefix`
    /// (ZooKeeper's `getEphemerals`), sorted.
    pub async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>, Error> {
        path::validate(prefix)?;
        let session = self.session()?;
        let system = DynamoSystemStore::new(
            session.clients.dynamodb.clone(),
            self.inner.deployment.system_table.clone(),
            self.inner.deployment.sessions_table.clone(),
        );
        let record = system
            .session(session.id)
            .await
            .map_err(connection_loss)?
            .ok_or(Error::SessionExpired)?;
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
                Err(Error::NoNode) if next != path => continue,
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

    /// Runs `ops` (create, set_data, delete, check) as one atomic write:
    /// all apply, in order, or none. On failure, ZooKeeper's per-op report:
    /// `Ok` for the ops before the failing one, its error, then
    /// `RuntimeInconsistency`.
    pub async fn multi(&self, ops: Vec<Op>) -> Result<Vec<OpResult>, MultiFailure> {
        let failure = |error| MultiFailure {
            error,
            results: Vec::new(),
        };
        match self.send(Op::multi(ops)).await.map_err(failure)? {
            Outcome::Ok(OpResult::Multi { results }) => Ok(results),
            Outcome::Ok(other) => Err(failure(unexpected(other))),
            Outcome::Err(e) => Err(failure(e)),
            Outcome::MultiErr(f) => Err(f),
        }
    }

    /// Every watch event of the session from now on, in commit order (as
    /// ZooKeeper's default watcher receives them).
    pub fn subscribe(&self) -> Result<broadcast::Receiver<WatchedEvent>, Error> {
        Ok(self.session()?.watches.subscribe())
    }

    /// `get_data`, leaving a one-shot data watch: `NodeDataChanged` or
    /// `NodeDeleted` follows the next change. No watch on `NoNode`.
    pub async fn get_data_and_watch(&self, path: &str) -> Result<(Vec<u8>, Stat), Error> {
        let node = self
            .read_and_watch(path, OneShot::Data, |node| {
                node.map(|n| (Expected::Modified(n.stat.mzxid), n.stat.mzxid))
            })
            .await?
            .ok_or(Error::NoNode)?;
        Ok((node.data.to_vec(), node.stat))
    }

    /// `exists`, leaving a one-shot watch: `NodeCreated` if the node is
    /// missing, else `NodeDataChanged` or `NodeDeleted`.
    pub async fn exists_and_watch(&self, path: &str) -> Result<Option<Stat>, Error> {
        let node = self
            .read_and_watch(path, OneShot::Exist, |node| {
                Some(match node {
                    Some(n) => (Expected::Modified(n.stat.mzxid), n.stat.mzxid),
                    None => (Expected::Missing, 0),
                })
            })
            .await?;
        Ok(node.map(|n| n.stat))
    }

    /// `get_children` with the node's `Stat`, leaving a one-shot child
    /// watch: `NodeChildrenChanged` or `NodeDeleted` follows the next
    /// change. No watch on `NoNode`.
    pub async fn get_children_and_watch(&self, path: &str) -> Result<(Vec<String>, Stat), Error> {
        let node = self
            .read_and_watch(path, OneShot::Child, |node| {
                node.map(|n| (Expected::ChildrenModified(n.stat.pzxid), n.stat.pzxid))
            })
            .await?
            .ok_or(Error::NoNode)?;
        let mut children = node.children;
        children.sort();
        Ok((children, node.stat))
    }

    /// Adds a persistent or persistent-recursive watch (ZooKeeper's
    /// `addWatch`): ordered with the writes, so every change committed
    /// after this returns fires it, until `remove_watches`.
    pub async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<(), Error> {
        path::validate(path)?;
        let session = self.session()?;
        session.watches.add_persistent(path, mode);
        let op = Op::AddWatch {
            path: path.to_string(),
            mode,
        };
        match self.write(op).await {
            Ok(OpResult::WatchAdded) => Ok(()),
            Ok(other) => Err(unexpected(other)),
            Err(e) => {
                let _ = session.watches.remove(path, WatcherType::Any);
                Err(e)
            }
        }
    }

    /// Removes this session's watches of `watcher_type` on `path`
    /// (persistent ones with any type); `NoWatcher` if it has none.
    pub async fn remove_watches(&self, path: &str, watcher_type: WatcherType) -> Result<(), Error> {
        path::validate(path)?;
        let session = self.session()?;
        let removed = session.watches.remove(path, watcher_type)?;
        let kinds = [
            (removed.data, WatchKind::Data),
            (removed.child, WatchKind::Children),
        ];
        for (_, kind) in kinds.into_iter().filter(|(gone, _)| *gone) {
            // Best effort: a leftover fires once into nothing.
            if let Err(e) = session.system.remove_watch(path, kind, session.id).await {
                tracing::warn!(error = %e, path, "a removed watch stays on the node until it fires");
            }
        }
        if removed.persistent {
            let op = Op::RemovePersistentWatches {
                path: path.to_string(),
            };
            match self.write(op).await? {
                OpResult::WatchesRemoved => {}
                other => return Err(unexpected(other)),
            }
        }
        Ok(())
    }

    /// Reads `path` and registers a one-shot watch against exactly the
    /// state read (`expect` says which, or `None` for no watch). If a
    /// write moved the node on meanwhile, or holds its lock, reads again.
    async fn read_and_watch(
        &self,
        path: &str,
        kind: OneShot,
        expect: impl Fn(Option<&UserNode>) -> Option<(Expected, i64)>,
    ) -> Result<Option<UserNode>, Error> {
        let session = self.session()?;
        let watcher = Watcher {
            session: session.id,
            reply_to: session.reply_queue.url.clone(),
        };
        let stored = match kind {
            OneShot::Child => WatchKind::Children,
            OneShot::Data | OneShot::Exist => WatchKind::Data,
        };
        let deadline = tokio::time::Instant::now() + self.inner.options.request_timeout;
        let mut backoff = Duration::from_millis(10);
        loop {
            let node = self.read(path).await?;
            let Some((expected, zxid)) = expect(node.as_ref()) else {
                return Ok(node);
            };
            // The exists watch of a node that exists is a data watch.
            let kind = match (kind, expected) {
                (OneShot::Exist, Expected::Modified(_)) => OneShot::Data,
                (kind, _) => kind,
            };
            // Known before the deployment can fire it.
            session.watches.add_one_shot(path, kind, zxid);
            let registered = session
                .system
                .register_watch(WatchRegistration {
                    path,
                    kind: stored,
                    watcher: &watcher,
                    expected,
                    now_ms: fk_core::Clock::now_ms(&fk_core::SystemClock),
                })
                .await;
            match registered {
                Ok(true) => return Ok(node),
                Ok(false) => session.watches.forget_one_shot(path, kind),
                Err(e) => {
                    session.watches.forget_one_shot(path, kind);
                    return Err(connection_loss(e));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::OperationTimeout);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(200));
        }
    }

    /// The live session, or why there is none.
    fn session(&self) -> Result<&Session, Error> {
        let session = self.inner.session.as_ref().ok_or(Error::NotReadOnly)?;
        if session.expired.load(Ordering::SeqCst) {
            return Err(Error::SessionExpired);
        }
        Ok(session)
    }

    /// Ends the session: its ephemeral nodes are deleted (one ordered
    /// write, after every write the session sent before), its record goes,
    /// then its reply queue.
    pub async fn close(self) -> Result<(), Error> {
        let Some(session) = &self.inner.session else {
            return Ok(());
        };
        let closed = match self.write(Op::CloseSession).await {
            Ok(_) | Err(Error::SessionExpired) => Ok(()),
            Err(e) => Err(e),
        };
        session.expired.store(true, Ordering::SeqCst);
        session.closed.store(true, Ordering::SeqCst);
        session.keepalive.abort();
        session.listener.abort();
        session
            .reply_queue
            .delete()
            .await
            .map_err(connection_loss)?;
        closed
    }

    async fn read(&self, path: &str) -> Result<Option<UserNode>, Error> {
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
        self.read_in_order(path).instrument(span).await
    }

    async fn read_in_order(&self, path: &str) -> Result<Option<UserNode>, Error> {
        path::validate(path)?;
        if let Some(session) = &self.inner.session {
            if session.expired.load(Ordering::SeqCst) {
                return Err(Error::SessionExpired);
            }
            let last_sent = *session.next_seq.lock().await;
            session.pending.wait_through(last_sent).await;
        }
        let mut node = self.inner.user.get(path).await.map_err(connection_loss)?;
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

    async fn write(&self, op: Op) -> Result<OpResult, Error> {
        self.send(op).await?.into()
    }

    /// Sends a write in the session's order and waits for its outcome,
    /// in a client span that the write's whole trace descends from.
    async fn send(&self, op: Op) -> Result<Outcome, Error> {
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
            Err(e) => Some(*e),
        };
        if let Some(e) = error {
            span.record("zk.error", e.code_name());
            span.record("otel.status_code", "ERROR");
        }
        outcome
    }

    async fn send_in_order(&self, op: Op) -> Result<Outcome, Error> {
        let session = self.inner.session.as_ref().ok_or(Error::NotReadOnly)?;
        if session.expired.load(Ordering::SeqCst) {
            return Err(Error::SessionExpired);
        }
        let (seq, answer) = {
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
                return Err(Error::BadArguments);
            }
            let sent = fk_aws::sqs::send(
                &session.clients.sqs,
                &self.inner.deployment.writer_queue_url,
                &session.id.to_string(),
                &request.token(),
                &envelope,
            )
            .await;
            if let Err(e) = sent {
                session.pending.finish(seq);
                return Err(connection_loss(e));
            }
            *next = seq;
            (seq, answer)
        };
        let reply = tokio::time::timeout(self.inner.options.request_timeout, answer).await;
        session.pending.finish(seq);
        match reply {
            Ok(Ok(reply)) => {
                tracing::Span::current().record("zk.zxid", reply.zxid);
                tracing::info!(zk.zxid = reply.zxid, "reply received");
                if reply.outcome == Outcome::Err(Error::SessionExpired) {
                    session.expired.store(true, Ordering::SeqCst);
                }
                if let Some(zxid) = reply.after_event {
                    // A watch event this write (or one just before) fired.
                    let timeout = self.inner.options.request_timeout;
                    session.watches.catch_up_to(zxid, timeout).await;
                }
                Ok(reply.outcome)
            }
            Ok(Err(_)) | Err(_) => Err(Error::ConnectionLoss),
        }
    }
}

/// Touches the session record every third of its timeout; marks the
/// session expired once the record is gone.
fn spawn_keepalive(
    system: DynamoSystemStore,
    id: SessionId,
    timeout: Duration,
    expired: Arc<AtomicBool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = (timeout / 3).max(Duration::from_millis(100));
        loop {
            tokio::time::sleep(period).await;
            let now = fk_core::Clock::now_ms(&fk_core::SystemClock);
            match system.touch_session(id, now).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(session = %id, "session expired");
                    expired.store(true, Ordering::SeqCst);
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "keep-alive failed; retrying"),
            }
        }
    })
}

async fn open_stores(
    deployment: &Deployment,
) -> Result<(Clients, Arc<dyn UserStore>, CallCounter), Error> {
    let calls = CallCounter::new();
    let sdk = sdk_config(deployment.endpoint.as_deref(), &deployment.region).await;
    let clients = Clients::new(&sdk, &calls);
    let user = fk_aws::user::connect(&deployment.user_store, &clients, &calls)
        .await
        .map_err(connection_loss)?;
    Ok((clients, user, calls))
}

fn connection_loss(e: StoreError) -> Error {
    tracing::warn!(error = %e, "backend call failed");
    Error::ConnectionLoss
}

fn unexpected(result: OpResult) -> Error {
    tracing::error!(?result, "reply does not match the request");
    Error::MarshallingError
}
