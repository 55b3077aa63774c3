//! Validation and state change of a write: pure functions of the locked
//! pre-state, so the writer (which validates) and the distributor (which
//! commits) agree by construction.
//!
//! A write is a sequence of steps (one op, or a multi's ops) applied to a
//! working copy of the locked nodes; each step sees the ones before it, as
//! in ZooKeeper's `multi`. A step that needs a node that is not locked
//! stops the run with [`Halt::NeedLock`]: the writer locks it and runs
//! again, until the run completes or refuses.

use std::collections::BTreeMap;

use crate::op::MultiFailure;
use crate::system::{EphemeralChanges, FiredWatches, NodeWrite};
use crate::user::{ChildChange, UserWrite};
use crate::{path, Error, Op, OpResult, PreState, SessionId, Stat};

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    /// The step needs this node locked first.
    NeedLock(String),
    /// The write is refused.
    Refused(Refusal),
}

/// A refused write, as the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Single(Error),
    Multi(MultiFailure),
}

/// What a write changes and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The op with sequential names resolved.
    pub op: Op,
    /// One write per locked node: its final state, which also releases
    /// its lock (a node that ends absent is deleted).
    pub system: Vec<NodeWrite>,
    /// The user-store changes, in order.
    pub user: Vec<UserWrite>,
    /// The committing session's ephemeral nodes gained and lost.
    pub ephemerals: EphemeralChanges,
    pub result: OpResult,
}

/// The most ops one multi may hold: a commit is one DynamoDB transaction
/// (100 items) holding two nodes per op, the counter and the session.
pub const MAX_MULTI_OPS: usize = 48;

/// Runs `op` over the locked nodes `pre`, committed as `zxid` at `time`.
///
/// With `resolve`, sequential creates get their names from the working
/// parent's cversion (the writer); without, names are already final (the
/// distributor recomputing what the writer validated).
pub fn apply(
    op: &Op,
    pre: &[PreState],
    session: SessionId,
    zxid: i64,
    time: i64,
    resolve: bool,
) -> Result<Applied, Halt> {
    let mut run = Run {
        nodes: pre.iter().map(|p| (p.path.clone(), p.stat)).collect(),
        user: Vec::new(),
        ephemerals: EphemeralChanges::default(),
        session,
        zxid,
        time,
    };
    let (resolved, result) = match op {
        Op::Multi { ops, .. } => {
            let mut resolved = Vec::with_capacity(ops.len());
            let mut results = Vec::with_capacity(ops.len());
            for (i, step) in ops.iter().enumerate() {
                match run.step(step, resolve, true) {
                    Ok((step, result)) => {
                        resolved.push(step);
                        results.push(result);
                    }
                    Err(Halt::Refused(Refusal::Single(e))) => {
                        return Err(Halt::Refused(Refusal::Multi(MultiFailure::at(
                            i,
                            e,
                            ops.len(),
                        ))))
                    }
                    Err(other) => return Err(other),
                }
            }
            (Op::multi(resolved), OpResult::Multi { results })
        }
        single => run.step(single, resolve, false)?,
    };
    let system = pre
        .iter()
        .map(|p| match run.nodes[&p.path] {
            Some(stat) => NodeWrite::Put {
                path: p.path.clone(),
                stat,
                fired: FiredWatches::default(),
            },
            None => NodeWrite::Delete {
                path: p.path.clone(),
            },
        })
        .collect();
    Ok(Applied {
        op: resolved,
        system,
        user: run.user,
        ephemerals: run.ephemerals,
        result,
    })
}

/// Static checks that need no state: paths, sizes, modes, shapes.
pub fn check_request(op: &Op, max_data_len: usize) -> Result<(), Refusal> {
    match op {
        Op::Multi { ops, .. } => {
            if ops.len() > MAX_MULTI_OPS {
                return Err(Refusal::Single(Error::BadArguments));
            }
            for (i, step) in ops.iter().enumerate() {
                let nested = !matches!(
                    step,
                    Op::Create { .. } | Op::SetData { .. } | Op::Delete { .. } | Op::Check { .. }
                );
                let checked = if nested {
                    Err(Error::BadArguments)
                } else {
                    check_step(step, max_data_len)
                };
                if let Err(e) = checked {
                    return Err(Refusal::Multi(MultiFailure::at(i, e, ops.len())));
                }
            }
            Ok(())
        }
        Op::Check { .. } => Err(Refusal::Single(Error::BadArguments)),
        Op::CloseSession => Ok(()),
        Op::Sync { path } | Op::AddWatch { path, .. } | Op::RemovePersistentWatches { path } => {
            path::validate(path).map_err(Refusal::Single)
        }
        single => check_step(single, max_data_len).map_err(Refusal::Single),
    }
}

fn check_step(op: &Op, max_data_len: usize) -> Result<(), Error> {
    match op {
        Op::Create { path, data, mode } => {
            if mode.is_sequential() {
                path::validate_sequential_prefix(path)?;
            } else {
                path::validate(path)?;
            }
            if !mode.is_supported() {
                return Err(Error::Unimplemented);
            }
            check_size(data.len(), max_data_len)
        }
        Op::SetData { path, data, .. } => {
            path::validate(path)?;
            check_size(data.len(), max_data_len)
        }
        Op::Delete { path, .. } | Op::Check { path, .. } => path::validate(path),
        Op::Multi { .. }
        | Op::CloseSession
        | Op::Sync { .. }
        | Op::AddWatch { .. }
        | Op::RemovePersistentWatches { .. } => Err(Error::BadArguments),
    }
}

fn check_size(len: usize, max: usize) -> Result<(), Error> {
    if len > max {
        Err(Error::BadArguments)
    } else {
        Ok(())
    }
}

/// The nodes a write certainly touches, known before any lock: each step's
/// node (unless its name is yet to be resolved) and parent.
pub fn paths_to_lock(op: &Op) -> Vec<String> {
    let mut paths = Vec::new();
    for step in op.steps() {
        match step {
            Op::Create { path, mode, .. } if mode.is_sequential() => {
                paths.push(sequential_parent(path).to_string())
            }
            Op::Create { path, .. } | Op::Delete { path, .. } if path != path::ROOT => {
                paths.push(path::parent(path).to_string());
                paths.push(path.clone());
            }
            Op::Create { path, .. }
            | Op::Delete { path, .. }
            | Op::SetData { path, .. }
            | Op::Check { path, .. } => paths.push(path.clone()),
            Op::Multi { .. }
            | Op::CloseSession
            | Op::Sync { .. }
            | Op::AddWatch { .. }
            | Op::RemovePersistentWatches { .. } => {}
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// The parent of a sequential create's prefix: `/a/` and `/a/x-` both name
/// a child of `/a`.
fn sequential_parent(prefix: &str) -> &str {
    match prefix.rfind('/') {
        Some(0) | None => path::ROOT,
        Some(i) => &prefix[..i],
    }
}

struct Run {
    nodes: BTreeMap<String, Option<Stat>>,
    user: Vec<UserWrite>,
    ephemerals: EphemeralChanges,
    session: SessionId,
    zxid: i64,
    time: i64,
}

impl Run {
    fn stat(&self, path: &str) -> Result<Option<Stat>, Halt> {
        match self.nodes.get(path) {
            Some(stat) => Ok(*stat),
            None => Err(Halt::NeedLock(path.to_string())),
        }
    }

    fn existing(&self, path: &str) -> Result<Stat, Halt> {
        self.stat(path)?.ok_or(refuse(Error::NoNode))
    }

    /// One step, in ZooKeeper's order of checks (`PrepRequestProcessor`).
    fn step(&mut self, op: &Op, resolve: bool, in_multi: bool) -> Result<(Op, OpResult), Halt> {
        match op {
            Op::Create { path, data, mode } => {
                if path == path::ROOT && !mode.is_sequential() {
                    return Err(refuse(Error::NodeExists));
                }
                let parent_path = if mode.is_sequential() {
                    sequential_parent(path)
                } else {
                    path::parent(path)
                };
                let mut parent = self.existing(parent_path)?;
                let name = if resolve && mode.is_sequential() {
                    let name = path::sequential(path, &parent);
                    path::validate(&name).map_err(refuse)?;
                    name
                } else {
                    path.clone()
                };
                if self.stat(&name)?.is_some() {
                    return Err(refuse(Error::NodeExists));
                }
                if parent.is_ephemeral() {
                    return Err(refuse(Error::NoChildrenForEphemerals));
                }
                let stat = Stat {
                    czxid: self.zxid,
                    mzxid: self.zxid,
                    pzxid: self.zxid,
                    ctime: self.time,
                    mtime: self.time,
                    ephemeral_owner: if mode.is_ephemeral() {
                        self.session.raw()
                    } else {
                        0
                    },
                    data_length: data.len() as i32,
                    ..Stat::default()
                };
                parent.cversion += 1;
                parent.num_children += 1;
                parent.pzxid = self.zxid;
                self.nodes.insert(parent_path.to_string(), Some(parent));
                self.nodes.insert(name.clone(), Some(stat));
                self.user.push(UserWrite::Create {
                    path: name.clone(),
                    data: data.clone(),
                    stat,
                    in_flight: Default::default(),
                });
                self.user.push(UserWrite::Children {
                    path: parent_path.to_string(),
                    stat: parent,
                    change: ChildChange::Added(path::name(&name).to_string()),
                    in_flight: Default::default(),
                });
                if mode.is_ephemeral() {
                    self.ephemerals.add(&name);
                }
                let resolved = Op::Create {
                    path: name.clone(),
                    data: data.clone(),
                    mode: *mode,
                };
                Ok((resolved, OpResult::Created { path: name, stat }))
            }
            Op::SetData {
                path,
                data,
                version,
            } => {
                let mut stat = self.existing(path)?;
                check_version(*version, stat.version)?;
                stat.version += 1;
                stat.mzxid = self.zxid;
                stat.mtime = self.time;
                stat.data_length = data.len() as i32;
                self.nodes.insert(path.clone(), Some(stat));
                self.user.push(UserWrite::SetData {
                    path: path.clone(),
                    data: data.clone(),
                    stat,
                    in_flight: Default::default(),
                });
                Ok((op.clone(), OpResult::SetData { stat }))
            }
            Op::Delete { path, version } => {
                if path == path::ROOT {
                    return Err(refuse(Error::BadArguments));
                }
                let node = self.existing(path)?;
                check_version(*version, node.version)?;
                if node.num_children > 0 {
                    return Err(refuse(Error::NotEmpty));
                }
                let parent_path = path::parent(path);
                let mut parent = self.existing(parent_path)?;
                parent.cversion += 1;
                parent.num_children -= 1;
                parent.pzxid = self.zxid;
                self.nodes.insert(path.clone(), None);
                self.nodes.insert(parent_path.to_string(), Some(parent));
                self.user.push(UserWrite::Delete { path: path.clone() });
                self.user.push(UserWrite::Children {
                    path: parent_path.to_string(),
                    stat: parent,
                    change: ChildChange::Removed(path::name(path).to_string()),
                    in_flight: Default::default(),
                });
                if node.ephemeral_owner == self.session.raw() {
                    self.ephemerals.remove(path);
                }
                Ok((op.clone(), OpResult::Deleted))
            }
            Op::Check { path, version } if in_multi => {
                let stat = self.existing(path)?;
                check_version(*version, stat.version)?;
                Ok((op.clone(), OpResult::Checked))
            }
            Op::Sync { path } if !in_multi => {
                Ok((op.clone(), OpResult::Synced { path: path.clone() }))
            }
            Op::AddWatch { .. } if !in_multi => Ok((op.clone(), OpResult::WatchAdded)),
            Op::RemovePersistentWatches { .. } if !in_multi => {
                Ok((op.clone(), OpResult::WatchesRemoved))
            }
            Op::Check { .. }
            | Op::Multi { .. }
            | Op::CloseSession
            | Op::Sync { .. }
            | Op::AddWatch { .. }
            | Op::RemovePersistentWatches { .. } => Err(refuse(Error::BadArguments)),
        }
    }
}

fn refuse(e: Error) -> Halt {
    Halt::Refused(Refusal::Single(e))
}

/// `None` and ZooKeeper's `-1` both mean any version.
fn check_version(expected: Option<i32>, actual: i32) -> Result<(), Halt> {
    match expected {
        Some(v) if v != -1 && v != actual => Err(refuse(Error::BadVersion)),
        _ => Ok(()),
    }
}
