//! The user-storage port: what clients read directly. S3, DynamoDB or Redis.

use async_trait::async_trait;
use bytes::Bytes;

use crate::watch::InFlight;
use crate::{SessionId, Stat, StoreError};

/// A node as clients read it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserNode {
    pub data: Bytes,
    pub stat: Stat,
    /// Child names, in no particular order (as ZooKeeper).
    pub children: Vec<String>,
    /// Watch notifications not yet known to be delivered when the record
    /// was written: a session listed here waits for its own before it
    /// shows the record (ordered notifications).
    pub in_flight: InFlight,
}

/// A change to user storage, applied as part of the commit with some zxid.
///
/// What user storage shows never goes back: each record remembers the zxid
/// of the last write applied to it, and a write applies only over a record
/// last written at or before its own zxid (see [`UserStore::apply`]). A
/// redelivered commit may therefore apply its writes again, and a late one
/// (a replay, a distributor that woke up after its successor moved on)
/// leaves newer records as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserWrite {
    /// A new node, without children.
    Create {
        path: String,
        data: Bytes,
        stat: Stat,
        in_flight: InFlight,
    },
    /// New data and `Stat`; the children stay. Commits apply in order, so
    /// `stat.num_children` is how many the record holds: a store may skip
    /// reading a node that has none.
    SetData {
        path: String,
        data: Bytes,
        stat: Stat,
        in_flight: InFlight,
    },
    /// A child came or went; the `Stat` is the parent's new one. A parent
    /// that has no record yet (the root) gets one with empty data.
    Children {
        path: String,
        stat: Stat,
        change: ChildChange,
        in_flight: InFlight,
    },
    /// Remove the node. The store keeps a tombstone with the zxid, which
    /// reads as no node, so that an older write cannot bring it back.
    Delete { path: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildChange {
    Added(String),
    Removed(String),
}

impl ChildChange {
    /// The child's name.
    pub fn name(&self) -> &str {
        match self {
            ChildChange::Added(name) | ChildChange::Removed(name) => name,
        }
    }
}

impl UserWrite {
    /// Sets the in-flight notifications the record will carry.
    pub fn set_in_flight(&mut self, value: &InFlight) {
        match self {
            UserWrite::Create { in_flight, .. }
            | UserWrite::SetData { in_flight, .. }
            | UserWrite::Children { in_flight, .. } => *in_flight = value.clone(),
            UserWrite::Delete { .. } => {}
        }
    }

    /// Whether `later`, applied right after this change, leaves the record
    /// as `later` alone would. A [`SetData`](UserWrite::SetData) replaces
    /// the data, `Stat` and notifications in flight and keeps the children,
    /// so a set of a node that another set of it follows has no effect
    /// anyone could see once both are applied.
    pub fn overwritten_by(&self, later: &UserWrite) -> bool {
        matches!(
            (self, later),
            (UserWrite::SetData { path: a, .. }, UserWrite::SetData { path: b, .. }) if a == b
        )
    }

    pub fn path(&self) -> &str {
        match self {
            UserWrite::Create { path, .. }
            | UserWrite::SetData { path, .. }
            | UserWrite::Children { path, .. }
            | UserWrite::Delete { path } => path,
        }
    }
}

/// One commit's changes to user storage, for [`UserStore::apply_batch`].
#[derive(Debug, Clone, Copy)]
pub struct CommitWrites<'a> {
    pub zxid: i64,
    /// The session that wrote it: a session's commits reach user storage
    /// in its order.
    pub session: SessionId,
    pub writes: &'a [UserWrite],
}

impl CommitWrites<'_> {
    /// The `(zxid, write)` pairs of `commits`, in order.
    pub fn flatten<'a>(commits: &'a [CommitWrites<'a>]) -> Vec<(i64, &'a UserWrite)> {
        commits
            .iter()
            .flat_map(|c| c.writes.iter().map(move |w| (c.zxid, w)))
            .collect()
    }

    /// `writes` (in order) without each change that the next change of the
    /// same record in `writes` overwrites ([`UserWrite::overwritten_by`]):
    /// for changes a store applies atomically, where no reader can see
    /// what lies between them. What is left keeps its order and leaves
    /// every record as applying all of `writes` would.
    pub fn atomic_run<'a>(writes: &[(i64, &'a UserWrite)]) -> Vec<(i64, &'a UserWrite)> {
        let mut keep = vec![true; writes.len()];
        let mut last_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, &(_, write)) in writes.iter().enumerate() {
            if let Some(before) = last_of.insert(write.path(), i) {
                // Superseded before anyone could see it.
                if writes[before].1.overwritten_by(write) {
                    keep[before] = false;
                }
            }
        }
        writes
            .iter()
            .zip(keep)
            .filter_map(|(write, keep)| keep.then_some(*write))
            .collect()
    }

    /// `writes` (in order) without each change that the very next one
    /// overwrites: for changes a store applies one after another, where a
    /// reader may look between any two. Only adjacent changes fold, so a
    /// reader still sees every other record's changes in order around
    /// them: what it can see is what it could have seen between the
    /// changes applied one by one.
    pub fn in_order_run<'a>(writes: &[(i64, &'a UserWrite)]) -> Vec<(i64, &'a UserWrite)> {
        let mut kept: Vec<(i64, &UserWrite)> = Vec::with_capacity(writes.len());
        for &(zxid, write) in writes {
            if kept
                .last()
                .is_some_and(|(_, last)| last.overwritten_by(write))
            {
                kept.pop();
            }
            kept.push((zxid, write));
        }
        kept
    }

    /// Applies `commits` with `apply`, one change at a time: each
    /// session's commits in order and different sessions' at once, or all
    /// of them in order if two sessions' commits share a record. A set of
    /// a node that the next change in its lane sets again is skipped
    /// ([`in_order_run`](Self::in_order_run)).
    pub async fn apply_by_session<'a, F, Fut>(
        commits: &'a [CommitWrites<'a>],
        apply: F,
    ) -> Result<(), StoreError>
    where
        F: Fn(i64, &'a UserWrite) -> Fut + Sync,
        Fut: std::future::Future<Output = Result<(), StoreError>> + Send,
    {
        let Some(lanes) = Self::session_lanes(commits) else {
            for (zxid, write) in Self::in_order_run(&Self::flatten(commits)) {
                apply(zxid, write).await?;
            }
            return Ok(());
        };
        let apply = &apply;
        futures::future::try_join_all(lanes.into_iter().map(|lane| async move {
            let writes: Vec<(i64, &UserWrite)> = lane
                .iter()
                .flat_map(|c| c.writes.iter().map(move |w| (c.zxid, w)))
                .collect();
            for (zxid, write) in Self::in_order_run(&writes) {
                apply(zxid, write).await?;
            }
            Ok::<_, StoreError>(())
        }))
        .await?;
        Ok(())
    }

    /// `commits` in one lane per session, each lane in order; `None` if two
    /// sessions' commits share a record (they must then go one after
    /// another).
    fn session_lanes<'a>(
        commits: &'a [CommitWrites<'a>],
    ) -> Option<Vec<Vec<&'a CommitWrites<'a>>>> {
        let mut writer_of: std::collections::HashMap<&str, SessionId> =
            std::collections::HashMap::new();
        let mut lanes: Vec<(SessionId, Vec<&CommitWrites>)> = Vec::new();
        for commit in commits {
            for write in commit.writes {
                if *writer_of.entry(write.path()).or_insert(commit.session) != commit.session {
                    return None;
                }
            }
            match lanes.iter_mut().find(|(s, _)| *s == commit.session) {
                Some((_, lane)) => lane.push(commit),
                None => lanes.push((commit.session, vec![commit])),
            }
        }
        Some(lanes.into_iter().map(|(_, lane)| lane).collect())
    }
}

/// User storage.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Reads a node with strong consistency; `None` if it has no record.
    async fn get(&self, path: &str) -> Result<Option<UserNode>, StoreError>;

    /// Applies one change of the commit `zxid`, atomically and only if the
    /// record (or its tombstone) was last written at or before `zxid`; a
    /// missing record counts as never written. A record written by a later
    /// commit is left as it is and the call succeeds: the change is already
    /// superseded. Equal zxids apply again (a commit may write one record
    /// twice, and a redelivered commit repeats its writes), so every change
    /// must be idempotent.
    ///
    /// One exception keeps child lists whole when commits reach user
    /// storage out of order (a redelivered batch that SQS, or an emulator,
    /// hands back in another order): a superseded [`UserWrite::Children`]
    /// still settles its one name, listed if and only if the child's own
    /// record exists and is not a tombstone (child records follow the rule
    /// above, so they are the truth for membership), leaving the parent's
    /// `Stat` and zxid as they are.
    async fn apply(&self, zxid: i64, write: &UserWrite) -> Result<(), StoreError>;

    /// Applies the changes of several commits, given in zxid order, each
    /// as [`apply`](Self::apply) would, so that a reader never sees a
    /// commit without every earlier one of the batch. A store that can
    /// makes the batch atomic (Redis: one `MULTI`; DynamoDB: one
    /// transaction); S3 cannot, and writes different sessions' commits at
    /// once (docs/write-path.md, "Group commit", says what readers can see
    /// then). This default applies one write after another.
    async fn apply_batch(&self, commits: &[CommitWrites<'_>]) -> Result<(), StoreError> {
        for commit in commits {
            for write in commit.writes {
                self.apply(commit.zxid, write).await?;
            }
        }
        Ok(())
    }

    /// The largest node data this store holds (bytes).
    fn max_data_len(&self) -> usize;
}
