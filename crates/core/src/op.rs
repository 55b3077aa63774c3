//! The write operations and their results.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{CreateMode, Stat};

/// A write, as a client sends it.
///
/// `data` does not travel in the JSON body: queues carry it as a binary
/// payload beside the body (see [`crate::codec`]), so it is skipped here.
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
}

impl Op {
    /// The path the client named.
    pub fn path(&self) -> &str {
        match self {
            Op::Create { path, .. } | Op::SetData { path, .. } | Op::Delete { path, .. } => path,
        }
    }

    /// The short name used in logs and traces (`zk.op`).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::SetData { .. } => "set_data",
            Op::Delete { .. } => "delete",
        }
    }

    /// The data the op carries, if any.
    pub fn data(&self) -> Option<&Bytes> {
        match self {
            Op::Create { data, .. } | Op::SetData { data, .. } => Some(data),
            Op::Delete { .. } => None,
        }
    }

    /// Puts back the data that travelled beside the body.
    pub fn set_data_payload(&mut self, payload: Bytes) {
        match self {
            Op::Create { data, .. } | Op::SetData { data, .. } => *data = payload,
            Op::Delete { .. } => {}
        }
    }
}

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
}
