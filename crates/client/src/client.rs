//! The client: its handle and session, ZooKeeper's reads and writes,
//! close. Opening a session is in `connect.rs`, the write path in
//! `send.rs`, watches in `watching.rs`, multi in `multi.rs`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fk_aws::calls::CallCounter;
use fk_aws::clients::Clients;
use fk_aws::deployment::Deployment;
use fk_aws::sqs::ReplyQueue;
use fk_aws::system::DynamoSystemStore;
use fk_core::system::SystemStore as _;
use fk_core::{path, CreateMode, Op, OpResult, SessionId, Stat, UserNode, UserStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use crate::connect;
use crate::options::{ClientBuilder, ConnectOptions};
use crate::outbox::Outbox;
use crate::session::{Listener, Pending};
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
    pub(crate) user: Arc<dyn UserStore>,
    pub(crate) calls: CallCounter,
    pub(crate) options: ConnectOptions,
    pub(crate) session: Option<Session>,
    /// The read-only client's state (a session has its own).
    pub(crate) read_only: Status,
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
    pub(crate) clients: Clients,
    pub(crate) reply_queue: Arc<ReplyQueue>,
    pub(crate) pending: Arc<Pending>,
    /// Gives the session's writes their seqs and sends them in that order.
    pub(crate) outbox: Outbox,
    pub(crate) listener: Listener,
    pub(crate) keepalive: JoinHandle<()>,
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
        // From here on the session record going away (the keep-alive
        // finds it gone before the close's reply comes) is the close's
        // doing, not an expiry.
        session.status.begin_close();
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
            session.pending.wait_through(session.outbox.last()).await;
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
}

pub(crate) fn unexpected(result: OpResult) -> Error {
    tracing::error!(?result, "reply does not match the request");
    Error::because(
        Code::MarshallingError,
        format!("the reply does not match the request: {result:?}"),
    )
}
