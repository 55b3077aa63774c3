//! One operation as data ([`Call`]) and what it answered ([`Reply`]): what
//! the transcript holds and concurrent steps send.

use crate::zk::{
    AddWatchMode, Code, Mode, MultiError, MultiOp, MultiResult, Stat, WatcherType, Zk,
};

/// One operation, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create {
        path: String,
        data: Vec<u8>,
        mode: Mode,
    },
    GetData {
        path: String,
        watch: bool,
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
        watch: bool,
    },
    GetChildren {
        path: String,
        watch: bool,
    },
    GetChildren2 {
        path: String,
    },
    Multi {
        ops: Vec<MultiOp>,
    },
    Sync {
        path: String,
    },
    GetEphemerals {
        prefix: String,
    },
    GetAllChildrenNumber {
        path: String,
    },
    AddWatch {
        path: String,
        mode: AddWatchMode,
    },
    RemoveWatches {
        path: String,
        kind: WatcherType,
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
        Call::GetData {
            path: path.into(),
            watch: false,
        }
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
        Call::Exists {
            path: path.into(),
            watch: false,
        }
    }
    pub fn get_children(path: &str) -> Call {
        Call::GetChildren {
            path: path.into(),
            watch: false,
        }
    }
    pub fn get_children2(path: &str) -> Call {
        Call::GetChildren2 { path: path.into() }
    }
    pub fn multi(ops: Vec<MultiOp>) -> Call {
        Call::Multi { ops }
    }
    pub fn sync(path: &str) -> Call {
        Call::Sync { path: path.into() }
    }
    pub fn get_ephemerals(prefix: &str) -> Call {
        Call::GetEphemerals {
            prefix: prefix.into(),
        }
    }
    pub fn get_all_children_number(path: &str) -> Call {
        Call::GetAllChildrenNumber { path: path.into() }
    }
    pub fn get_data_and_watch(path: &str) -> Call {
        Call::GetData {
            path: path.into(),
            watch: true,
        }
    }
    pub fn exists_and_watch(path: &str) -> Call {
        Call::Exists {
            path: path.into(),
            watch: true,
        }
    }
    pub fn get_children_and_watch(path: &str) -> Call {
        Call::GetChildren {
            path: path.into(),
            watch: true,
        }
    }
    pub fn add_watch(path: &str, mode: AddWatchMode) -> Call {
        Call::AddWatch {
            path: path.into(),
            mode,
        }
    }
    pub fn remove_watches(path: &str, kind: WatcherType) -> Call {
        Call::RemoveWatches {
            path: path.into(),
            kind,
        }
    }

    /// The same call with every path it names passed through `map`, which
    /// is told whether the path is a sequential prefix.
    pub fn map_paths(&self, map: &dyn Fn(&str, bool) -> String) -> Call {
        let mut call = self.clone();
        match &mut call {
            Call::Create { path, mode, .. } => *path = map(path, mode.is_sequential()),
            Call::Multi { ops } => {
                for op in ops {
                    let sequential = op.is_sequential();
                    let mapped = map(op.path(), sequential);
                    *op.path_mut() = mapped;
                }
            }
            Call::GetData { path, .. }
            | Call::SetData { path, .. }
            | Call::Delete { path, .. }
            | Call::Exists { path, .. }
            | Call::GetChildren { path, .. }
            | Call::GetChildren2 { path }
            | Call::Sync { path }
            | Call::GetAllChildrenNumber { path }
            | Call::AddWatch { path, .. }
            | Call::RemoveWatches { path, .. } => *path = map(path, false),
            // A prefix of paths, not a path: `/` stands for the namespace
            // node itself, and so for every path in it.
            Call::GetEphemerals { prefix } => *prefix = map(prefix, false),
        }
        call
    }

    /// Sends the call on a session.
    pub async fn send(&self, zk: &dyn Zk) -> Reply {
        let reply = match self {
            Call::Create { path, data, mode } => zk
                .create(path, data, *mode)
                .await
                .map(|(path, stat)| Reply::Created { path, stat }),
            Call::GetData { path, watch } => {
                let read = if *watch {
                    zk.get_data_and_watch(path).await
                } else {
                    zk.get_data(path).await
                };
                read.map(|(data, stat)| Reply::Data { data, stat })
            }
            Call::SetData {
                path,
                data,
                version,
            } => zk.set_data(path, data, *version).await.map(Reply::Stat),
            Call::Delete { path, version } => zk.delete(path, *version).await.map(|()| Reply::Done),
            Call::Exists { path, watch } => if *watch {
                zk.exists_and_watch(path).await
            } else {
                zk.exists(path).await
            }
            .map(Reply::Exists),
            Call::GetChildren { path, watch } => if *watch {
                zk.get_children_and_watch(path).await
            } else {
                zk.get_children(path).await
            }
            .map(Reply::Children),
            Call::GetChildren2 { path } => zk
                .get_children2(path)
                .await
                .map(|(children, stat)| Reply::Children2 { children, stat }),
            Call::Multi { ops } => {
                return match zk.multi(ops).await {
                    Ok(results) => Reply::Multi(results),
                    Err(e) => Reply::MultiErr(e),
                }
            }
            Call::Sync { path } => zk.sync(path).await.map(|()| Reply::Done),
            Call::GetEphemerals { prefix } => zk.get_ephemerals(prefix).await.map(Reply::Paths),
            Call::GetAllChildrenNumber { path } => {
                zk.get_all_children_number(path).await.map(Reply::Count)
            }
            Call::AddWatch { path, mode } => zk.add_watch(path, *mode).await.map(|()| Reply::Done),
            Call::RemoveWatches { path, kind } => {
                zk.remove_watches(path, *kind).await.map(|()| Reply::Done)
            }
        };
        reply.unwrap_or_else(Reply::Err)
    }
}

/// What a call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Created {
        path: String,
        stat: Stat,
    },
    Data {
        data: Vec<u8>,
        stat: Stat,
    },
    Stat(Stat),
    Done,
    Exists(Option<Stat>),
    Children(Vec<String>),
    Children2 {
        children: Vec<String>,
        stat: Stat,
    },
    Multi(Vec<MultiResult>),
    MultiErr(MultiError),
    /// Absolute paths (getEphemerals).
    Paths(Vec<String>),
    Count(i32),
    Err(Code),
}

impl Reply {
    pub fn is_ok(&self) -> bool {
        !matches!(self, Reply::Err(_) | Reply::MultiErr(_))
    }

    /// The error code, if the call failed.
    pub fn err(&self) -> Option<&Code> {
        match self {
            Reply::Err(code) | Reply::MultiErr(MultiError { code, .. }) => Some(code),
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

    /// Every `Stat` the reply holds that the transcript shows.
    pub fn stats(&self) -> Vec<Stat> {
        match self {
            Reply::Created { stat, .. }
            | Reply::Data { stat, .. }
            | Reply::Stat(stat)
            | Reply::Children2 { stat, .. }
            | Reply::Exists(Some(stat)) => vec![*stat],
            Reply::Multi(results) => results
                .iter()
                .filter_map(|r| match r {
                    MultiResult::SetData(stat) => Some(*stat),
                    // Not shown: see `transcript::show_reply`.
                    MultiResult::Created { .. } | MultiResult::Checked | MultiResult::Deleted => {
                        None
                    }
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The `Stat` the call answered, if any.
    pub fn stat(&self) -> Option<Stat> {
        match self {
            Reply::Multi(_) => None,
            other => other.stats().first().copied(),
        }
    }

    /// The data of a `get_data`. Panics if the call did not read data.
    pub fn data(&self) -> Vec<u8> {
        match self {
            Reply::Data { data, .. } => data.clone(),
            other => panic!("expected data, got {other:?}"),
        }
    }

    /// The reply with every absolute path it holds passed through `unmap`.
    pub fn map_paths(self, unmap: &dyn Fn(&str) -> String) -> Reply {
        match self {
            Reply::Created { path, stat } => Reply::Created {
                path: unmap(&path),
                stat,
            },
            Reply::Multi(results) => Reply::Multi(
                results
                    .into_iter()
                    .map(|r| match r {
                        MultiResult::Created { path, stat } => MultiResult::Created {
                            path: unmap(&path),
                            stat,
                        },
                        other => other,
                    })
                    .collect(),
            ),
            Reply::Paths(paths) => Reply::Paths(paths.iter().map(|p| unmap(p)).collect()),
            other => other,
        }
    }
}
