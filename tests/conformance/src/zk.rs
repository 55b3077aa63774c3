//! What both sides support, as one trait: [`Zk`], with its arguments
//! ([`Mode`], [`MultiOp`], [`AddWatchMode`], [`WatcherType`]) and its
//! normalised results ([`Stat`], [`MultiResult`], [`MultiError`],
//! [`Event`], [`Code`]).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

/// A ZooKeeper error, by its `KeeperException.Code` name (`NONODE`, …); or,
/// for a failure that is not a ZooKeeper error at all (a client-side
/// failure), a description that starts with `CLIENT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code(pub String);

impl Code {
    pub fn new(name: &str) -> Code {
        Code(name.to_string())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Code {
    fn from(name: &str) -> Code {
        Code::new(name)
    }
}

/// ZooKeeper's `CreateMode`; the TTL modes carry their TTL in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Persistent,
    PersistentSequential,
    Ephemeral,
    EphemeralSequential,
    Container,
    PersistentWithTtl(u32),
    PersistentSequentialWithTtl(u32),
}

impl Mode {
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            Mode::PersistentSequential
                | Mode::EphemeralSequential
                | Mode::PersistentSequentialWithTtl(_)
        )
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Persistent => f.write_str("persistent"),
            Mode::PersistentSequential => f.write_str("persistent-sequential"),
            Mode::Ephemeral => f.write_str("ephemeral"),
            Mode::EphemeralSequential => f.write_str("ephemeral-sequential"),
            Mode::Container => f.write_str("container"),
            Mode::PersistentWithTtl(ms) => write!(f, "persistent-ttl({ms}ms)"),
            Mode::PersistentSequentialWithTtl(ms) => {
                write!(f, "persistent-sequential-ttl({ms}ms)")
            }
        }
    }
}

/// A node's `Stat`, every field; the transcript shows only the comparable
/// projection (see [`crate::scenario`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    pub czxid: i64,
    pub mzxid: i64,
    pub pzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub data_length: i32,
    pub num_children: i32,
}

/// One operation of a `multi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    /// The node must be at `version` (`None`: ZooKeeper's `-1`, any).
    Check {
        path: String,
        version: Option<i32>,
    },
    Create {
        path: String,
        data: Vec<u8>,
        mode: Mode,
    },
    SetData {
        path: String,
        data: Vec<u8>,
        version: Option<i32>,
    },
    Delete {
        path: String,
        version: Option<i32>,
    },
}

impl MultiOp {
    pub fn check(path: &str, version: Option<i32>) -> MultiOp {
        MultiOp::Check {
            path: path.into(),
            version,
        }
    }
    pub fn create(path: &str, data: impl AsRef<[u8]>, mode: Mode) -> MultiOp {
        MultiOp::Create {
            path: path.into(),
            data: data.as_ref().to_vec(),
            mode,
        }
    }
    pub fn set_data(path: &str, data: impl AsRef<[u8]>, version: Option<i32>) -> MultiOp {
        MultiOp::SetData {
            path: path.into(),
            data: data.as_ref().to_vec(),
            version,
        }
    }
    pub fn delete(path: &str, version: Option<i32>) -> MultiOp {
        MultiOp::Delete {
            path: path.into(),
            version,
        }
    }

    pub fn path(&self) -> &str {
        match self {
            MultiOp::Check { path, .. }
            | MultiOp::Create { path, .. }
            | MultiOp::SetData { path, .. }
            | MultiOp::Delete { path, .. } => path,
        }
    }

    pub fn path_mut(&mut self) -> &mut String {
        match self {
            MultiOp::Check { path, .. }
            | MultiOp::Create { path, .. }
            | MultiOp::SetData { path, .. }
            | MultiOp::Delete { path, .. } => path,
        }
    }

    pub fn is_sequential(&self) -> bool {
        matches!(self, MultiOp::Create { mode, .. } if mode.is_sequential())
    }
}

/// What one op of a successful `multi` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiResult {
    Checked,
    Created { path: String, stat: Stat },
    SetData(Stat),
    Deleted,
}

/// Why a `multi` failed.
///
/// ZooKeeper answers a failed multi with one result per op: `OK` for the
/// ops before the one that failed, its error, then `RUNTIMEINCONSISTENCY`
/// for the rest. Both sides are normalised to the index and error of the
/// failing op; a side whose per-op results have any other shape answers a
/// `CLIENT(…)` code that names it, so the comparison fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiError {
    /// The failing op; `None` when the request failed as a whole (refused
    /// before it was sent, or lost).
    pub index: Option<usize>,
    pub code: Code,
}

/// A watch event's type (`Watcher.Event.EventType`, node events only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    NodeCreated,
    NodeDeleted,
    NodeDataChanged,
    NodeChildrenChanged,
}

/// A watch event a session received. ZooKeeper 3.8 sends no zxid with an
/// event (3.9 does, ZOOKEEPER-4655), so none is compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Event {
    pub path: String,
    pub event_type: EventType,
}

/// `addWatch`'s modes (ZooKeeper 3.6+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddWatchMode {
    Persistent,
    PersistentRecursive,
}

/// `removeWatches`' `Watcher.WatcherType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatcherType {
    Children,
    Data,
    Any,
}

/// How a session is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionOptions {
    /// The session timeout; `None`: the side's default.
    pub timeout: Option<Duration>,
    /// The session may be crashed ([`Zk::crash`]): left to expire instead
    /// of closed.
    pub crashable: bool,
}

/// A session of one side: ZooKeeper's operations, normalised.
///
/// Paths are passed through unchanged (the scenario maps them into its
/// namespace before calling); versions are `None` for "any", `Some(v)` is
/// sent as `v` (so `Some(-1)` is ZooKeeper's explicit "any version").
#[async_trait]
pub trait Zk: Send + Sync {
    /// The session id, as ZooKeeper's `ephemeralOwner` shows it.
    fn session_id(&self) -> i64;
    /// The session's state by `Watcher.Event.KeeperState` name
    /// (`SyncConnected`, `Expired`, `Closed`).
    fn state(&self) -> String;

    /// Creates a node; returns its path (with the sequence suffix) and
    /// `Stat` (ZooKeeper's `create2`).
    async fn create(&self, path: &str, data: &[u8], mode: Mode) -> Result<(String, Stat), Code>;
    async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat), Code>;
    async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat, Code>;
    async fn delete(&self, path: &str, version: Option<i32>) -> Result<(), Code>;
    async fn exists(&self, path: &str) -> Result<Option<Stat>, Code>;
    /// Child names, in the order the server gives them.
    async fn get_children(&self, path: &str) -> Result<Vec<String>, Code>;
    /// Child names and the node's `Stat` (ZooKeeper's `getChildren2`).
    async fn get_children2(&self, path: &str) -> Result<(Vec<String>, Stat), Code>;
    /// The ops as one transaction.
    async fn multi(&self, ops: &[MultiOp]) -> Result<Vec<MultiResult>, MultiError>;
    async fn sync(&self, path: &str) -> Result<(), Code>;
    /// This session's ephemeral nodes whose paths start with `prefix`.
    async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>, Code>;
    /// How many nodes lie below `path`, at any depth.
    async fn get_all_children_number(&self, path: &str) -> Result<i32, Code>;

    /// `getData` that leaves a one-shot data watch.
    async fn get_data_and_watch(&self, path: &str) -> Result<(Vec<u8>, Stat), Code>;
    /// `exists` that leaves a one-shot watch, also on a missing node.
    async fn exists_and_watch(&self, path: &str) -> Result<Option<Stat>, Code>;
    /// `getChildren` that leaves a one-shot child watch.
    async fn get_children_and_watch(&self, path: &str) -> Result<Vec<String>, Code>;
    /// `addWatch`: a persistent (or persistent recursive) watch.
    async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<(), Code>;
    /// `removeWatches` of the session's watches of `kind` on `path`.
    async fn remove_watches(&self, path: &str, kind: WatcherType) -> Result<(), Code>;
    /// The watch events the session received since the last call, in the
    /// order it received them.
    async fn take_events(&self) -> Vec<Event>;

    /// Ends the session and waits until it has ended. The handle stays:
    /// operations on it show what a closed session answers.
    async fn close(&self) -> Result<(), Code>;
    /// Stops the session without closing it, like a process that dies: the
    /// server expires it after its timeout. Only for sessions opened with
    /// [`SessionOptions::crashable`].
    fn crash(self: Box<Self>);
}
