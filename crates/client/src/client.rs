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
use fk_core::system::{SessionRecord, SystemStore as _};
use fk_core::{
    path, CreateMode, Error, Message, Op, OpResult, Outcome, SessionId, Stat, StoreError, UserNode,
    UserStore, WriteRequest,
};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::session::{spawn_listener, Pending};

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
}

/// The session's state, as ZooKeeper's `KeeperState` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// The session is alive (ZooKeeper's `SyncConnected`).
    Connected,
    /// The deployment expired or closed the session: every further
    /// operation answers `SessionExpired`.
    Expired,
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
        let listener = spawn_listener(reply_queue.clone(), id, pending.clone());
        let expired = Arc::new(AtomicBool::new(false));
        let keepalive = spawn_keepalive(system, id, options.session_timeout, expired.clone());
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
        let session = self.inner.session.as_ref().ok_or(Error::NotReadOnly)?;
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
        path::validate(path)?;
        if let Some(session) = &self.inner.session {
            let last_sent = *session.next_seq.lock().await;
            session.pending.wait_through(last_sent).await;
        }
        let node = self.inner.user.get(path).await.map_err(connection_loss)?;
        if node.is_none() && path == path::ROOT {
            // The root exists before its first change gives it a record.
            return Ok(Some(UserNode::default()));
        }
        Ok(node)
    }

    async fn write(&self, op: Op) -> Result<OpResult, Error> {
        self.send(op).await?.into()
    }

    /// Sends a write in the session's order and waits for its outcome.
    async fn send(&self, op: Op) -> Result<Outcome, Error> {
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
            let sent = fk_aws::sqs::send(
                &session.clients.sqs,
                &self.inner.deployment.writer_queue_url,
                &session.id.to_string(),
                &request.token(),
                &request.encode(),
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
                if reply.outcome == Outcome::Err(Error::SessionExpired) {
                    session.expired.store(true, Ordering::SeqCst);
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
