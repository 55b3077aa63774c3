//! The commands and what each does.

use std::time::Duration;

use clap::Subcommand;
use fk_client::{AddWatchMode, Client, Code, CreateMode, Error, Stat, WatcherType};
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
    Get {
        /// Leave a watch: print the next change's event.
        #[arg(short = 'w')]
        watch: bool,
        path: String,
    },
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
        /// Leave a child watch: print the next child change's event.
        #[arg(short = 'w')]
        watch: bool,
        path: String,
    },
    /// Print a node's Stat.
    Stat {
        /// Leave a watch (also on a missing node: its creation).
        #[arg(short = 'w')]
        watch: bool,
        path: String,
    },
    /// Print a node's Stat if it exists; exit 1 if it does not.
    Exists {
        /// Leave a watch (also on a missing node: its creation).
        #[arg(short = 'w')]
        watch: bool,
        path: String,
    },
    /// Watch a node (and with PERSISTENT_RECURSIVE its subtree) until
    /// removed; events are printed as they arrive.
    #[command(name = "addWatch")]
    AddWatch {
        #[arg(short = 'm', long, value_enum, default_value = "persistent-recursive")]
        mode: WatchMode,
        path: String,
    },
    /// Remove this session's watches on a node (all kinds unless -c or -d).
    #[command(name = "removewatches", alias = "removeWatches")]
    RemoveWatches {
        /// Only child watches.
        #[arg(short = 'c', conflicts_with = "data")]
        children: bool,
        /// Only data watches.
        #[arg(short = 'd')]
        data: bool,
        path: String,
    },
    /// Wait for watch events: until COUNT events in all have been printed
    /// since the session began, or the timeout.
    Wait {
        #[arg(default_value_t = 1)]
        count: usize,
        /// Give up after this many seconds (exit status 1).
        #[arg(short = 't', long, default_value_t = 60)]
        timeout: u64,
    },
    /// Close the session (`script`): its ephemeral nodes go; later
    /// commands answer SessionExpired.
    Close,
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

/// `addWatch`'s modes, named as zkCli names them.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum WatchMode {
    #[value(name = "persistent", alias = "PERSISTENT")]
    Persistent,
    #[value(name = "persistent-recursive", alias = "PERSISTENT_RECURSIVE")]
    PersistentRecursive,
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
        let words = shlex::split(text).ok_or(Code::BadArguments)?;
        let one = <One as clap::Parser>::try_parse_from(words).map_err(|e| {
            eprintln!("multi step {text:?}: {e}");
            Error::from(Code::BadArguments)
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
    /// Done, nothing to print (addWatch, removewatches, close, wait).
    Done,
}

/// A ZooKeeper error, and the path it concerns.
#[derive(Debug)]
pub struct Failure {
    pub path: String,
    pub error: Error,
}

impl Command {
    /// Whether the command needs a session.
    pub fn needs_session(&self) -> bool {
        match self {
            Command::Get { watch, .. }
            | Command::Ls { watch, .. }
            | Command::Stat { watch, .. }
            | Command::Exists { watch, .. } => *watch,
            Command::GetAllChildrenNumber { .. } => false,
            _ => true,
        }
    }

    /// How many events a lone command waits for before `fk` exits: one
    /// for a one-shot watch, all (until interrupted) for `addWatch`.
    pub fn events_to_await(&self) -> Option<usize> {
        match self {
            Command::AddWatch { .. } => Some(usize::MAX),
            c if c.needs_session() && c.watches() => Some(1),
            _ => None,
        }
    }

    /// Whether the command leaves a watch even when the node is missing.
    pub fn watches_a_missing_node(&self) -> bool {
        matches!(
            self,
            Command::Stat { watch: true, .. } | Command::Exists { watch: true, .. }
        )
    }

    fn watches(&self) -> bool {
        matches!(
            self,
            Command::Get { watch: true, .. }
                | Command::Ls { watch: true, .. }
                | Command::Stat { watch: true, .. }
                | Command::Exists { watch: true, .. }
        )
    }

    pub async fn run(self, zk: &Client, events: &EventCount) -> Result<Output, Failure> {
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
            Command::Get { watch, path } => {
                let (data, stat) = if watch {
                    zk.get_data_and_watch(&path).await
                } else {
                    zk.get_data(&path).await
                }
                .map_err(fail)?;
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
            Command::Ls { stat, watch, path } => {
                let (children, node) = if watch {
                    zk.get_children_and_watch(&path).await
                } else {
                    zk.get_children_with_stat(&path).await
                }
                .map_err(fail)?;
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
            Command::Stat { watch, path } | Command::Exists { watch, path } => {
                let stat = if watch {
                    zk.exists_and_watch(&path).await
                } else {
                    zk.exists(&path).await
                }
                .map_err(fail)?;
                let stat = stat.ok_or_else(|| fail(Code::NoNode.into()))?;
                Ok(Output::Stat { path, stat })
            }
            Command::AddWatch { mode, path } => {
                let mode = match mode {
                    WatchMode::Persistent => AddWatchMode::Persistent,
                    WatchMode::PersistentRecursive => AddWatchMode::PersistentRecursive,
                };
                zk.add_watch(&path, mode).await.map_err(fail)?;
                Ok(Output::Done)
            }
            Command::RemoveWatches {
                children,
                data,
                path,
            } => {
                let kind = match (children, data) {
                    (true, _) => WatcherType::Children,
                    (_, true) => WatcherType::Data,
                    _ => WatcherType::Any,
                };
                zk.remove_watches(&path, kind).await.map_err(fail)?;
                Ok(Output::Done)
            }
            Command::Wait { count, timeout } => {
                let waited = events
                    .wait_for_total(count, Some(Duration::from_secs(timeout)))
                    .await;
                if waited {
                    Ok(Output::Done)
                } else {
                    Err(Failure {
                        path,
                        error: Code::OperationTimeout.into(),
                    })
                }
            }
            Command::Close => {
                zk.clone().close().await.map_err(fail)?;
                Ok(Output::Done)
            }
        }
    }

    fn path(&self) -> &str {
        match self {
            Command::Create { path, .. }
            | Command::Get { path, .. }
            | Command::Set { path, .. }
            | Command::Delete { path, .. }
            | Command::Ls { path, .. }
            | Command::Stat { path, .. }
            | Command::Exists { path, .. }
            | Command::AddWatch { path, .. }
            | Command::RemoveWatches { path, .. }
            | Command::Sync { path }
            | Command::GetEphemerals { path }
            | Command::GetAllChildrenNumber { path } => path,
            Command::Multi { .. } | Command::Wait { .. } | Command::Close => "",
        }
    }
}

/// How many watch events `fk` has printed, for `wait`.
#[derive(Clone)]
pub struct EventCount(tokio::sync::watch::Sender<usize>);

impl Default for EventCount {
    fn default() -> Self {
        EventCount(tokio::sync::watch::channel(0).0)
    }
}

impl EventCount {
    pub fn printed_one(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    /// Waits until `total` events in all have been printed; `false` on
    /// timeout (`None`: no timeout).
    pub async fn wait_for_total(&self, total: usize, timeout: Option<Duration>) -> bool {
        let mut count = self.0.subscribe();
        let reached = count.wait_for(|n| *n >= total);
        match timeout {
            Some(t) => tokio::time::timeout(t, reached)
                .await
                .is_ok_and(|r| r.is_ok()),
            None => reached.await.is_ok(),
        }
    }
}
