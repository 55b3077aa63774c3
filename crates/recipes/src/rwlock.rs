//! A shared/exclusive lock: readers create `read-` nodes, writers `write-`
//! nodes, all ephemeral sequential under one directory (one sequence). A
//! reader holds the lock once no writer is ahead of it and waits for the
//! last writer ahead; a writer holds it once nobody is ahead and waits for
//! the node just ahead of it.

use fk_client::{Client, Code, CreateMode, Error};

use crate::sequence::{self, name};
use crate::wait;

const READ: &str = "read-";
const WRITE: &str = "write-";

/// A shared/exclusive lock named by a directory node.
#[derive(Clone)]
pub struct RwLock {
    client: Client,
    dir: String,
}

/// A held read or write lock; [`RwLockGuard::release`] gives it up.
#[must_use = "the lock is held until release() or the end of the session"]
pub struct RwLockGuard {
    client: Client,
    node: String,
}

impl RwLock {
    /// The lock whose contenders live under `dir` (created when missing).
    pub fn new(client: &Client, dir: &str) -> RwLock {
        RwLock {
            client: client.clone(),
            dir: dir.trim_end_matches('/').to_string(),
        }
    }

    /// Waits until this client shares the lock with other readers.
    pub async fn read(&self) -> Result<RwLockGuard, Error> {
        self.acquire(READ).await
    }

    /// Waits until this client holds the lock alone.
    pub async fn write(&self) -> Result<RwLockGuard, Error> {
        self.acquire(WRITE).await
    }

    async fn acquire(&self, kind: &str) -> Result<RwLockGuard, Error> {
        sequence::ensure_dir(&self.client, &self.dir).await?;
        let (node, _) = self
            .client
            .create(
                &format!("{}/{kind}", self.dir),
                b"",
                CreateMode::EphemeralSequential,
            )
            .await?;
        match self.wait_turn(&node, kind).await {
            Ok(()) => Ok(RwLockGuard {
                client: self.client.clone(),
                node,
            }),
            Err(e) => {
                let _ = self.client.delete(&node, None).await;
                Err(e)
            }
        }
    }

    async fn wait_turn(&self, node: &str, kind: &str) -> Result<(), Error> {
        let mine = sequence::number(name(node)).ok_or(Error::from(Code::SystemError))?;
        loop {
            let children = sequence::ordered(self.client.get_children(&self.dir).await?);
            if !children.iter().any(|(n, _)| *n == mine) {
                return Err(Code::SessionExpired.into());
            }
            let ahead = children.iter().take_while(|(n, _)| *n < mine);
            // A reader minds only writers ahead; a writer minds everyone.
            let blocker = if kind == READ {
                ahead.filter(|(_, c)| c.starts_with(WRITE)).last()
            } else {
                ahead.last()
            };
            match blocker {
                None => return Ok(()),
                Some((_, c)) => {
                    wait::until_deleted(&self.client, &format!("{}/{c}", self.dir)).await?
                }
            }
        }
    }
}

impl RwLockGuard {
    /// Whether this is a write (exclusive) hold.
    pub fn is_write(&self) -> bool {
        name(&self.node).starts_with(WRITE)
    }

    /// Gives the lock up.
    pub async fn release(self) -> Result<(), Error> {
        match self.client.delete(&self.node, None).await {
            Ok(()) => Ok(()),
            Err(e) if e == Code::NoNode => Ok(()),
            Err(e) => Err(e),
        }
    }
}
