//! A distributed FIFO queue: each item is a persistent sequential node
//! under the queue's directory; a consumer takes the lowest by reading it
//! and deleting exactly the version it read, so every item is taken by
//! one consumer only.

use fk_client::{Client, Code, CreateMode, Error};

use crate::sequence;
use crate::wait;

/// A FIFO queue under a directory node.
#[derive(Clone)]
pub struct Queue {
    client: Client,
    dir: String,
}

impl Queue {
    /// The queue under `dir` (created when missing).
    pub fn new(client: &Client, dir: &str) -> Queue {
        Queue {
            client: client.clone(),
            dir: dir.trim_end_matches('/').to_string(),
        }
    }

    /// Appends an item.
    pub async fn offer(&self, data: &[u8]) -> Result<(), Error> {
        sequence::ensure_dir(&self.client, &self.dir).await?;
        self.client
            .create(
                &format!("{}/item-", self.dir),
                data,
                CreateMode::PersistentSequential,
            )
            .await?;
        Ok(())
    }

    /// Takes the oldest item, or `None` if the queue is empty.
    pub async fn poll(&self) -> Result<Option<Vec<u8>>, Error> {
        let children = match self.client.get_children(&self.dir).await {
            Ok(children) => children,
            Err(e) if e == Code::NoNode => return Ok(None),
            Err(e) => return Err(e),
        };
        for (_, child) in sequence::ordered(children) {
            if let Some(data) = self.take(&child).await? {
                return Ok(Some(data));
            }
        }
        Ok(None)
    }

    /// Takes the oldest item, waiting for one if the queue is empty.
    pub async fn take_next(&self) -> Result<Vec<u8>, Error> {
        sequence::ensure_dir(&self.client, &self.dir).await?;
        loop {
            if let Some(data) = self.poll().await? {
                return Ok(data);
            }
            wait::until_children(&self.client, &self.dir, |c| !c.is_empty()).await?;
        }
    }

    /// Reads and deletes one item; `None` if another consumer took it.
    async fn take(&self, child: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = format!("{}/{child}", self.dir);
        let (data, stat) = match self.client.get_data(&path).await {
            Ok(found) => found,
            Err(e) if e == Code::NoNode => return Ok(None),
            Err(e) => return Err(e),
        };
        match self.client.delete(&path, Some(stat.version)).await {
            Ok(()) => Ok(Some(data)),
            Err(e) if e == Code::NoNode || e == Code::BadVersion => Ok(None),
            Err(e) => Err(e),
        }
    }
}
