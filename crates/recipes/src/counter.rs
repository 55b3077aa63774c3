//! A shared integer: a node whose data is the number in decimal, changed
//! by a `set_data` conditional on the version just read, retried when
//! another client changed it in between.

use fk_client::{Client, Code, CreateMode, Error};

use crate::sequence;

/// An integer counter kept in one node.
#[derive(Clone)]
pub struct Counter {
    client: Client,
    path: String,
}

impl Counter {
    /// The counter at `path` (created at 0 when missing).
    pub fn new(client: &Client, path: &str) -> Counter {
        Counter {
            client: client.clone(),
            path: path.to_string(),
        }
    }

    /// The current value.
    pub async fn get(&self) -> Result<i64, Error> {
        match self.client.get_data(&self.path).await {
            Ok((data, _)) => parse(&data),
            Err(e) if e == Code::NoNode => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Adds `delta`; returns the new value.
    pub async fn add(&self, delta: i64) -> Result<i64, Error> {
        loop {
            let (value, version) = match self.client.get_data(&self.path).await {
                Ok((data, stat)) => (parse(&data)?, stat.version),
                Err(e) if e == Code::NoNode => {
                    let new = delta.to_string();
                    if let Some((parent, _)) = self.path.rsplit_once('/') {
                        if !parent.is_empty() {
                            sequence::ensure_dir(&self.client, parent).await?;
                        }
                    }
                    match self
                        .client
                        .create(&self.path, new.as_bytes(), CreateMode::Persistent)
                        .await
                    {
                        Ok(_) => return Ok(delta),
                        Err(e) if e == Code::NodeExists => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            let new = value
                .checked_add(delta)
                .ok_or(Error::from(Code::BadArguments))?;
            match self
                .client
                .set_data(&self.path, new.to_string().as_bytes(), Some(version))
                .await
            {
                Ok(_) => return Ok(new),
                // Someone else's change came first: read it and try again.
                Err(e) if e == Code::BadVersion || e == Code::NoNode => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

fn parse(data: &[u8]) -> Result<i64, Error> {
    if data.is_empty() {
        return Ok(0);
    }
    std::str::from_utf8(data)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or(Error::from(Code::MarshallingError))
}
