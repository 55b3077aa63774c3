//! The commands and what each does.

use clap::Subcommand;
use fk_client::{Client, CreateMode, Error, Stat};

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Create a node.
    Create {
        /// Sequential: append the parent's 10-digit counter to the name.
        #[arg(short = 's')]
        sequential: bool,
        /// Ephemeral: deleted when this session ends.
        #[arg(short = 'e')]
        ephemeral: bool,
        path: String,
        #[arg(default_value = "")]
        data: String,
    },
    /// Print a node's data and Stat.
    Get { path: String },
    /// Replace a node's data.
    Set {
        path: String,
        data: String,
        /// Only if the node's version is this (ZooKeeper's -1: any).
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
    },
    /// Delete a childless node.
    Delete {
        path: String,
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
    },
    /// List a node's children.
    Ls {
        /// Also print the node's Stat.
        #[arg(short = 's')]
        stat: bool,
        path: String,
    },
    /// Print a node's Stat.
    Stat { path: String },
    /// Print a node's Stat if it exists; exit 1 if it does not.
    Exists { path: String },
    /// Wait until every write committed so far is readable.
    Sync { path: String },
}

/// What a command printed.
#[derive(Debug)]
pub enum Output {
    Created {
        path: String,
        stat: Stat,
    },
    Data {
        path: String,
        data: Vec<u8>,
        stat: Stat,
    },
    Set {
        path: String,
        stat: Stat,
    },
    Deleted {
        path: String,
    },
    Synced {
        path: String,
    },
    Children {
        path: String,
        children: Vec<String>,
        stat: Option<Stat>,
    },
    Stat {
        path: String,
        stat: Stat,
    },
}

/// A ZooKeeper error, and the path it concerns.
#[derive(Debug)]
pub struct Failure {
    pub path: String,
    pub error: Error,
}

impl Command {
    /// Whether the command needs a session.
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Command::Create { .. }
                | Command::Set { .. }
                | Command::Delete { .. }
                | Command::Sync { .. }
        )
    }

    pub async fn run(self, zk: &Client) -> Result<Output, Failure> {
        let path = self.path().to_string();
        let fail = |error| Failure {
            path: path.clone(),
            error,
        };
        match self {
            Command::Create {
                sequential,
                ephemeral,
                path,
                data,
            } => {
                let mode = CreateMode::from_flags(sequential, ephemeral);
                let (path, stat) = zk
                    .create(&path, data.as_bytes(), mode)
                    .await
                    .map_err(fail)?;
                Ok(Output::Created { path, stat })
            }
            Command::Get { path } => {
                let (data, stat) = zk.get_data(&path).await.map_err(fail)?;
                Ok(Output::Data { path, data, stat })
            }
            Command::Set {
                path,
                data,
                version,
            } => {
                let version = version.filter(|v| *v != -1);
                let stat = zk
                    .set_data(&path, data.as_bytes(), version)
                    .await
                    .map_err(fail)?;
                Ok(Output::Set { path, stat })
            }
            Command::Delete { path, version } => {
                let version = version.filter(|v| *v != -1);
                zk.delete(&path, version).await.map_err(fail)?;
                Ok(Output::Deleted { path })
            }
            Command::Ls { stat, path } => {
                let (children, node) = zk.get_children_with_stat(&path).await.map_err(fail)?;
                Ok(Output::Children {
                    path,
                    children,
                    stat: stat.then_some(node),
                })
            }
            Command::Sync { path } => {
                zk.sync(&path).await.map_err(fail)?;
                Ok(Output::Synced { path })
            }
            Command::Stat { path } | Command::Exists { path } => {
                let stat = zk.exists(&path).await.map_err(fail)?;
                let stat = stat.ok_or_else(|| fail(Error::NoNode))?;
                Ok(Output::Stat { path, stat })
            }
        }
    }

    fn path(&self) -> &str {
        match self {
            Command::Create { path, .. }
            | Command::Get { path }
            | Command::Set { path, .. }
            | Command::Delete { path, .. }
            | Command::Ls { path, .. }
            | Command::Stat { path }
            | Command::Exists { path }
            | Command::Sync { path } => path,
        }
    }
}
