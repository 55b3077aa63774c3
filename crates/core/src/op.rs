//! The write operations and their results.

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::watch::AddWatchMode;
use crate::{CreateMode, Error, Stat};

/// A write, as a client sends it.
///
/// Node data does not travel in the JSON body: queues carry it as a binary
/// payload beside the body (see [`crate::message`]), so it is skipped here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Create {
        path: String,
        #[serde(skip)]
        data: Bytes,
        mode: CreateMode,
    },
    SetData {
        path: String,
        #[serde(skip)]
        data: Bytes,
        /// `None` is ZooKeeper's `-1`: any version.
        version: Option<i32>,
    },
    Delete {
        path: String,
        version: Option<i32>,
    },
    /// Only inside a `Multi`: the node must be at this version.
    Check {
        path: String,
        version: Option<i32>,
    },
    /// All or nothing, in order; each op sees the ones before it.
    Multi {
        ops: Vec<Op>,
        /// The lengths of the sub-ops' data in the payload, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        data_lens: Vec<usize>,
    },
    /// Ends the sending session: its ephemeral nodes are deleted, in one
    /// ordered write, and its record goes.
    CloseSession,
    /// Answers once every write committed before it is applied to user
    /// storage: a read after it sees them all. Commits nothing.
    Sync {
        path: String,
    },
    /// Adds a persistent or persistent-recursive watch of the sending
    /// session (ZooKeeper's `addWatch`); ordered with the writes.
    AddWatch {
        path: String,
        mode: AddWatchMode,
    },
    /// Removes the sending session's persistent watches on `path` (the
    /// server side of `removeWatches`; one-shot watches are the client's).
    RemovePersistentWatches {
        path: String,
    },
}

impl Op {
    /// The path the client named (empty for `CloseSession`, the first
    /// op's for `Multi`).
    pub fn path(&self) -> &str {
        match self {
            Op::Create { path, .. }
            | Op::SetData { path, .. }
            | Op::Delete { path, .. }
            | Op::Check { path, .. } => path,
            Op::Multi { ops, .. } => ops.first().map(Op::path).unwrap_or(""),
            Op::Sync { path }
            | Op::AddWatch { path, .. }
            | Op::RemovePersistentWatches { path } => path,
            Op::CloseSession => "",
        }
    }

    /// The short name used in logs and traces (`zk.op`).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::SetData { .. } => "set_data",
            Op::Delete { .. } => "delete",
            Op::Check { .. } => "check",
            Op::Multi { .. } => "multi",
            Op::CloseSession => "close_session",
            Op::Sync { .. } => "sync",
            Op::AddWatch { .. } => "add_watch",
            Op::RemovePersistentWatches { .. } => "remove_watches",
        }
    }

    /// A multi of `ops`.
    pub fn multi(ops: Vec<Op>) -> Op {
        Op::Multi {
            ops,
            data_lens: Vec::new(),
        }
    }

    /// The ops this request applies, in order: a multi's sub-ops, or itself.
    pub fn steps(&self) -> &[Op] {
        match self {
            Op::Multi { ops, .. } => ops,
            other => std::slice::from_ref(other),
        }
    }

    /// The binary payload the op carries beside its body, if any; for a
    /// multi, its sub-ops' data concatenated, with their lengths recorded.
    pub(crate) fn take_payload(&mut self) -> Option<Bytes> {
        match self {
            Op::Create { data, .. } | Op::SetData { data, .. } => Some(data.clone()),
            Op::Multi { ops, data_lens } => {
                let mut all = BytesMut::new();
                data_lens.clear();
                for op in ops.iter_mut() {
                    let data = op.take_payload().unwrap_or_default();
                    data_lens.push(data.len());
                    all.extend_from_slice(&data);
                }
                (!all.is_empty()).then(|| all.freeze())
            }
            _ => None,
        }
    }

    /// Puts back the payload that travelled beside the body.
    pub(crate) fn restore_payload(&mut self, mut payload: Bytes) -> Result<(), PayloadError> {
        match self {
            Op::Create { data, .. } | Op::SetData { data, .. } => {
                *data = payload;
                Ok(())
            }
            Op::Multi { ops, data_lens } => {
                if data_lens.len() != ops.len() || data_lens.iter().sum::<usize>() != payload.len()
                {
                    return Err(PayloadError);
                }
                for (op, len) in ops.iter_mut().zip(data_lens.iter()) {
                    let part = payload.split_to(*len);
                    op.restore_payload(part)?;
                }
                Ok(())
            }
            _ if payload.is_empty() => Ok(()),
            _ => Err(PayloadError),
        }
    }

    /// Whether the op carries data.
    pub(crate) fn carries_data(&self) -> bool {
        matches!(
            self,
            Op::Create { .. } | Op::SetData { .. } | Op::Multi { .. }
        )
    }
}

/// A payload that does not fit its op.
#[derive(Debug)]
pub struct PayloadError;

/// What a successful write returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum OpResult {
    /// The path actually created (with its sequence suffix) and its `Stat`.
    Created {
        path: String,
        stat: Stat,
    },
    /// The node's `Stat` after the change.
    SetData {
        stat: Stat,
    },
    Deleted,
    Checked,
    /// Each sub-op's result, in order.
    Multi {
        results: Vec<OpResult>,
    },
    SessionClosed,
    /// The path the sync named.
    Synced {
        path: String,
    },
    WatchAdded,
    WatchesRemoved,
}

/// Why a multi failed, as ZooKeeper reports it: `Ok` for the ops before
/// the failing one (rolled back), its error, then `RuntimeInconsistency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiFailure {
    pub error: Error,
    pub results: Vec<Result<(), Error>>,
}

impl MultiFailure {
    /// The report for a multi of `len` ops whose op `index` failed.
    pub fn at(index: usize, error: Error, len: usize) -> Self {
        let results = (0..len)
            .map(|i| match i.cmp(&index) {
                std::cmp::Ordering::Less => Ok(()),
                std::cmp::Ordering::Equal => Err(error),
                std::cmp::Ordering::Greater => Err(Error::RuntimeInconsistency),
            })
            .collect();
        MultiFailure { error, results }
    }
}
