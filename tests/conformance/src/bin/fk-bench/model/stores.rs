//! The in-memory stores behind AWS's delays: each call waits as long as it
//! takes on AWS and is counted, and the batched calls split as the AWS
//! adapters split them (`crates/aws/src/system/commit.rs`,
//! `crates/aws/src/user/*.rs`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fk_core::memory::{MemorySystemStore, MemoryUserStore};
use fk_core::system::{
    CommitOutcome, Counter, GroupOutcome, LockOutcome, LockRequest, RefusalRecord, SessionRecord,
    SystemCommit, SystemStore, WatchRegistration,
};
use fk_core::user::{CommitWrites, UserWrite};
use fk_core::watch::WatchKind;
use fk_core::{SessionId, StoreError, UserNode, UserStore};

use super::tally::{Role, Tally};

/// System storage (DynamoDB) as one function sees it: the writer's and the
/// distributor's share the store and count their calls apart.
pub struct SlowSystem {
    pub inner: Arc<MemorySystemStore>,
    pub delay: Duration,
    pub tally: Arc<Tally>,
    pub role: Role,
}

impl SlowSystem {
    async fn call(&self, name: &'static str) {
        tokio::time::sleep(self.delay).await;
        self.tally.call(self.role, name);
    }

    /// One `TransactWriteItems` of `items` items.
    async fn transaction(&self, items: usize) {
        self.call("DynamoDB.TransactWriteItems").await;
        self.tally.transaction_items(items);
    }
}

#[async_trait]
impl SystemStore for SlowSystem {
    async fn lock(&self, req: LockRequest<'_>) -> Result<LockOutcome, StoreError> {
        self.call("DynamoDB.UpdateItem").await;
        self.inner.lock(req).await
    }
    async fn unlock(&self, path: &str, token: &str) -> Result<(), StoreError> {
        self.call("DynamoDB.UpdateItem").await;
        self.inner.unlock(path, token).await
    }
    /// The node writes, the counter and the session.
    async fn commit(&self, commit: &SystemCommit) -> Result<CommitOutcome, StoreError> {
        self.transaction(commit.writes.len() + 2).await;
        self.inner.commit(commit).await
    }
    /// One transaction per run of commits that DynamoDB takes at once
    /// (the adapter's own rule): every commit's node writes, each
    /// session's item once, and one counter update.
    async fn commit_group(&self, commits: &[SystemCommit]) -> Result<GroupOutcome, StoreError> {
        let mut done = 0;
        while done < commits.len() {
            let end = done + fk_aws::system::transaction_len(&commits[done..]);
            let group = &commits[done..end];
            let sessions: std::collections::HashSet<_> = group.iter().map(|c| c.session).collect();
            let items: usize = group.iter().map(|c| c.writes.len()).sum::<usize>() + sessions.len();
            self.transaction(items + 1).await;
            let outcome = self.inner.commit_group(group).await?;
            if let Some((failed, why)) = outcome.failed {
                return Ok(GroupOutcome {
                    committed: done + outcome.committed,
                    failed: Some((done + failed, why)),
                });
            }
            done = end;
        }
        Ok(GroupOutcome::all(commits.len()))
    }
    async fn record_refusal(
        &self,
        session: SessionId,
        seq: u64,
    ) -> Result<RefusalRecord, StoreError> {
        self.call("DynamoDB.UpdateItem").await;
        self.inner.record_refusal(session, seq).await
    }
    async fn counter(&self) -> Result<Counter, StoreError> {
        self.call("DynamoDB.GetItem").await;
        self.inner.counter().await
    }
    async fn create_session(&self, session: &SessionRecord) -> Result<bool, StoreError> {
        self.call("DynamoDB.PutItem").await;
        self.inner.create_session(session).await
    }
    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.call("DynamoDB.GetItem").await;
        self.inner.session(id).await
    }
    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError> {
        self.call("DynamoDB.DeleteItem").await;
        self.inner.delete_session(id).await
    }
    async fn touch_session(&self, id: SessionId, now_ms: i64) -> Result<bool, StoreError> {
        self.call("DynamoDB.UpdateItem").await;
        self.inner.touch_session(id, now_ms).await
    }
    async fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        self.call("DynamoDB.Scan").await;
        self.inner.sessions().await
    }
    async fn register_watch(&self, reg: WatchRegistration<'_>) -> Result<bool, StoreError> {
        self.call("DynamoDB.UpdateItem").await;
        self.inner.register_watch(reg).await
    }
    async fn remove_watch(
        &self,
        path: &str,
        kind: WatchKind,
        session: SessionId,
    ) -> Result<(), StoreError> {
        self.call("DynamoDB.UpdateItem").await;
        self.inner.remove_watch(path, kind, session).await
    }
}

/// The user store an AWS adapter would be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    S3,
    Dynamodb,
    Redis,
}

impl UserKind {
    pub fn from_name(name: &str) -> UserKind {
        match name {
            "s3" => UserKind::S3,
            "dynamodb" => UserKind::Dynamodb,
            "redis" => UserKind::Redis,
            other => panic!("no user store {other}"),
        }
    }
}

/// User storage, written by the distributor only.
pub struct SlowUser {
    pub inner: Arc<MemoryUserStore>,
    pub kind: UserKind,
    pub delay: Duration,
    pub tally: Arc<Tally>,
}

impl SlowUser {
    async fn call(&self, name: &'static str) {
        tokio::time::sleep(self.delay).await;
        self.tally.call(Role::Distributor, name);
    }

    /// The calls one write takes alone, in order.
    fn calls_of(&self, write: &UserWrite) -> &'static [&'static str] {
        let with_children = match write {
            UserWrite::SetData { stat, .. } => stat.num_children > 0,
            UserWrite::Children { .. } => true,
            UserWrite::Create { .. } | UserWrite::Delete { .. } => false,
        };
        match (self.kind, with_children) {
            // A record with children is read, then rewritten; any other
            // is written blind (the ETag of a create or a delete is the
            // instance's cache's).
            (UserKind::S3, true) => &["S3.GetObject", "S3.PutObject"],
            (UserKind::S3, false) => &["S3.PutObject"],
            (UserKind::Dynamodb, true) => &["DynamoDB.UpdateItem"],
            (UserKind::Dynamodb, false) => &["DynamoDB.PutItem"],
            (UserKind::Redis, _) => &["Redis.Script"],
        }
    }

    /// S3: each session's commits in order, different sessions' at once;
    /// one after another if two sessions share an object.
    async fn apply_s3(&self, commits: &[CommitWrites<'_>]) -> Result<(), StoreError> {
        CommitWrites::apply_by_session(commits, |zxid, write| self.apply(zxid, write)).await
    }
}

#[async_trait]
impl UserStore for SlowUser {
    async fn get(&self, path: &str) -> Result<Option<UserNode>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.get(path).await
    }

    async fn apply(&self, zxid: i64, write: &UserWrite) -> Result<(), StoreError> {
        for name in self.calls_of(write) {
            self.call(name).await;
        }
        self.inner.apply(zxid, write).await
    }

    async fn apply_batch(&self, commits: &[CommitWrites<'_>]) -> Result<(), StoreError> {
        let writes = CommitWrites::flatten(commits);
        match self.kind {
            UserKind::S3 => self.apply_s3(commits).await,
            // One MULTI/EXEC round trip for the batch (the adapter's rule).
            UserKind::Redis if writes.len() > 1 => {
                self.call("Redis.Script").await;
                for (zxid, write) in CommitWrites::atomic_run(&writes) {
                    self.inner.apply(zxid, write).await?;
                }
                Ok(())
            }
            // One TransactWriteItems per chunk (the adapter's rule).
            UserKind::Dynamodb => {
                for chunk in fk_aws::user::dynamodb_transactions(&writes) {
                    if chunk.len() == 1 {
                        self.apply(chunk[0].0, chunk[0].1).await?;
                        continue;
                    }
                    self.call("DynamoDB.TransactWriteItems").await;
                    self.tally.transaction_items(chunk.len());
                    for (zxid, write) in chunk {
                        self.inner.apply(zxid, write).await?;
                    }
                }
                Ok(())
            }
            UserKind::Redis => {
                for (zxid, write) in writes {
                    self.apply(zxid, write).await?;
                }
                Ok(())
            }
        }
    }

    fn max_data_len(&self) -> usize {
        self.inner.max_data_len()
    }
}
