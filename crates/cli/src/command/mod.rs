//! zkCli's commands: their options (parsed by clap), and what each does.
//!
//! Each command runs against a [`Connection`], which opens a session only
//! when the command needs one (a write, a watch), and answers an
//! [`Output`] or a [`Failure`], which `render` prints in zkCli's format or
//! as JSON.
//!
//! # Layout
//!
//! - `read`: get, ls (also `-R`), stat, exists, getEphemerals,
//!   getAllChildrenNumber.
//! - `write`: create, set, delete, deleteall, sync.
//! - `multi`: several writes in one atomic batch.
//! - `watch`: addWatch, removewatches, wait.
//! - `data`: where a command's data comes from (argument, file, stdin).
//! - `outcome`: [`Output`] and [`Failure`].

mod data;
mod multi;
mod outcome;
mod read;
mod watch;
mod write;

use clap::Subcommand;

use crate::repl::Connection;
pub use outcome::{Failure, Output, StepResult};
pub use watch::{EventCount, WatchMode};

/// zkCli's commands that run against the deployment, in one-shot mode as
/// in a script or the shell.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Create a node and print its path (with its sequence number).
    #[command(
        override_usage = "create [-s] [-e] [-c] [-t ttl] path [data] [acl] [--data-file FILE]"
    )]
    Create {
        /// Sequential: append the parent's 10-digit counter to the name.
        #[arg(short = 's')]
        sequential: bool,
        /// Ephemeral: deleted when this session ends.
        #[arg(short = 'e')]
        ephemeral: bool,
        /// Container (not supported by this service).
        #[arg(short = 'c')]
        container: bool,
        /// Time to live in ms (not supported by this service).
        #[arg(short = 't', value_name = "ttl")]
        ttl: Option<i64>,
        path: String,
        /// The node's data (default: empty).
        data: Option<String>,
        /// An ACL (not supported: every node is open to the deployment's
        /// IAM principals).
        acl: Option<String>,
        /// Read the data from FILE ('-': standard input, one-shot only).
        #[arg(long, value_name = "FILE", conflicts_with = "data")]
        data_file: Option<std::path::PathBuf>,
    },
    /// Print a node's data, and with -s its Stat.
    #[command(override_usage = "get [-s] [-w] path")]
    Get {
        /// Also print the node's Stat.
        #[arg(short = 's')]
        stat: bool,
        /// Leave a watch: print the next change's event.
        #[arg(short = 'w')]
        watch: bool,
        path: String,
    },
    /// Replace a node's data; with -s print its new Stat.
    #[command(override_usage = "set [-s] [-v version] path data [--data-file FILE]")]
    Set {
        /// Print the node's Stat after the change.
        #[arg(short = 's')]
        stat: bool,
        /// Only if the node's version is this (ZooKeeper's -1: any).
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
        path: String,
        #[arg(required_unless_present = "data_file")]
        data: Option<String>,
        /// Read the data from FILE ('-': standard input, one-shot only).
        #[arg(long, value_name = "FILE", conflicts_with = "data")]
        data_file: Option<std::path::PathBuf>,
    },
    /// Delete a childless node.
    #[command(override_usage = "delete [-v version] path")]
    Delete {
        /// Only if the node's version is this (ZooKeeper's -1: any).
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
        path: String,
    },
    /// Delete a node and everything below it, leaves first, in atomic
    /// batches.
    #[command(alias = "rmr", override_usage = "deleteall path [-b batch size]")]
    Deleteall {
        /// Deletes per batch (at most 48, the most one multi holds).
        #[arg(short = 'b', value_name = "batch size")]
        batch: Option<usize>,
        path: String,
    },
    /// List a node's children (with -R: every path below it).
    #[command(override_usage = "ls [-s] [-w] [-R] path")]
    Ls {
        /// Also print the node's Stat.
        #[arg(short = 's')]
        stat: bool,
        /// Leave a child watch: print the next child change's event.
        #[arg(short = 'w')]
        watch: bool,
        /// Recursive: the node and every node below it, one path a line.
        #[arg(short = 'R')]
        recursive: bool,
        path: String,
    },
    /// Print a node's Stat.
    #[command(override_usage = "stat [-w] path")]
    Stat {
        /// Leave a watch (also on a missing node: its creation).
        #[arg(short = 'w')]
        watch: bool,
        path: String,
    },
    /// Print a node's Stat if it exists; fail if it does not.
    #[command(override_usage = "exists [-w] path")]
    Exists {
        /// Leave a watch (also on a missing node: its creation).
        #[arg(short = 'w')]
        watch: bool,
        path: String,
    },
    /// Watch a node (and with PERSISTENT_RECURSIVE its subtree) until
    /// removed; events are printed as they arrive.
    #[command(name = "addWatch", override_usage = "addWatch [-m mode] path")]
    AddWatch {
        #[arg(short = 'm', long, value_enum, default_value = "PERSISTENT_RECURSIVE")]
        mode: WatchMode,
        path: String,
    },
    /// Remove this session's watches on a node (all kinds unless -c or -d).
    #[command(
        name = "removewatches",
        alias = "removeWatches",
        override_usage = "removewatches path [-c|-d|-a] [-l]"
    )]
    RemoveWatches {
        /// Only child watches.
        #[arg(short = 'c', conflicts_with_all = ["data", "any"])]
        children: bool,
        /// Only data watches.
        #[arg(short = 'd', conflicts_with = "any")]
        data: bool,
        /// Every kind (the default).
        #[arg(short = 'a')]
        any: bool,
        /// Also when the deployment cannot be reached (the local removal
        /// always happens first here).
        #[arg(short = 'l')]
        local: bool,
        path: String,
    },
    /// Wait for watch events: until COUNT events in all have arrived since
    /// the session began, or the timeout.
    #[command(override_usage = "wait [count] [-t seconds]")]
    Wait {
        #[arg(default_value_t = 1)]
        count: usize,
        /// Give up after this many seconds (the line fails).
        #[arg(short = 't', long, default_value_t = 60)]
        timeout: u64,
    },
    /// Wait until every write committed so far is readable.
    #[command(override_usage = "sync path")]
    Sync { path: String },
    /// This session's ephemeral nodes under a prefix.
    #[command(name = "getEphemerals", override_usage = "getEphemerals path")]
    GetEphemerals {
        #[arg(default_value = "/")]
        path: String,
    },
    /// Count the nodes below a path, at any depth.
    #[command(
        name = "getAllChildrenNumber",
        override_usage = "getAllChildrenNumber path"
    )]
    GetAllChildrenNumber { path: String },
    /// Run several writes atomically, each given as one quoted argument:
    /// `multi 'create /a x' 'set /a y -v 0' 'check /a -v 1' 'delete /b'`.
    #[command(override_usage = "multi 'op args' ...")]
    Multi {
        #[arg(required = true)]
        steps: Vec<String>,
    },
    /// Print the version of this CLI.
    Version,
    /// Print the session this CLI speaks as.
    #[command(name = "whoami")]
    WhoAmI,
}

/// `version`: zkCli's line, for this CLI.
pub fn version() -> Output {
    Output::Version(format!(
        "FaaSKeeper CLI version: {}",
        env!("CARGO_PKG_VERSION")
    ))
}

/// Where a command may read its data from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    /// One-shot mode: `--data-file -` reads standard input.
    Free,
    /// A script or the shell reads its commands there.
    Commands,
}

impl Command {
    /// Whether the command needs a session (a write, a watch, this
    /// session's state); the others read with no session.
    pub fn needs_session(&self) -> bool {
        match self {
            Command::Get { watch, .. }
            | Command::Ls { watch, .. }
            | Command::Stat { watch, .. }
            | Command::Exists { watch, .. } => *watch,
            Command::GetAllChildrenNumber { .. } | Command::Version => false,
            _ => true,
        }
    }

    /// How many events a lone command waits for before `fk` exits: one
    /// for a one-shot watch, all (until interrupted) for `addWatch`.
    pub fn events_to_await(&self) -> Option<usize> {
        match self {
            Command::AddWatch { .. } => Some(usize::MAX),
            Command::Get { watch: true, .. }
            | Command::Ls { watch: true, .. }
            | Command::Stat { watch: true, .. }
            | Command::Exists { watch: true, .. } => Some(1),
            _ => None,
        }
    }

    /// Whether the command may leave something in its session that must
    /// end with the process (an ephemeral node, a watch): then a one-shot
    /// run closes its session rather than keep it for the next command.
    pub fn binds_the_session(&self) -> bool {
        matches!(
            self,
            Command::Create {
                ephemeral: true,
                ..
            } | Command::Multi { .. }
                | Command::AddWatch { .. }
        ) || self.events_to_await().is_some()
    }

    /// Whether the command leaves a watch even when the node is missing.
    pub fn watches_a_missing_node(&self) -> bool {
        matches!(
            self,
            Command::Stat { watch: true, .. } | Command::Exists { watch: true, .. }
        )
    }

    /// Runs the command on `conn`, which opens a session if it needs one.
    pub async fn run(self, conn: &mut Connection, stdin: Stdin) -> Result<Output, Failure> {
        if let Command::Version = self {
            return Ok(version());
        }
        let needs_session = self.needs_session();
        let zk = &conn.client(needs_session).await?;
        match self {
            Command::Create {
                sequential,
                ephemeral,
                container,
                ttl,
                path,
                data,
                acl,
                data_file,
            } => {
                let mode = write::create_mode(sequential, ephemeral, container, ttl)?;
                if let Some(acl) = acl {
                    return Err(Failure::Unsupported(format!(
                        "ACLs ({acl}): every node is open to the deployment's IAM principals"
                    )));
                }
                let data = data::resolve(data, data_file, stdin)?;
                write::create(zk, path, &data, mode).await
            }
            Command::Set {
                stat,
                version,
                path,
                data,
                data_file,
            } => {
                let data = data::resolve(data, data_file, stdin)?;
                write::set(zk, path, &data, version, stat).await
            }
            Command::Delete { version, path } => write::delete(zk, path, version).await,
            Command::Deleteall { batch, path } => write::delete_all(zk, path, batch).await,
            Command::Sync { path } => write::sync(zk, path).await,
            Command::Get { stat, watch, path } => read::get(zk, path, stat, watch).await,
            Command::Ls {
                stat,
                watch,
                recursive: true,
                path,
            } => {
                let _ = stat; // as zkCli: -R prints paths only
                read::tree(zk, path, watch).await
            }
            Command::Ls {
                stat, watch, path, ..
            } => read::children(zk, path, stat, watch).await,
            Command::Stat { watch, path } | Command::Exists { watch, path } => {
                read::stat(zk, path, watch).await
            }
            Command::GetEphemerals { path } => read::ephemerals(zk, path).await,
            Command::GetAllChildrenNumber { path } => read::count(zk, path).await,
            Command::Multi { steps } => multi::run(zk, &steps, stdin).await,
            Command::AddWatch { mode, path } => watch::add(zk, path, mode).await,
            Command::RemoveWatches {
                children,
                data,
                path,
                ..
            } => watch::remove(zk, path, children, data).await,
            Command::Wait { count, timeout } => watch::wait(conn.events(), count, timeout).await,
            Command::WhoAmI => Ok(Output::WhoAmI {
                session: zk.session_id(),
            }),
            Command::Version => unreachable!("answered above"),
        }
    }
}
