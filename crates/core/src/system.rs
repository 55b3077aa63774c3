//! The system-storage port: node system state, timed locks, the commit
//! counter and sessions. DynamoDB in production.

use async_trait::async_trait;

use crate::watch::{InFlightEntry, NodeWatches, PersistentWatch, WatchKind, Watcher};
use crate::{SessionId, Stat, StoreError};

/// A request for a node's timed lock.
#[derive(Debug, Clone, Copy)]
pub struct LockRequest<'a> {
    pub path: &'a str,
    /// The request token; taking a lock already held by the same token
    /// succeeds, so a redelivered request can resume its own work.
    pub token: &'a str,
    /// The caller's clock: a lock that expired before this may be taken over.
    pub now_ms: i64,
    /// When the new lock expires.
    pub expires_ms: i64,
}

/// What a lock attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    /// The lock is ours; the node's state is returned with it.
    Acquired(NodeRecord),
    /// Another request holds the lock until `expires_ms`.
    Held { expires_ms: i64 },
}

/// A node's system state, read under its lock.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeRecord {
    /// `None`: the node does not exist.
    pub stat: Option<Stat>,
    /// The token of the last commit that touched the node.
    pub last_token: Option<String>,
    /// The one-shot watches on the node.
    pub watches: NodeWatches,
}

/// One node's part of a commit. Each is conditional on the node's lock
/// still being held by the commit's token, and releases it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeWrite {
    /// Set the node's `Stat` (creating the node if it did not exist), and
    /// remove the one-shot watches the commit fired.
    Put {
        path: String,
        stat: Stat,
        fired: FiredWatches,
    },
    /// Remove the node.
    Delete { path: String },
}

impl NodeWrite {
    pub fn path(&self) -> &str {
        match self {
            NodeWrite::Put { path, .. } | NodeWrite::Delete { path } => path,
        }
    }
}

/// The one-shot watches a commit fired on one node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FiredWatches {
    pub removed: Vec<(WatchKind, SessionId)>,
    /// Whether other one-shot watches stay on the node.
    pub others_remain: bool,
}

/// Changes to the persistent watches, kept with the counter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersistentChanges {
    pub added: Vec<PersistentWatch>,
    pub removed: Vec<PersistentWatch>,
}

impl PersistentChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// `watches` with the changes applied.
    pub fn apply_to(&self, watches: &mut Vec<PersistentWatch>) {
        watches.retain(|w| !self.removed.contains(w));
        for added in &self.added {
            if !watches.contains(added) {
                watches.push(added.clone());
            }
        }
    }
}

/// What a one-shot watch registration expects of the node's system
/// record: the state the client's read returned. The watch is registered
/// only if the record still shows it and no write holds the node's lock,
/// so that no change can fall between the read and the watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// The node does not exist (`exists` on a missing node).
    Missing,
    /// The node's `mzxid` (a data watch).
    Modified(i64),
    /// The node's `pzxid` (a child watch).
    ChildrenModified(i64),
}

/// A one-shot watch to register.
#[derive(Debug, Clone)]
pub struct WatchRegistration<'a> {
    pub path: &'a str,
    pub kind: WatchKind,
    pub watcher: &'a Watcher,
    pub expected: Expected,
    /// The caller's clock: a lock that expired before this is abandoned
    /// (its holder crashed) and is cleared by the registration.
    pub now_ms: i64,
}

/// An atomic commit of one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemCommit {
    /// The request token: the owner of the locks the commit releases.
    pub token: String,
    /// What the counter remembers the commit by: the token and a
    /// fingerprint of the commit's content
    /// ([`CommitRequest::commit_id`](crate::CommitRequest::commit_id)), so
    /// that a copy of the request validated against another state is not
    /// taken for a redelivery of this one.
    pub commit_id: String,
    /// The commit's zxid: the counter must be exactly `zxid - 1`.
    pub zxid: i64,
    pub writes: Vec<NodeWrite>,
    /// The session must still exist and must not have decided `seq` yet
    /// (committed or refused it): its `last_seq` becomes `seq`.
    pub session: SessionId,
    pub seq: u64,
    /// The session's ephemeral nodes gained and lost.
    pub ephemerals: EphemeralChanges,
    /// The write closes the session: its record is deleted.
    pub close_session: bool,
    /// Persistent watches added or removed.
    pub persistent: PersistentChanges,
    /// The notifications in flight after this commit, if they changed.
    pub in_flight: Option<Vec<InFlightEntry>>,
}

/// Changes to the set of ephemeral nodes a session owns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EphemeralChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl EphemeralChanges {
    pub fn add(&mut self, path: &str) {
        if let Some(i) = self.removed.iter().position(|p| p == path) {
            self.removed.remove(i);
        }
        self.added.push(path.to_string());
    }

    pub fn remove(&mut self, path: &str) {
        match self.added.iter().position(|p| p == path) {
            // Created and deleted by the same write: never seen.
            Some(i) => {
                self.added.remove(i);
            }
            None => self.removed.push(path.to_string()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Why a commit did not apply. Nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed,
    /// The counter was not `zxid - 1`.
    ZxidMismatch,
    /// A node's lock is no longer held by the commit's token.
    LockLost {
        path: String,
    },
    /// The session does not exist (expired or closed).
    SessionMissing,
    /// The session already decided this seq: it was committed (perhaps
    /// under another zxid, by an earlier copy of the request) or refused.
    Duplicate,
}

/// What became of a group of commits ([`SystemStore::commit_group`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOutcome {
    /// How many commits, from the first, were applied.
    pub committed: usize,
    /// The commit that failed (its index, at or after `committed`) and
    /// why. Nothing of it was applied, nor of the commits between
    /// `committed` and it, nor after it: the caller decides it and tries
    /// the others again.
    pub failed: Option<(usize, CommitOutcome)>,
}

impl GroupOutcome {
    /// Every commit of a group of `n` applied.
    pub fn all(n: usize) -> Self {
        GroupOutcome {
            committed: n,
            failed: None,
        }
    }
}

/// What [`SystemStore::record_refusal`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalRecord {
    /// The refusal is the seq's decision: answer the client.
    Recorded,
    /// The seq was already committed or refused: this is a copy of a
    /// request that was answered, and must not be answered again.
    AlreadyDecided,
    /// The session does not exist.
    SessionMissing,
}

/// The global commit counter and the commit ids of the latest commits, so
/// that a redelivered commit can be recognised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counter {
    pub zxid: i64,
    /// `(commit id, zxid)` of at least the last [`RECENT_COMMITS`]
    /// commits; a store may keep the id's [`commit_digest`] instead.
    pub recent: Vec<(String, i64)>,
    /// Every persistent watch, as of `zxid`.
    pub persistent: Vec<PersistentWatch>,
    /// The notifications in flight, as of `zxid`.
    pub in_flight: Vec<InFlightEntry>,
}

/// How many recent commit ids the counter remembers. A distributor batch
/// may hold more writes (ten bundles of ten), so the distributor never
/// lets a write leave this memory before its change is applied and its
/// reply is out: a redelivered batch recognises every write that may still
/// need either. The more it remembers, the fewer times a large batch waits
/// for its replies; each entry costs the counter item (which every commit
/// writes) about 30 bytes.
pub const RECENT_COMMITS: i64 = 64;

/// What a store may remember a commit id by: 72 bits of its SHA-256, as
/// 12 characters of URL-safe base64 (a commit id is about 40). Finding
/// another id with the same digest is a second-preimage search, out of
/// reach; a chance match among the ring's entries has odds of 2⁻⁶⁶.
pub fn commit_digest(commit_id: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(commit_id.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash[..9])
}

impl Counter {
    /// The zxid the commit `commit_id` got, if it is among the recent
    /// ones (remembered by its id or by its digest).
    pub fn committed_zxid(&self, commit_id: &str) -> Option<i64> {
        let digest = commit_digest(commit_id);
        self.recent
            .iter()
            .find(|(t, _)| t == commit_id || *t == digest)
            .map(|(_, zxid)| *zxid)
    }
}

/// A session as system storage keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub timeout_ms: i64,
    /// Where replies and events for the session go.
    pub reply_to: String,
    /// The highest request seq committed for the session.
    pub last_seq: u64,
    /// Seqs answered with an error (by the writer or the distributor), so
    /// that no copy of such a request commits later. Entries at or below
    /// `last_seq` may be pruned: the commit condition covers them.
    pub refused: Vec<u64>,
    /// The paths of the session's ephemeral nodes.
    pub ephemerals: Vec<String>,
    /// The session's last sign of life.
    pub heartbeat_ms: i64,
}

impl SessionRecord {
    /// Whether the session already committed or refused `seq`.
    pub fn decided(&self, seq: u64) -> bool {
        seq <= self.last_seq || self.refused.contains(&seq)
    }
}

/// How many refused seqs a session keeps before those at or below its
/// `last_seq` are pruned.
pub const REFUSED_KEPT: usize = 32;

/// System storage.
#[async_trait]
pub trait SystemStore: Send + Sync {
    /// Takes a node's timed lock if it is free, expired or already ours.
    async fn lock(&self, req: LockRequest<'_>) -> Result<LockOutcome, StoreError>;

    /// Releases a lock held by `token`; does nothing if it is not held by it.
    /// A node that does not exist leaves no trace.
    async fn unlock(&self, path: &str, token: &str) -> Result<(), StoreError>;

    /// Applies a commit atomically, or nothing of it.
    async fn commit(&self, commit: &SystemCommit) -> Result<CommitOutcome, StoreError>;

    /// Applies a group of commits with consecutive zxids, in order: the
    /// first `committed` of them are applied and the rest not. A store
    /// applies as many as it can in one atomic step (DynamoDB: one
    /// transaction of up to 100 items); this default commits one at a time.
    /// An `Err` may leave a prefix applied: the caller's retry recognises
    /// those by their commit ids.
    async fn commit_group(&self, commits: &[SystemCommit]) -> Result<GroupOutcome, StoreError> {
        for (i, commit) in commits.iter().enumerate() {
            match self.commit(commit).await? {
                CommitOutcome::Committed => {}
                outcome => {
                    return Ok(GroupOutcome {
                        committed: i,
                        failed: Some((i, outcome)),
                    })
                }
            }
        }
        Ok(GroupOutcome::all(commits.len()))
    }

    /// Records that the session's request `seq` was answered with an error,
    /// unless the session already decided it. Every refusal goes through
    /// here before the client hears it: exactly one decision per seq.
    async fn record_refusal(
        &self,
        session: SessionId,
        seq: u64,
    ) -> Result<RefusalRecord, StoreError>;

    /// Reads the counter with strong consistency.
    async fn counter(&self) -> Result<Counter, StoreError>;

    /// Registers a new session; `false` if the id is taken.
    async fn create_session(&self, session: &SessionRecord) -> Result<bool, StoreError>;

    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError>;

    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError>;

    /// Records a sign of life; `false` if the session no longer exists.
    async fn touch_session(&self, id: SessionId, now_ms: i64) -> Result<bool, StoreError>;

    /// Every session (a scan: the heartbeat's, once per period).
    async fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError>;

    /// Registers a one-shot watch if the node is as the client read it
    /// and no write is in flight on it; `false` otherwise (read again).
    async fn register_watch(&self, reg: WatchRegistration<'_>) -> Result<bool, StoreError>;

    /// Removes a session's one-shot watch of `kind` from a node, if there.
    async fn remove_watch(
        &self,
        path: &str,
        kind: WatchKind,
        session: SessionId,
    ) -> Result<(), StoreError>;
}
