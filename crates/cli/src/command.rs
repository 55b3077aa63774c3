//! The commands and what each does.

use clap::Subcommand;
use fk_client::{Client, CreateMode, Error, Stat};
use fk_core::{Op, OpResult};

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
    /// This session's ephemeral nodes under a prefix (useful in `script`).
    #[command(name = "getEphemerals")]
    GetEphemerals {
        #[arg(default_value = "/")]
        path: String,
    },
    /// Count the nodes below a path, at any depth.
    #[command(name = "getAllChildrenNumber")]
    GetAllChildrenNumber { path: String },
    /// Run several writes atomically, each given as one quoted argument:
    /// `multi 'create /a x' 'set /a y -v 0' 'check /a -v 1' 'delete /b'`.
    Multi {
        #[arg(required = true)]
        steps: Vec<String>,
    },
}

/// One step of `multi`.
#[derive(Debug, Clone, Subcommand)]
enum Step {
    Create {
        #[arg(short = 's')]
        sequential: bool,
        #[arg(short = 'e')]
        ephemeral: bool,
        path: String,
        #[arg(default_value = "")]
        data: String,
    },
    Set {
        path: String,
        data: String,
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
    },
    Delete {
        path: String,
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
    },
    Check {
        path: String,
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
    },
}

impl Step {
    /// Parses one quoted step.
    fn parse(text: &str) -> Result<Op, Error> {
        #[derive(Debug, clap::Parser)]
        #[command(no_binary_name = true)]
        struct One {
            #[command(subcommand)]
            step: Step,
        }
        let words = shlex::split(text).ok_or(Error::BadArguments)?;
        let one = <One as clap::Parser>::try_parse_from(words).map_err(|e| {
            eprintln!("multi step {text:?}: {e}");
            Error::BadArguments
        })?;
        let any = |v: Option<i32>| v.filter(|v| *v != -1);
        Ok(match one.step {
            Step::Create {
                sequential,
                ephemeral,
                path,
                data,
            } => Op::Create {
                path,
                data: data.into_bytes().into(),
                mode: CreateMode::from_flags(sequential, ephemeral),
            },
            Step::Set {
                path,
                data,
                version,
            } => Op::SetData {
                path,
                data: data.into_bytes().into(),
                version: any(version),
            },
            Step::Delete { path, version } => Op::Delete {
                path,
                version: any(version),
            },
            Step::Check { path, version } => Op::Check {
                path,
                version: any(version),
            },
        })
    }
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
    Count {
        path: String,
        count: i32,
    },
    Multi {
        results: Vec<OpResult>,
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
                | Command::GetEphemerals { .. }
                | Command::Multi { .. }
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
            Command::GetEphemerals { path } => {
                let children = zk.get_ephemerals(&path).await.map_err(fail)?;
                Ok(Output::Children {
                    path,
                    children,
                    stat: None,
                })
            }
            Command::GetAllChildrenNumber { path } => {
                let count = zk.get_all_children_number(&path).await.map_err(fail)?;
                Ok(Output::Count { path, count })
            }
            Command::Multi { steps } => {
                let ops = steps
                    .iter()
                    .map(|s| Step::parse(s))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(fail)?;
                match zk.multi(ops).await {
                    Ok(results) => Ok(Output::Multi { results }),
                    Err(failure) => Err(Failure {
                        path,
                        error: failure.error,
                    }),
                }
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
            | Command::Sync { path }
            | Command::GetEphemerals { path }
            | Command::GetAllChildrenNumber { path } => path,
            Command::Multi { .. } => "",
        }
    }
}
