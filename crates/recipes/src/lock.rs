//! An exclusive lock: each contender creates an ephemeral sequential node
//! under the lock's directory; the lowest number holds the lock, and every
//! other contender waits for the deletion of the node just below its own
//! (so a release wakes one contender, not all).

use fk_client::{Client, Code, CreateMode, Error};

use crate::sequence::{self, name};
use crate::wait;

/// An exclusive lock named by a directory node.
#[derive(Clone)]
pub struct Lock {
    client: Client,
    dir: String,
}

/// The held lock; [`LockGuard::release`] gives it up. Dropping the guard
/// without releasing keeps the node until the session ends.
#[must_use = "the lock is held until release() or the end of the session"]
pub struct LockGuard {
    client: Client,
    node: String,
}

impl Lock {
    /// The lock whose contenders live under `dir` (created when missing).
    pub fn new(client: &Client, dir: &str) -> Lock {
        Lock {
            client: client.clone(),
            dir: dir.trim_end_matches('/').to_string(),
        }
    }

    /// Waits until this client holds the lock.
    pub async fn acquire(&self) -> Result<LockGuard, Error> {
        sequence::ensure_dir(&self.client, &self.dir).await?;
        let node = self.enqueue().await?;
        match self.wait_turn(&node).await {
            Ok(()) => Ok(LockGuard {
                client: self.client.clone(),
                node,
            }),
            Err(e) => {
                // Leave the queue, or the next contender would wait on us.
                let _ = self.client.delete(&node, None).await;
                Err(e)
            }
        }
    }

    /// Takes the lock if nobody holds it or waits for it; `None` otherwise.
    pub async fn try_acquire(&self) -> Result<Option<LockGuard>, Error> {
        sequence::ensure_dir(&self.client, &self.dir).await?;
        let node = self.enqueue().await?;
        let children = sequence::ordered(self.client.get_children(&self.dir).await?);
        if children.first().map(|(_, c)| c.as_str()) == Some(name(&node)) {
            return Ok(Some(LockGuard {
                client: self.client.clone(),
                node,
            }));
        }
        self.client.delete(&node, None).await?;
        Ok(None)
    }

    async fn enqueue(&self) -> Result<String, Error> {
        let (node, _) = self
            .client
            .create(
                &format!("{}/lock-", self.dir),
                b"",
                CreateMode::EphemeralSequential,
            )
            .await?;
        Ok(node)
    }

    /// Returns once `node` is the lowest contender.
    async fn wait_turn(&self, node: &str) -> Result<(), Error> {
        let mine = sequence::number(name(node)).ok_or(Error::from(Code::SystemError))?;
        loop {
            let children = sequence::ordered(self.client.get_children(&self.dir).await?);
            if !children.iter().any(|(n, _)| *n == mine) {
                // Our node is gone: the session lost it.
                return Err(Code::SessionExpired.into());
            }
            match children.iter().take_while(|(n, _)| *n < mine).last() {
                None => return Ok(()),
                Some((_, before)) => {
                    wait::until_deleted(&self.client, &format!("{}/{before}", self.dir)).await?
                }
            }
        }
    }
}

impl LockGuard {
    /// The contender node that holds the lock.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Gives the lock up (deletes this contender's node).
    pub async fn release(self) -> Result<(), Error> {
        match self.client.delete(&self.node, None).await {
            Ok(()) => Ok(()),
            Err(e) if e == Code::NoNode => Ok(()),
            Err(e) => Err(e),
        }
    }
}
