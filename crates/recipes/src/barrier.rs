//! Barriers. [`Barrier`]: clients wait while a node exists; whoever
//! removes it lets them all through. [`DoubleBarrier`]: a fixed number of
//! participants enter together (nobody proceeds before all have arrived)
//! and leave together (nobody leaves before all are done).

use fk_client::{Client, Code, CreateMode, Error};

use crate::sequence;
use crate::wait;

/// A barrier held up by one node.
#[derive(Clone)]
pub struct Barrier {
    client: Client,
    path: String,
}

impl Barrier {
    /// The barrier node `path`.
    pub fn new(client: &Client, path: &str) -> Barrier {
        Barrier {
            client: client.clone(),
            path: path.to_string(),
        }
    }

    /// Raises the barrier (creates its node; already raised is fine).
    pub async fn set(&self) -> Result<(), Error> {
        if let Some(parent) = self.path.rsplit_once('/').map(|(p, _)| p) {
            if !parent.is_empty() {
                sequence::ensure_dir(&self.client, parent).await?;
            }
        }
        match self
            .client
            .create(&self.path, b"", CreateMode::Persistent)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e == Code::NodeExists => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Lowers the barrier: every waiter goes through.
    pub async fn remove(&self) -> Result<(), Error> {
        match self.client.delete(&self.path, None).await {
            Ok(()) => Ok(()),
            Err(e) if e == Code::NoNode => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Waits while the barrier is raised.
    pub async fn wait(&self) -> Result<(), Error> {
        wait::until_deleted(&self.client, &self.path).await
    }
}

/// The node the last participant to enter creates: everyone proceeds.
const READY: &str = "ready";

/// A barrier that `count` participants enter and leave together.
pub struct DoubleBarrier {
    client: Client,
    dir: String,
    name: String,
    count: usize,
}

impl DoubleBarrier {
    /// Participant `name` (unique among them) of the barrier under `dir`
    /// for `count` participants.
    pub fn new(client: &Client, dir: &str, name: &str, count: usize) -> DoubleBarrier {
        DoubleBarrier {
            client: client.clone(),
            dir: dir.trim_end_matches('/').to_string(),
            name: name.to_string(),
            count,
        }
    }

    fn node(&self) -> String {
        format!("{}/{}", self.dir, self.name)
    }

    /// Joins, and returns once all `count` participants have joined.
    pub async fn enter(&self) -> Result<(), Error> {
        sequence::ensure_dir(&self.client, &self.dir).await?;
        let ready = format!("{}/{READY}", self.dir);
        match self
            .client
            .create(&self.node(), b"", CreateMode::Ephemeral)
            .await
        {
            Ok(_) => {}
            Err(e) if e == Code::NodeExists => {}
            Err(e) => return Err(e),
        }
        // Whoever sees everyone joined raises `ready`; the others wait
        // for it.
        if self.participants().await?.len() >= self.count {
            match self
                .client
                .create(&ready, b"", CreateMode::Persistent)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e == Code::NodeExists => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        wait::until_exists(&self.client, &ready).await
    }

    /// Leaves, and returns once every participant has left.
    pub async fn leave(&self) -> Result<(), Error> {
        match self.client.delete(&self.node(), None).await {
            Ok(()) => {}
            Err(e) if e == Code::NoNode => {}
            Err(e) => return Err(e),
        }
        wait::until_children(&self.client, &self.dir, |children| {
            children.iter().all(|c| c == READY)
        })
        .await?;
        // The last one out lowers `ready` for the next round; any of them
        // may try, and a second delete finds nothing.
        match self
            .client
            .delete(&format!("{}/{READY}", self.dir), None)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e == Code::NoNode || e == Code::NotEmpty => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn participants(&self) -> Result<Vec<String>, Error> {
        let children = self.client.get_children(&self.dir).await?;
        Ok(children.into_iter().filter(|c| c != READY).collect())
    }
}
