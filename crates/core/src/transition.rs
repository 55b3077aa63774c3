//! Validation and state transition of a write: pure functions of the
//! locked pre-state, so the writer and distributor agree by construction.

use crate::path;
use crate::system::{EphemeralChange, NodeWrite};
use crate::user::{ChildChange, UserWrite};
use crate::{CommitRequest, CreateMode, Error, Op, OpResult, PreState, Stat};

/// Checks a write against the state the writer found under its locks, in
/// the order ZooKeeper's `PrepRequestProcessor` checks.
///
/// `pre` holds the locked nodes; for a create and a delete these are the
/// node and its parent.
pub fn validate(op: &Op, pre: &[PreState]) -> Result<(), Error> {
    let stat_of = |p: &str| pre.iter().find(|s| s.path == p).and_then(|s| s.stat);
    match op {
        Op::Create { path, .. } => {
            let parent = stat_of(path::parent(path)).ok_or(Error::NoNode)?;
            if stat_of(path).is_some() {
                return Err(Error::NodeExists);
            }
            if parent.is_ephemeral() {
                return Err(Error::NoChildrenForEphemerals);
            }
            Ok(())
        }
        Op::SetData { path, version, .. } => {
            let stat = stat_of(path).ok_or(Error::NoNode)?;
            check_version(*version, stat.version)
        }
        Op::Delete { path, version } => {
            let stat = stat_of(path).ok_or(Error::NoNode)?;
            check_version(*version, stat.version)?;
            if stat.num_children > 0 {
                return Err(Error::NotEmpty);
            }
            Ok(())
        }
    }
}

fn check_version(expected: Option<i32>, actual: i32) -> Result<(), Error> {
    match expected {
        Some(v) if v != actual => Err(Error::BadVersion),
        _ => Ok(()),
    }
}

/// What a commit writes and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub system: Vec<NodeWrite>,
    pub user: Vec<UserWrite>,
    pub ephemeral: Option<EphemeralChange>,
    pub result: OpResult,
}

/// The effect of a validated write committed as `zxid`.
///
/// Deterministic: a redelivered commit recomputes exactly what was
/// committed the first time (times come from the writer, not the clock).
pub fn transition(commit: &CommitRequest, zxid: i64) -> Transition {
    let stat_of = |p: &str| commit.pre_state(p).and_then(|s| s.stat).unwrap_or_default();
    let time = commit.time_ms;
    match &commit.op {
        Op::Create { path, data, mode } => {
            let parent_path = path::parent(path);
            let stat = Stat {
                czxid: zxid,
                mzxid: zxid,
                pzxid: zxid,
                ctime: time,
                mtime: time,
                version: 0,
                cversion: 0,
                aversion: 0,
                ephemeral_owner: if mode.is_ephemeral() {
                    commit.session.raw()
                } else {
                    0
                },
                data_length: data.len() as i32,
                num_children: 0,
            };
            let mut parent = stat_of(parent_path);
            parent.cversion += 1;
            parent.num_children += 1;
            parent.pzxid = zxid;
            Transition {
                system: vec![
                    NodeWrite::Put {
                        path: parent_path.to_string(),
                        stat: parent,
                    },
                    NodeWrite::Put {
                        path: path.clone(),
                        stat,
                    },
                ],
                user: vec![
                    UserWrite::Create {
                        path: path.clone(),
                        data: data.clone(),
                        stat,
                    },
                    UserWrite::Children {
                        path: parent_path.to_string(),
                        stat: parent,
                        change: ChildChange::Added(path::name(path).to_string()),
                    },
                ],
                ephemeral: mode
                    .is_ephemeral()
                    .then(|| EphemeralChange::Added(path.clone())),
                result: OpResult::Created {
                    path: path.clone(),
                    stat,
                },
            }
        }
        Op::SetData { path, data, .. } => {
            let mut stat = stat_of(path);
            stat.version += 1;
            stat.mzxid = zxid;
            stat.mtime = time;
            stat.data_length = data.len() as i32;
            Transition {
                system: vec![NodeWrite::Put {
                    path: path.clone(),
                    stat,
                }],
                user: vec![UserWrite::SetData {
                    path: path.clone(),
                    data: data.clone(),
                    stat,
                }],
                ephemeral: None,
                result: OpResult::SetData { stat },
            }
        }
        Op::Delete { path, .. } => {
            let parent_path = path::parent(path);
            let node = stat_of(path);
            let mut parent = stat_of(parent_path);
            parent.cversion += 1;
            parent.num_children -= 1;
            parent.pzxid = zxid;
            let owned_here = node.ephemeral_owner == commit.session.raw();
            Transition {
                system: vec![
                    NodeWrite::Delete { path: path.clone() },
                    NodeWrite::Put {
                        path: parent_path.to_string(),
                        stat: parent,
                    },
                ],
                user: vec![
                    UserWrite::Delete { path: path.clone() },
                    UserWrite::Children {
                        path: parent_path.to_string(),
                        stat: parent,
                        change: ChildChange::Removed(path::name(path).to_string()),
                    },
                ],
                ephemeral: (node.is_ephemeral() && owned_here)
                    .then(|| EphemeralChange::Removed(path.clone())),
                result: OpResult::Deleted,
            }
        }
    }
}

/// Static checks that need no state: path, size, mode.
pub fn check_request(op: &Op, max_data_len: usize) -> Result<(), Error> {
    match op {
        Op::Create { path, data, mode } => {
            if !mode.is_supported() {
                return Err(Error::Unimplemented);
            }
            if mode.is_sequential() {
                path::validate_sequential_prefix(path)?;
            } else {
                path::validate(path)?;
                if path == path::ROOT {
                    return Err(Error::NodeExists);
                }
            }
            check_size(data.len(), max_data_len)
        }
        Op::SetData { path, data, .. } => {
            path::validate(path)?;
            check_size(data.len(), max_data_len)
        }
        Op::Delete { path, .. } => {
            path::validate(path)?;
            if path == path::ROOT {
                return Err(Error::BadArguments);
            }
            Ok(())
        }
    }
}

fn check_size(len: usize, max: usize) -> Result<(), Error> {
    if len > max {
        Err(Error::BadArguments)
    } else {
        Ok(())
    }
}

/// Whether a create under `mode` names its node from the parent's cversion.
pub fn needs_parent_first(mode: CreateMode) -> bool {
    mode.is_sequential()
}
