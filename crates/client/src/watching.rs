//! The client's watch operations: watched reads, persistent watches and
//! their removal.
//!
//! Two ways to receive events, as in ZooKeeper:
//!
//! - a handle per watch: `get_and_watch_data`, `check_and_watch_stat`,
//!   `get_and_watch_children` return a [`OneshotWatcher`]; [`Client::watch`]
//!   returns a [`PersistentWatcher`];
//! - the session's default watcher: `get_data_and_watch`,
//!   `exists_and_watch`, `get_children_and_watch` and `add_watch` (the
//!   `watch = true` of ZooKeeper's Java client) deliver to every stream
//!   from [`Client::subscribe`], in commit order.

use std::sync::Arc;
use std::time::Duration;

use fk_core::system::{Expected, SystemStore as _, WatchRegistration};
use fk_core::watch::{AddWatchMode, WatchKind, Watcher, WatcherType};
use fk_core::{path, Op, OpResult, Stat, UserNode};
use tokio::sync::{mpsc, oneshot};

use crate::client::unexpected;
use crate::handles::{OneshotWatcher, PersistentWatcher};
use crate::watches::{OneShot, WatchedEvent};
use crate::{connect, Client, Code, Error};

/// A handle's end of its one-shot watch.
type Receiver = oneshot::Receiver<Result<WatchedEvent, Error>>;

impl Client {
    /// Every event of the default watcher's watches from now on, in
    /// commit order (as ZooKeeper's default watcher receives them). The
    /// stream is unbounded: events wait in memory until read, and none is
    /// lost. It ends when the session does.
    pub fn subscribe(&self) -> Result<mpsc::UnboundedReceiver<WatchedEvent>, Error> {
        Ok(self.session()?.watches.subscribe())
    }

    /// A node's data and `Stat`, and a handle to the one-shot watch left
    /// on it: `NodeDataChanged` or `NodeDeleted` follows the next change.
    /// No watch on `NoNode`.
    pub async fn get_and_watch_data(
        &self,
        path: &str,
    ) -> Result<(Vec<u8>, Stat, OneshotWatcher), Error> {
        let (node, rx) = self
            .read_and_watch(path, OneShot::Data, true, data_expectation)
            .await?;
        let (node, rx) = node.zip(rx).ok_or(Code::NoNode)?;
        Ok((node.data.to_vec(), node.stat, OneshotWatcher::new(path, rx)))
    }

    /// A node's `Stat` (`None` if it does not exist), and a handle to the
    /// one-shot watch left on it: `NodeCreated` if the node is missing,
    /// else `NodeDataChanged` or `NodeDeleted`.
    pub async fn check_and_watch_stat(
        &self,
        path: &str,
    ) -> Result<(Option<Stat>, OneshotWatcher), Error> {
        let (node, rx) = self
            .read_and_watch(path, OneShot::Exist, true, exists_expectation)
            .await?;
        let rx = rx.expect("an exists watch is always left");
        Ok((node.map(|n| n.stat), OneshotWatcher::new(path, rx)))
    }

    /// A node's child names (sorted) and `Stat`, and a handle to the
    /// one-shot child watch left on it: `NodeChildrenChanged` or
    /// `NodeDeleted` follows the next change. No watch on `NoNode`.
    pub async fn get_and_watch_children(
        &self,
        path: &str,
    ) -> Result<(Vec<String>, Stat, OneshotWatcher), Error> {
        let (node, rx) = self
            .read_and_watch(path, OneShot::Child, true, children_expectation)
            .await?;
        let (node, rx) = node.zip(rx).ok_or(Code::NoNode)?;
        let mut children = node.children;
        children.sort();
        Ok((children, node.stat, OneshotWatcher::new(path, rx)))
    }

    /// Adds a persistent (or persistent-recursive) watch with a handle of
    /// its own (ZooKeeper's `addWatch` with a watcher): ordered with the
    /// writes, so every change committed after this returns reaches the
    /// handle, until [`PersistentWatcher::remove`] or the session's end.
    pub async fn watch(&self, path: &str, mode: AddWatchMode) -> Result<PersistentWatcher, Error> {
        path::validate(path)?;
        let session = self.session()?;
        let (id, events) = session
            .watches
            .add_persistent(path, mode, true)
            .expect("a handle's stream");
        match self.add_persistent_on_server(path, mode).await {
            Ok(()) => Ok(PersistentWatcher::new(
                path,
                mode,
                id,
                events,
                Arc::downgrade(&self.inner),
            )),
            Err(e) => {
                session.watches.remove_persistent_handle(path, id);
                Err(e)
            }
        }
    }

    /// `get_data`, leaving a one-shot data watch for the default watcher
    /// ([`subscribe`](Client::subscribe)): `NodeDataChanged` or
    /// `NodeDeleted` follows the next change. No watch on `NoNode`.
    pub async fn get_data_and_watch(&self, path: &str) -> Result<(Vec<u8>, Stat), Error> {
        let (node, _) = self
            .read_and_watch(path, OneShot::Data, false, data_expectation)
            .await?;
        let node = node.ok_or(Code::NoNode)?;
        Ok((node.data.to_vec(), node.stat))
    }

    /// `exists`, leaving a one-shot watch for the default watcher:
    /// `NodeCreated` if the node is missing, else `NodeDataChanged` or
    /// `NodeDeleted`.
    pub async fn exists_and_watch(&self, path: &str) -> Result<Option<Stat>, Error> {
        let (node, _) = self
            .read_and_watch(path, OneShot::Exist, false, exists_expectation)
            .await?;
        Ok(node.map(|n| n.stat))
    }

    /// `get_children` with the node's `Stat`, leaving a one-shot child
    /// watch for the default watcher: `NodeChildrenChanged` or
    /// `NodeDeleted` follows the next change. No watch on `NoNode`.
    pub async fn get_children_and_watch(&self, path: &str) -> Result<(Vec<String>, Stat), Error> {
        let (node, _) = self
            .read_and_watch(path, OneShot::Child, false, children_expectation)
            .await?;
        let node = node.ok_or(Code::NoNode)?;
        let mut children = node.children;
        children.sort();
        Ok((children, node.stat))
    }

    /// Adds a persistent or persistent-recursive watch for the default
    /// watcher (ZooKeeper's `addWatch`): ordered with the writes, so every
    /// change committed after this returns fires it, until
    /// `remove_watches`.
    pub async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<(), Error> {
        path::validate(path)?;
        let session = self.session()?;
        session.watches.add_persistent(path, mode, false);
        match self.add_persistent_on_server(path, mode).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = session.watches.remove(path, WatcherType::Any);
                Err(e)
            }
        }
    }

    async fn add_persistent_on_server(&self, path: &str, mode: AddWatchMode) -> Result<(), Error> {
        let op = Op::AddWatch {
            path: path.to_string(),
            mode,
        };
        match self.write(op).await? {
            OpResult::WatchAdded => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Removes this session's watches of `watcher_type` on `path`
    /// (persistent ones with any type), the default watcher's and every
    /// handle's (which hear `NoWatcher`); `NoWatcher` if it has none.
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
            self.remove_persistent_on_server(path).await?;
        }
        Ok(())
    }

    async fn remove_persistent_on_server(&self, path: &str) -> Result<(), Error> {
        let op = Op::RemovePersistentWatches {
            path: path.to_string(),
        };
        match self.write(op).await? {
            OpResult::WatchesRemoved => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// [`PersistentWatcher::remove`]: the handle's watch goes; the
    /// deployment's with the session's last one on the path.
    pub(crate) async fn remove_persistent_handle(&self, path: &str, id: u64) -> Result<(), Error> {
        let session = self.session()?;
        if session.watches.remove_persistent_handle(path, id) {
            return Ok(());
        }
        self.remove_persistent_on_server(path).await
    }

    /// A dropped [`PersistentWatcher`]: its watch goes here only.
    pub(crate) fn forget_persistent_handle(&self, path: &str, id: u64) {
        if let Some(session) = &self.inner.session {
            session.watches.remove_persistent_handle(path, id);
        }
    }

    /// Reads `path` and registers a one-shot watch against exactly the
    /// state read (`expect` says which, or `None` for no watch), for the
    /// default watcher or, with `handle`, for a new handle (its receiver
    /// is returned). If a write moved the node on meanwhile, or holds its
    /// lock, reads again.
    async fn read_and_watch(
        &self,
        path: &str,
        kind: OneShot,
        handle: bool,
        expect: fn(Option<&UserNode>) -> Option<(Expected, i64)>,
    ) -> Result<(Option<UserNode>, Option<Receiver>), Error> {
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
                return Ok((node, None));
            };
            // The exists watch of a node that exists is a data watch.
            let kind = match (kind, expected) {
                (OneShot::Exist, Expected::Modified(_)) => OneShot::Data,
                (kind, _) => kind,
            };
            // Known before the deployment can fire it; a fresh channel for
            // each attempt, so that a failed one takes only its own back.
            let (sender, receiver) = match handle {
                true => {
                    let (tx, rx) = oneshot::channel();
                    (Some(tx), Some(rx))
                }
                false => (None, None),
            };
            let added = session.watches.add_one_shot(path, kind, zxid, sender);
            let registered = self
                .inner
                .options
                .retry_policy
                .run(|| async {
                    session
                        .system
                        .register_watch(WatchRegistration {
                            path,
                            kind: stored,
                            watcher: &watcher,
                            expected,
                            now_ms: fk_core::Clock::now_ms(&fk_core::SystemClock),
                        })
                        .await
                        .map_err(|e| Error::store(connect::system_table(&self.inner.deployment), e))
                })
                .await;
            match registered {
                Ok(true) => return Ok((node, receiver)),
                Ok(false) => {
                    drop(receiver);
                    session.watches.forget_one_shot(path, kind, added);
                }
                Err(e) => {
                    drop(receiver);
                    session.watches.forget_one_shot(path, kind, added);
                    return Err(e);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Code::OperationTimeout.into());
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(200));
        }
    }
}

fn data_expectation(node: Option<&UserNode>) -> Option<(Expected, i64)> {
    node.map(|n| (Expected::Modified(n.stat.mzxid), n.stat.mzxid))
}

fn exists_expectation(node: Option<&UserNode>) -> Option<(Expected, i64)> {
    Some(match node {
        Some(n) => (Expected::Modified(n.stat.mzxid), n.stat.mzxid),
        None => (Expected::Missing, 0),
    })
}

fn children_expectation(node: Option<&UserNode>) -> Option<(Expected, i64)> {
    node.map(|n| (Expected::ChildrenModified(n.stat.pzxid), n.stat.pzxid))
}
