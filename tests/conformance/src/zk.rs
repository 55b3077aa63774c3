//! What both sides support, as one trait: [`Zk`], with its arguments
//! ([`Mode`], [`Call`]) and its normalised results ([`Reply`], [`Stat`],
//! [`Code`]).

use std::fmt;

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

/// ZooKeeper's `CreateMode`, as far as both sides are asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Persistent,
    PersistentSequential,
    Ephemeral,
    EphemeralSequential,
    Container,
}

impl Mode {
    pub fn is_sequential(self) -> bool {
        matches!(self, Mode::PersistentSequential | Mode::EphemeralSequential)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Persistent => "persistent",
            Mode::PersistentSequential => "persistent-sequential",
            Mode::Ephemeral => "ephemeral",
            Mode::EphemeralSequential => "ephemeral-sequential",
            Mode::Container => "container",
        })
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

/// A session of one side: ZooKeeper's operations, normalised.
///
/// Paths are passed through unchanged (the scenario maps them into its
/// namespace before calling); versions are `None` for "any", `Some(v)` is
/// sent as `v` (so `Some(-1)` is ZooKeeper's explicit "any version").
#[async_trait]
pub trait Zk: Send + Sync {
    /// The session id, as ZooKeeper's `ephemeralOwner` shows it.
    fn session_id(&self) -> i64;
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
    /// Ends the session and waits until it has ended.
    async fn close(self: Box<Self>) -> Result<(), Code>;
}

/// One operation, as data: what concurrent steps and the transcript hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create {
        path: String,
        data: Vec<u8>,
        mode: Mode,
    },
    GetData {
        path: String,
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
    Exists {
        path: String,
    },
    GetChildren {
        path: String,
    },
    GetChildren2 {
        path: String,
    },
}

impl Call {
    pub fn create(path: &str, data: impl AsRef<[u8]>, mode: Mode) -> Call {
        Call::Create {
            path: path.into(),
            data: data.as_ref().to_vec(),
            mode,
        }
    }
    pub fn get_data(path: &str) -> Call {
        Call::GetData { path: path.into() }
    }
    pub fn set_data(path: &str, data: impl AsRef<[u8]>, version: Option<i32>) -> Call {
        Call::SetData {
            path: path.into(),
            data: data.as_ref().to_vec(),
            version,
        }
    }
    pub fn delete(path: &str, version: Option<i32>) -> Call {
        Call::Delete {
            path: path.into(),
            version,
        }
    }
    pub fn exists(path: &str) -> Call {
        Call::Exists { path: path.into() }
    }
    pub fn get_children(path: &str) -> Call {
        Call::GetChildren { path: path.into() }
    }
    pub fn get_children2(path: &str) -> Call {
        Call::GetChildren2 { path: path.into() }
    }

    /// The path the call names.
    pub fn path(&self) -> &str {
        match self {
            Call::Create { path, .. }
            | Call::GetData { path }
            | Call::SetData { path, .. }
            | Call::Delete { path, .. }
            | Call::Exists { path }
            | Call::GetChildren { path }
            | Call::GetChildren2 { path } => path,
        }
    }

    /// The same call on another path.
    pub fn with_path(&self, new: String) -> Call {
        let mut call = self.clone();
        match &mut call {
            Call::Create { path, .. }
            | Call::GetData { path }
            | Call::SetData { path, .. }
            | Call::Delete { path, .. }
            | Call::Exists { path }
            | Call::GetChildren { path }
            | Call::GetChildren2 { path } => *path = new,
        }
        call
    }

    /// Whether a sequential create: its path is a prefix.
    pub fn is_sequential(&self) -> bool {
        matches!(self, Call::Create { mode, .. } if mode.is_sequential())
    }

    /// Sends the call on a session.
    pub async fn send(&self, zk: &dyn Zk) -> Reply {
        let reply = match self {
            Call::Create { path, data, mode } => zk
                .create(path, data, *mode)
                .await
                .map(|(path, stat)| Reply::Created { path, stat }),
            Call::GetData { path } => zk
                .get_data(path)
                .await
                .map(|(data, stat)| Reply::Data { data, stat }),
            Call::SetData {
                path,
                data,
                version,
            } => zk.set_data(path, data, *version).await.map(Reply::Stat),
            Call::Delete { path, version } => zk.delete(path, *version).await.map(|()| Reply::Done),
            Call::Exists { path } => zk.exists(path).await.map(Reply::Exists),
            Call::GetChildren { path } => zk.get_children(path).await.map(Reply::Children),
            Call::GetChildren2 { path } => zk
                .get_children2(path)
                .await
                .map(|(children, stat)| Reply::Children2 { children, stat }),
        };
        reply.unwrap_or_else(Reply::Err)
    }
}

/// What a call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Created { path: String, stat: Stat },
    Data { data: Vec<u8>, stat: Stat },
    Stat(Stat),
    Done,
    Exists(Option<Stat>),
    Children(Vec<String>),
    Children2 { children: Vec<String>, stat: Stat },
    Err(Code),
}

impl Reply {
    pub fn is_ok(&self) -> bool {
        !matches!(self, Reply::Err(_))
    }

    /// The error code, if the call failed.
    pub fn err(&self) -> Option<&Code> {
        match self {
            Reply::Err(code) => Some(code),
            _ => None,
        }
    }

    /// The created node's path. Panics (failing the scenario on this side)
    /// if the call did not create one.
    pub fn path(&self) -> String {
        match self {
            Reply::Created { path, .. } => path.clone(),
            other => panic!("expected a created path, got {other:?}"),
        }
    }

    /// The `Stat` the call answered, if any.
    pub fn stat(&self) -> Option<Stat> {
        match self {
            Reply::Created { stat, .. }
            | Reply::Data { stat, .. }
            | Reply::Stat(stat)
            | Reply::Children2 { stat, .. } => Some(*stat),
            Reply::Exists(stat) => *stat,
            Reply::Done | Reply::Children(_) | Reply::Err(_) => None,
        }
    }

    /// The data of a `get_data`. Panics if the call did not read data.
    pub fn data(&self) -> Vec<u8> {
        match self {
            Reply::Data { data, .. } => data.clone(),
            other => panic!("expected data, got {other:?}"),
        }
    }
}
