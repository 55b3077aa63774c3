//! Complete in-memory implementations of every port, for unit tests and
//! simulations. They keep the same rules as the AWS adapters: conditional
//! locks, all-or-nothing commits, deduplicated pushes.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::queue::WriteQueue;
use crate::system::{
    CommitOutcome, Counter, Expected, GroupOutcome, LockOutcome, LockRequest, NodeRecord,
    NodeWrite, RefusalRecord, SessionRecord, SystemCommit, SystemStore, WatchRegistration,
    RECENT_COMMITS, REFUSED_KEPT,
};
use crate::user::{ChildChange, UserNode, UserStore, UserWrite};
use crate::watch::{
    InFlight, NodeWatches, Notification, NotificationSink, WatchBatch, WatchKind, WatchQueue,
};
use crate::{
    CommitQueue, CommitRequest, Reply, ReplySink, SessionId, Stat, StoreError, WriteRequest,
};

#[derive(Debug, Clone, Default)]
struct SystemItem {
    stat: Option<Stat>,
    lock: Option<(String, i64)>,
    last_token: Option<String>,
    watches: NodeWatches,
}

#[derive(Debug, Default, Clone)]
struct SystemState {
    nodes: HashMap<String, SystemItem>,
    counter: Counter,
    sessions: HashMap<SessionId, SessionRecord>,
}

/// System storage in memory.
#[derive(Debug, Default)]
pub struct MemorySystemStore {
    state: Mutex<SystemState>,
    /// The size of each group committed, for assertions.
    groups: Mutex<Vec<usize>>,
}

impl MemorySystemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The node's current stat, for assertions.
    pub fn stat(&self, path: &str) -> Option<Stat> {
        let state = self.state.lock().unwrap();
        state.nodes.get(path).and_then(|i| i.stat)
    }

    /// The size of each group [`SystemStore::commit_group`] applied, in
    /// order, for assertions.
    pub fn group_sizes(&self) -> Vec<usize> {
        self.groups.lock().unwrap().clone()
    }

    /// Whether any lock is held, for assertions.
    pub fn locked_paths(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .nodes
            .iter()
            .filter(|(_, i)| i.lock.is_some())
            .map(|(p, _)| p.clone())
            .collect()
    }
}

#[async_trait]
impl SystemStore for MemorySystemStore {
    async fn lock(&self, req: LockRequest<'_>) -> Result<LockOutcome, StoreError> {
        let mut state = self.state.lock().unwrap();
        let item = state.nodes.entry(req.path.to_string()).or_default();
        if let Some((holder, expires)) = &item.lock {
            if holder != req.token && *expires >= req.now_ms {
                return Ok(LockOutcome::Held {
                    expires_ms: *expires,
                });
            }
        }
        item.lock = Some((req.token.to_string(), req.expires_ms));
        Ok(LockOutcome::Acquired(NodeRecord {
            stat: item.stat,
            last_token: item.last_token.clone(),
            watches: item.watches.clone(),
        }))
    }

    async fn unlock(&self, path: &str, token: &str) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        if let Some(item) = state.nodes.get_mut(path) {
            if item.lock.as_ref().is_some_and(|(t, _)| t == token) {
                item.lock = None;
                if item.stat.is_none() && item.last_token.is_none() && item.watches.is_empty() {
                    state.nodes.remove(path);
                }
            }
        }
        Ok(())
    }

    async fn commit(&self, commit: &SystemCommit) -> Result<CommitOutcome, StoreError> {
        Ok(commit_to(&mut self.state.lock().unwrap(), commit))
    }

    /// All or nothing, as one DynamoDB transaction: the first commit that
    /// fails leaves every commit of the group unapplied.
    async fn commit_group(&self, commits: &[SystemCommit]) -> Result<GroupOutcome, StoreError> {
        let mut state = self.state.lock().unwrap();
        let mut scratch = state.clone();
        for (i, commit) in commits.iter().enumerate() {
            let outcome = commit_to(&mut scratch, commit);
            if outcome != CommitOutcome::Committed {
                return Ok(GroupOutcome {
                    committed: 0,
                    failed: Some((i, outcome)),
                });
            }
        }
        *state = scratch;
        self.groups.lock().unwrap().push(commits.len());
        Ok(GroupOutcome::all(commits.len()))
    }

    async fn record_refusal(
        &self,
        session: SessionId,
        seq: u64,
    ) -> Result<RefusalRecord, StoreError> {
        let mut state = self.state.lock().unwrap();
        let Some(record) = state.sessions.get_mut(&session) else {
            return Ok(RefusalRecord::SessionMissing);
        };
        if record.decided(seq) {
            return Ok(RefusalRecord::AlreadyDecided);
        }
        record.refused.push(seq);
        if record.refused.len() > REFUSED_KEPT {
            let last = record.last_seq;
            record.refused.retain(|s| *s > last);
        }
        Ok(RefusalRecord::Recorded)
    }

    async fn counter(&self) -> Result<Counter, StoreError> {
        Ok(self.state.lock().unwrap().counter.clone())
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<bool, StoreError> {
        let mut state = self.state.lock().unwrap();
        if state.sessions.contains_key(&session.id) {
            return Ok(false);
        }
        state.sessions.insert(session.id, session.clone());
        Ok(true)
    }

    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.state.lock().unwrap().sessions.get(&id).cloned())
    }

    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError> {
        self.state.lock().unwrap().sessions.remove(&id);
        Ok(())
    }

    async fn touch_session(&self, id: SessionId, now_ms: i64) -> Result<bool, StoreError> {
        let mut state = self.state.lock().unwrap();
        Ok(match state.sessions.get_mut(&id) {
            Some(session) => {
                session.heartbeat_ms = now_ms;
                true
            }
            None => false,
        })
    }

    async fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let mut all: Vec<SessionRecord> = self
            .state
            .lock()
            .unwrap()
            .sessions
            .values()
            .cloned()
            .collect();
        all.sort_by_key(|s| s.id);
        Ok(all)
    }

    async fn register_watch(&self, reg: WatchRegistration<'_>) -> Result<bool, StoreError> {
        let mut state = self.state.lock().unwrap();
        let item = state.nodes.entry(reg.path.to_string()).or_default();
        let locked = item
            .lock
            .as_ref()
            .is_some_and(|(_, expires)| *expires >= reg.now_ms);
        let as_read = match reg.expected {
            Expected::Missing => item.stat.is_none(),
            // Zero is the root's before its first change gave it a record.
            Expected::Modified(zxid) => item.stat.map_or(zxid == 0, |s| s.mzxid == zxid),
            Expected::ChildrenModified(zxid) => item.stat.map_or(zxid == 0, |s| s.pzxid == zxid),
        };
        if locked || !as_read {
            if item.stat.is_none() && item.lock.is_none() && item.watches.is_empty() {
                state.nodes.remove(reg.path);
            }
            return Ok(false);
        }
        item.lock = None;
        item.watches.add(reg.kind, reg.watcher.clone());
        Ok(true)
    }

    async fn remove_watch(
        &self,
        path: &str,
        kind: WatchKind,
        session: SessionId,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        if let Some(item) = state.nodes.get_mut(path) {
            item.watches.remove(kind, session);
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct UserRecord {
    data: bytes::Bytes,
    stat: Stat,
    children: HashSet<String>,
    in_flight: InFlight,
    /// The zxid of the last write applied to the record.
    zxid: i64,
    /// A deleted node: kept so that an older write cannot bring it back.
    tombstone: bool,
}

impl UserRecord {
    fn empty(stat: Stat, zxid: i64) -> Self {
        UserRecord {
            data: Default::default(),
            stat,
            children: HashSet::new(),
            in_flight: InFlight::default(),
            zxid,
            tombstone: false,
        }
    }
}

/// User storage in memory, with the same rule as the real stores: a
/// write applies only over a record last written at or before its zxid.
#[derive(Debug)]
pub struct MemoryUserStore {
    nodes: Mutex<BTreeMap<String, UserRecord>>,
    max_data_len: usize,
}

impl Default for MemoryUserStore {
    fn default() -> Self {
        Self::with_max_data_len(1024 * 1024)
    }
}

impl MemoryUserStore {
    pub fn with_max_data_len(max_data_len: usize) -> Self {
        MemoryUserStore {
            nodes: Mutex::default(),
            max_data_len,
        }
    }

    /// The zxid of the last write applied to `path`'s record, a tombstone
    /// included, for assertions.
    pub fn applied_zxid(&self, path: &str) -> Option<i64> {
        self.nodes.lock().unwrap().get(path).map(|r| r.zxid)
    }
}

#[async_trait]
impl UserStore for MemoryUserStore {
    async fn get(&self, path: &str) -> Result<Option<UserNode>, StoreError> {
        let nodes = self.nodes.lock().unwrap();
        Ok(nodes.get(path).filter(|r| !r.tombstone).map(|r| {
            let mut children: Vec<String> = r.children.iter().cloned().collect();
            children.sort();
            UserNode {
                data: r.data.clone(),
                stat: r.stat,
                children,
                in_flight: r.in_flight.clone(),
            }
        }))
    }

    async fn apply(&self, zxid: i64, write: &UserWrite) -> Result<(), StoreError> {
        let mut nodes = self.nodes.lock().unwrap();
        if nodes.get(write.path()).is_some_and(|r| r.zxid > zxid) {
            if let UserWrite::Children { path, change, .. } = write {
                // Superseded, but the newer record may have been built
                // without this change: list the child iff its own record
                // says it exists.
                let name = change.name();
                let child = crate::path::join(path, name);
                let exists = nodes.get(&child).is_some_and(|r| !r.tombstone);
                let parent = nodes.get_mut(path).expect("checked above");
                if exists {
                    parent.children.insert(name.to_string());
                } else {
                    parent.children.remove(name);
                }
            }
            return Ok(());
        }
        match write {
            UserWrite::Create {
                path,
                data,
                stat,
                in_flight,
            } => {
                nodes.insert(
                    path.clone(),
                    UserRecord {
                        data: data.clone(),
                        in_flight: in_flight.clone(),
                        ..UserRecord::empty(*stat, zxid)
                    },
                );
            }
            UserWrite::SetData {
                path,
                data,
                stat,
                in_flight,
            } => {
                let record = nodes
                    .entry(path.clone())
                    .or_insert_with(|| UserRecord::empty(*stat, zxid));
                record.data = data.clone();
                record.stat = *stat;
                record.in_flight = in_flight.clone();
                record.zxid = zxid;
                record.tombstone = false;
            }
            UserWrite::Children {
                path,
                stat,
                change,
                in_flight,
            } => {
                let record = nodes
                    .entry(path.clone())
                    .or_insert_with(|| UserRecord::empty(*stat, zxid));
                if record.tombstone {
                    *record = UserRecord::empty(*stat, zxid);
                }
                record.stat = *stat;
                record.in_flight = in_flight.clone();
                record.zxid = zxid;
                match change {
                    ChildChange::Added(name) => record.children.insert(name.clone()),
                    ChildChange::Removed(name) => record.children.remove(name),
                };
            }
            UserWrite::Delete { path } => {
                nodes.insert(
                    path.clone(),
                    UserRecord {
                        tombstone: true,
                        ..UserRecord::empty(Stat::default(), zxid)
                    },
                );
            }
        }
        Ok(())
    }

    fn max_data_len(&self) -> usize {
        self.max_data_len
    }
}

/// The distributor queue in memory: FIFO, deduplicated by token.
#[derive(Debug, Default)]
pub struct MemoryCommitQueue {
    inner: Mutex<(VecDeque<CommitRequest>, HashSet<String>)>,
    /// The size of each `push_batch` call, for assertions.
    batches: Mutex<Vec<usize>>,
}

impl MemoryCommitQueue {
    /// Takes the oldest commit request.
    pub fn pop(&self) -> Option<CommitRequest> {
        self.inner.lock().unwrap().0.pop_front()
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap().0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The size of each batch pushed with `push_batch`, in order.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.batches.lock().unwrap().clone()
    }

    /// Forgets the tokens seen so far, as SQS does after its five-minute
    /// deduplication window (or for a copy sent with a fresh id).
    pub fn forget_deduplication(&self) {
        self.inner.lock().unwrap().1.clear();
    }
}

#[async_trait]
impl CommitQueue for MemoryCommitQueue {
    async fn push(&self, commit: &CommitRequest) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().unwrap();
        if inner.1.insert(commit.token.clone()) {
            inner.0.push_back(commit.clone());
        }
        Ok(())
    }

    async fn push_batch(&self, batch: &[crate::Outgoing]) -> Result<(), StoreError> {
        self.batches.lock().unwrap().push(batch.len());
        for out in batch {
            self.push(&out.commit).await?;
        }
        Ok(())
    }
}

/// Replies in memory, by address.
#[derive(Debug, Default)]
pub struct MemoryReplies {
    sent: Mutex<Vec<(String, Reply)>>,
    discarded: Mutex<Vec<String>>,
}

impl MemoryReplies {
    /// Takes every reply sent so far.
    pub fn take(&self) -> Vec<(String, Reply)> {
        std::mem::take(&mut self.sent.lock().unwrap())
    }

    /// The channels discarded so far.
    pub fn discarded(&self) -> Vec<String> {
        self.discarded.lock().unwrap().clone()
    }
}

#[async_trait]
impl ReplySink for MemoryReplies {
    async fn reply(&self, reply_to: &str, reply: &Reply) -> Result<(), StoreError> {
        self.sent
            .lock()
            .unwrap()
            .push((reply_to.to_string(), reply.clone()));
        Ok(())
    }

    async fn discard(&self, reply_to: &str) -> Result<(), StoreError> {
        self.discarded.lock().unwrap().push(reply_to.to_string());
        Ok(())
    }
}

/// The writer queue in memory: FIFO, deduplicated by token.
#[derive(Debug, Default)]
pub struct MemoryWriteQueue {
    inner: Mutex<(VecDeque<WriteRequest>, HashSet<String>)>,
}

impl MemoryWriteQueue {
    /// Takes the oldest write.
    pub fn pop(&self) -> Option<WriteRequest> {
        self.inner.lock().unwrap().0.pop_front()
    }
}

#[async_trait]
impl WriteQueue for MemoryWriteQueue {
    async fn send(&self, request: &WriteRequest) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().unwrap();
        if inner.1.insert(request.token()) {
            inner.0.push_back(request.clone());
        }
        Ok(())
    }
}

/// The watch queue in memory: FIFO, deduplicated by zxid.
#[derive(Debug, Default)]
pub struct MemoryWatchQueue {
    inner: Mutex<(VecDeque<WatchBatch>, HashSet<i64>)>,
}

impl MemoryWatchQueue {
    /// Takes the oldest batch.
    pub fn pop(&self) -> Option<WatchBatch> {
        self.inner.lock().unwrap().0.pop_front()
    }
}

#[async_trait]
impl WatchQueue for MemoryWatchQueue {
    async fn push(&self, batch: &WatchBatch) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().unwrap();
        if inner.1.insert(batch.zxid) {
            inner.0.push_back(batch.clone());
        }
        Ok(())
    }
}

/// Notifications in memory, by address.
#[derive(Debug, Default)]
pub struct MemoryNotifications {
    sent: Mutex<Vec<(String, Notification)>>,
}

impl MemoryNotifications {
    /// Takes every notification sent so far.
    pub fn take(&self) -> Vec<(String, Notification)> {
        std::mem::take(&mut self.sent.lock().unwrap())
    }
}

#[async_trait]
impl NotificationSink for MemoryNotifications {
    async fn notify(&self, reply_to: &str, notification: &Notification) -> Result<(), StoreError> {
        self.sent
            .lock()
            .unwrap()
            .push((reply_to.to_string(), notification.clone()));
        Ok(())
    }
}

/// Applies one commit to `state`, or nothing of it.
fn commit_to(state: &mut SystemState, commit: &SystemCommit) -> CommitOutcome {
    if state.counter.zxid != commit.zxid - 1 {
        return CommitOutcome::ZxidMismatch;
    }
    match state.sessions.get(&commit.session) {
        None => return CommitOutcome::SessionMissing,
        Some(session) if session.decided(commit.seq) => return CommitOutcome::Duplicate,
        Some(_) => {}
    }
    for write in &commit.writes {
        let held = state
            .nodes
            .get(write.path())
            .and_then(|i| i.lock.as_ref())
            .is_some_and(|(t, _)| *t == commit.token);
        if !held {
            return CommitOutcome::LockLost {
                path: write.path().to_string(),
            };
        }
    }
    for write in &commit.writes {
        match write {
            NodeWrite::Put { path, stat, fired } => {
                let item = state.nodes.entry(path.clone()).or_default();
                item.stat = Some(*stat);
                item.lock = None;
                item.last_token = Some(commit.token.clone());
                for (kind, session) in &fired.removed {
                    item.watches.remove(*kind, *session);
                }
            }
            NodeWrite::Delete { path } => {
                state.nodes.remove(path);
            }
        }
    }
    if commit.close_session {
        state.sessions.remove(&commit.session);
    } else {
        let session = state.sessions.get_mut(&commit.session).unwrap();
        session.last_seq = commit.seq;
        session
            .ephemerals
            .extend(commit.ephemerals.added.iter().cloned());
        session
            .ephemerals
            .retain(|e| !commit.ephemerals.removed.contains(e));
    }
    let counter = &mut state.counter;
    commit.persistent.apply_to(&mut counter.persistent);
    if let Some(in_flight) = &commit.in_flight {
        counter.in_flight = in_flight.clone();
    }
    counter.zxid = commit.zxid;
    counter.recent.push((commit.commit_id.clone(), commit.zxid));
    let excess = counter.recent.len().saturating_sub(RECENT_COMMITS as usize);
    counter.recent.drain(..excess);
    CommitOutcome::Committed
}
