//! Leader election: each candidate creates an ephemeral sequential node;
//! the lowest leads. A candidate waits for the node just below its own,
//! so a leader's departure wakes its successor only.

use fk_client::{Client, Code, CreateMode, Error};

use crate::sequence::{self, name};
use crate::wait;

/// One candidate in the election held under a directory node.
pub struct LeaderElection {
    client: Client,
    dir: String,
    node: String,
}

impl LeaderElection {
    /// Enters the election under `dir` (created when missing) with `data`
    /// (what the others read as this candidate's identity).
    pub async fn join(client: &Client, dir: &str, data: &[u8]) -> Result<LeaderElection, Error> {
        let dir = dir.trim_end_matches('/').to_string();
        sequence::ensure_dir(client, &dir).await?;
        let (node, _) = client
            .create(
                &format!("{dir}/candidate-"),
                data,
                CreateMode::EphemeralSequential,
            )
            .await?;
        Ok(LeaderElection {
            client: client.clone(),
            dir,
            node,
        })
    }

    /// This candidate's node.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether this candidate leads now.
    pub async fn is_leader(&self) -> Result<bool, Error> {
        let children = sequence::ordered(self.client.get_children(&self.dir).await?);
        Ok(children.first().map(|(_, c)| c.as_str()) == Some(name(&self.node)))
    }

    /// The current leader's data, if there is a candidate.
    pub async fn leader(&self) -> Result<Option<Vec<u8>>, Error> {
        loop {
            let children = sequence::ordered(self.client.get_children(&self.dir).await?);
            let Some((_, first)) = children.first() else {
                return Ok(None);
            };
            match self.client.get_data(&format!("{}/{first}", self.dir)).await {
                Ok((data, _)) => return Ok(Some(data)),
                // It left between the two reads: ask again.
                Err(e) if e == Code::NoNode => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits until this candidate leads.
    pub async fn wait_leadership(&self) -> Result<(), Error> {
        let mine = sequence::number(name(&self.node)).ok_or(Error::from(Code::SystemError))?;
        loop {
            let children = sequence::ordered(self.client.get_children(&self.dir).await?);
            if !children.iter().any(|(n, _)| *n == mine) {
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

    /// Leaves the election (and the leadership, if held).
    pub async fn resign(self) -> Result<(), Error> {
        match self.client.delete(&self.node, None).await {
            Ok(()) => Ok(()),
            Err(e) if e == Code::NoNode => Ok(()),
            Err(e) => Err(e),
        }
    }
}
