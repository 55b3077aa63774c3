//! [`SystemStore`] on DynamoDB: node locks and state, the commit counter
//! (system table) and sessions (sessions table). See the crate's `# Layout`
//! for the items.

mod commit;
mod sessions;

/// The rule that splits a group commit into transactions, for models of
/// the design that count them (`make bench`).
pub use commit::{transaction_len, MAX_TRANSACTION_ITEMS};

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use fk_core::system::{
    CommitOutcome, Counter, Expected, GroupOutcome, LockOutcome, LockRequest, NodeRecord,
    RefusalRecord, SessionRecord, SystemCommit, SystemStore, WatchRegistration, RECENT_COMMITS,
};
use fk_core::watch::{NodeWatches, PersistentWatch, WatchKind, Watcher};
use fk_core::{SessionId, StoreError};

use crate::attrs::{self, opt_n, opt_s, s, Item};
use crate::errors::{self, malformed, DYNAMODB};
use crate::lean::{self, Answer, LeanClient};
use crate::schema::SYSTEM_KEY;

/// The system table's attribute names.
pub(crate) mod names {
    pub const LOCK_TOKEN: &str = "lockToken";
    pub const LOCK_EXPIRES: &str = "lockExpires";
    pub const LAST_TOKEN: &str = "lastToken";
    /// The counter item's key.
    pub const COUNTER_PATH: &str = "#counter";
    pub const ZXID: &str = "zxid";
    /// Recent commit `i` is attribute `r{i}`.
    pub const RECENT_PREFIX: &str = "r";
    /// A one-shot watch is attribute `w:<kind>:<session>` (kind `d` data,
    /// `c` children), valued with the session's reply address.
    pub const WATCH_PREFIX: &str = "w:";
    /// Present while the item holds one-shot watches, so that a watch on
    /// a missing node outlives a placeholder's clean-up.
    pub const WATCHED: &str = "watched";
    /// The counter item's persistent watches: a string set of JSON entries.
    pub const PERSISTENT: &str = "persistent";
    /// The counter item's notifications in flight: a JSON list.
    pub const IN_FLIGHT: &str = "inFlight";
}
use names::*;

/// System storage in two DynamoDB tables.
#[derive(Debug, Clone)]
pub struct DynamoSystemStore {
    client: aws_sdk_dynamodb::Client,
    /// The fast path ([`crate::lean`]) of the lock and the commit, if any.
    lean: Option<LeanClient>,
    system_table: String,
    sessions_table: String,
}

impl DynamoSystemStore {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        system_table: impl Into<String>,
        sessions_table: impl Into<String>,
    ) -> Self {
        DynamoSystemStore {
            client,
            lean: None,
            system_table: system_table.into(),
            sessions_table: sessions_table.into(),
        }
    }

    /// Takes locks and commits through `lean` first (the SDK's client
    /// still makes every other call, and these when `lean` gives no answer
    /// they take).
    pub fn with_lean(mut self, lean: Option<LeanClient>) -> Self {
        self.lean = lean;
        self
    }

    /// The lock's `UpdateItem` through the lean transport: `None` when it
    /// gave no answer to act on, and the SDK makes the call instead.
    async fn lean_lock(&self, lean: &LeanClient, req: &LockRequest<'_>) -> Option<LockOutcome> {
        let body = serde_json::json!({
            "TableName": self.system_table,
            "Key": {SYSTEM_KEY: {"S": req.path}},
            "UpdateExpression": LOCK_UPDATE,
            "ConditionExpression": LOCK_CONDITION,
            "ExpressionAttributeNames": {"#lockToken": LOCK_TOKEN, "#lockExpires": LOCK_EXPIRES},
            "ExpressionAttributeValues": {
                ":t": {"S": req.token},
                ":e": {"N": req.expires_ms.to_string()},
                ":now": {"N": req.now_ms.to_string()},
            },
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        });
        let answer = match lean.call("UpdateItem", &body).await {
            Ok(answer) => answer,
            Err(why) => {
                lean.fell_back("UpdateItem", &why);
                return None;
            }
        };
        let outcome = lock_outcome(&answer);
        if outcome.is_none() {
            lean.fell_back("UpdateItem", &answer.describe());
        }
        outcome
    }

    fn node_key(path: &str) -> (String, aws_sdk_dynamodb::types::AttributeValue) {
        (SYSTEM_KEY.to_string(), s(path))
    }

    /// The second half of [`SystemStore::unlock`] for a node that exists:
    /// release the lock, keep the item.
    async fn release(&self, path: &str, token: &str) -> Result<(), StoreError> {
        let (key, value) = Self::node_key(path);
        let result = self
            .client
            .update_item()
            .table_name(&self.system_table)
            .key(key, value)
            .update_expression("REMOVE #lockToken, #lockExpires")
            .condition_expression("#lockToken = :t")
            .expression_attribute_names("#lockToken", LOCK_TOKEN)
            .expression_attribute_names("#lockExpires", LOCK_EXPIRES)
            .expression_attribute_values(":t", s(token))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(()) // Not ours (any more): nothing to release.
            }
            Err(err) => Err(errors::sdk(DYNAMODB, "UpdateItem", err)),
        }
    }
}

fn node_record(item: &Item) -> Result<NodeRecord, StoreError> {
    Ok(NodeRecord {
        stat: attrs::stat_from(item)?,
        last_token: opt_s(item, LAST_TOKEN)?.map(str::to_string),
        watches: node_watches(item)?,
    })
}

/// The attribute of a session's one-shot watch of `kind`.
pub(crate) fn watch_attribute(kind: WatchKind, session: SessionId) -> String {
    format!("{WATCH_PREFIX}{}:{session}", kind.tag())
}

fn node_watches(item: &Item) -> Result<NodeWatches, StoreError> {
    let mut watches = NodeWatches::default();
    for (name, value) in item {
        let Some(rest) = name.strip_prefix(WATCH_PREFIX) else {
            continue;
        };
        let parsed = rest.split_once(':').and_then(|(tag, session)| {
            let kind = match tag {
                "d" => WatchKind::Data,
                "c" => WatchKind::Children,
                _ => return None,
            };
            Some((kind, session.parse::<SessionId>().ok()?))
        });
        let (Some((kind, session)), Ok(reply_to)) = (parsed, value.as_s()) else {
            return Err(malformed(DYNAMODB, format!("watch attribute {name:?}")));
        };
        watches.add(
            kind,
            Watcher {
                session,
                reply_to: reply_to.clone(),
            },
        );
    }
    // Attribute order is a hash map's: make the firing order stable.
    watches.data.sort_by_key(|w| w.session);
    watches.children.sort_by_key(|w| w.session);
    Ok(watches)
}

/// A persistent watch as a member of the counter's string set.
pub(crate) fn persistent_entry(watch: &PersistentWatch) -> String {
    serde_json::to_string(watch).expect("a watch serialises")
}

/// The counter item's ring slot of `zxid`.
pub(crate) fn ring_attribute(zxid: i64) -> String {
    format!("{RECENT_PREFIX}{}", zxid.rem_euclid(RECENT_COMMITS))
}

/// A ring entry: `"<commit digest> <zxid>"`, the id's digest to keep the
/// counter item small (it is written by every commit). Entries written
/// before held the whole id (`"<commit id> <zxid>"`); both read alike.
pub(crate) fn ring_entry(commit_id: &str, zxid: i64) -> String {
    format!("{} {zxid}", fk_core::system::commit_digest(commit_id))
}

/// The lock's update and its condition: free, expired, or ours.
const LOCK_UPDATE: &str = "SET #lockToken = :t, #lockExpires = :e";
const LOCK_CONDITION: &str =
    "attribute_not_exists(#lockToken) OR #lockExpires < :now OR #lockToken = :t";

/// What a lock's `UpdateItem` answer says, read as the SDK path reads its
/// result: the new item on success, the holder's expiry when the condition
/// failed. `None` for anything else (an error, or an answer that does not
/// read), which is then left to the SDK.
fn lock_outcome(answer: &Answer) -> Option<LockOutcome> {
    if answer.status == 200 {
        let item = match answer.body.get("Attributes") {
            Some(json) => lean::item_from_json(json).ok()?,
            None => Item::new(),
        };
        return node_record(&item).ok().map(LockOutcome::Acquired);
    }
    if answer.error_code() != Some("ConditionalCheckFailedException") {
        return None;
    }
    let item = lean::item_from_json(answer.body.get("Item")?).ok()?;
    let expires_ms = opt_n(&item, LOCK_EXPIRES).ok()??;
    Some(LockOutcome::Held { expires_ms })
}

fn counter_from(item: &Item) -> Result<Counter, StoreError> {
    let zxid = opt_n(item, ZXID)?.unwrap_or(0);
    let mut recent = Vec::new();
    for slot in 0..RECENT_COMMITS {
        let Some(entry) = opt_s(item, &format!("{RECENT_PREFIX}{slot}"))? else {
            continue;
        };
        let parsed = entry
            .rsplit_once(' ')
            .and_then(|(token, z)| Some((token.to_string(), z.parse::<i64>().ok()?)));
        match parsed {
            Some(pair) => recent.push(pair),
            None => return Err(malformed(DYNAMODB, format!("counter entry {entry:?}"))),
        }
    }
    recent.sort_by_key(|(_, z)| *z);
    let persistent = attrs::string_set(item, PERSISTENT)?
        .iter()
        .map(|entry| {
            serde_json::from_str(entry)
                .map_err(|e| malformed(DYNAMODB, format!("persistent watch {entry:?}: {e}")))
        })
        .collect::<Result<Vec<PersistentWatch>, _>>()?;
    let in_flight = match opt_s(item, IN_FLIGHT)? {
        None => Vec::new(),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| malformed(DYNAMODB, format!("inFlight {json:?}: {e}")))?,
    };
    Ok(Counter {
        zxid,
        recent,
        persistent,
        in_flight,
    })
}

#[async_trait]
impl SystemStore for DynamoSystemStore {
    /// One `UpdateItem`: set the lock if it is free, expired or ours, and
    /// return the whole item; a failed condition returns the old item, so
    /// `Held` needs no second read.
    ///
    /// Sent through the lean transport when there is one; the SDK sends it
    /// again when that gives no answer (the condition lets our own token
    /// take the lock again, as the SDK's own retries rely on).
    async fn lock(&self, req: LockRequest<'_>) -> Result<LockOutcome, StoreError> {
        if let Some(lean) = &self.lean {
            if let Some(outcome) = self.lean_lock(lean, &req).await {
                return Ok(outcome);
            }
        }
        let (key, value) = Self::node_key(req.path);
        let result = self
            .client
            .update_item()
            .table_name(&self.system_table)
            .key(key, value)
            .update_expression(LOCK_UPDATE)
            .condition_expression(LOCK_CONDITION)
            .expression_attribute_names("#lockToken", LOCK_TOKEN)
            .expression_attribute_names("#lockExpires", LOCK_EXPIRES)
            .expression_attribute_values(":t", s(req.token))
            .expression_attribute_values(":e", attrs::n(req.expires_ms))
            .expression_attribute_values(":now", attrs::n(req.now_ms))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(LockOutcome::Acquired(node_record(
                out.attributes().unwrap_or(&Item::new()),
            )?)),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let expires = failed
                        .item()
                        .map(|item| opt_n(item, LOCK_EXPIRES))
                        .transpose()?
                        .flatten()
                        .ok_or_else(|| {
                            StoreError::transient(
                                DYNAMODB,
                                "lock held, but the failed update returned no lockExpires",
                            )
                        })?;
                    Ok(LockOutcome::Held {
                        expires_ms: expires,
                    })
                }
                _ => Err(errors::sdk(DYNAMODB, "UpdateItem", err)),
            },
        }
    }

    /// A placeholder (locked, never committed) is deleted in one
    /// `DeleteItem`; the lock of a node that exists is released by a second
    /// call, an `UpdateItem`, when the delete's condition shows it.
    async fn unlock(&self, path: &str, token: &str) -> Result<(), StoreError> {
        let (key, value) = Self::node_key(path);
        let result = self
            .client
            .delete_item()
            .table_name(&self.system_table)
            .key(key, value)
            .condition_expression(
                "#lockToken = :t AND attribute_not_exists(#czxid) \
                 AND attribute_not_exists(#lastToken) AND attribute_not_exists(#watched)",
            )
            .expression_attribute_names("#lockToken", LOCK_TOKEN)
            .expression_attribute_names("#czxid", attrs::STAT_FIELDS[0])
            .expression_attribute_names("#lastToken", LAST_TOKEN)
            .expression_attribute_names("#watched", WATCHED)
            .expression_attribute_values(":t", s(token))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    let holder = failed
                        .item()
                        .map(|item| opt_s(item, LOCK_TOKEN))
                        .transpose()?
                        .flatten();
                    match (failed.item(), holder) {
                        // Missing item, or held by someone else: a no-op.
                        (Some(_), h) if h != Some(token) => Ok(()),
                        _ => self.release(path, token).await,
                    }
                }
                _ => Err(errors::sdk(DYNAMODB, "DeleteItem", err)),
            },
        }
    }

    async fn commit(&self, commit: &SystemCommit) -> Result<CommitOutcome, StoreError> {
        tracing::Span::current().record("db.system", "dynamodb");
        commit::commit(self, commit).await
    }

    /// One `TransactWriteItems` for up to 100 items of consecutive
    /// commits (fewer when a session or node repeats): see
    /// `commit::transaction_len`.
    async fn commit_group(&self, commits: &[SystemCommit]) -> Result<GroupOutcome, StoreError> {
        tracing::Span::current().record("db.system", "dynamodb");
        commit::commit_group(self, commits).await
    }

    async fn record_refusal(
        &self,
        session: SessionId,
        seq: u64,
    ) -> Result<RefusalRecord, StoreError> {
        sessions::record_refusal(self, session, seq).await
    }

    /// One strongly consistent `GetItem` of the counter item.
    async fn counter(&self) -> Result<Counter, StoreError> {
        let (key, value) = Self::node_key(COUNTER_PATH);
        let out = self
            .client
            .get_item()
            .table_name(&self.system_table)
            .key(key, value)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| errors::sdk(DYNAMODB, "GetItem", e))?;
        match out.item() {
            Some(item) => counter_from(item),
            None => Ok(Counter::default()),
        }
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<bool, StoreError> {
        sessions::create(self, session).await
    }

    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError> {
        sessions::get(self, id).await
    }

    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError> {
        sessions::delete(self, id).await
    }

    async fn touch_session(&self, id: SessionId, now_ms: i64) -> Result<bool, StoreError> {
        sessions::touch(self, id, now_ms).await
    }

    async fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        sessions::all(self).await
    }

    /// One `UpdateItem`: set the watch if the item shows what the client
    /// read and holds no live lock; an abandoned (expired) lock is removed
    /// with it, which makes its holder's late commit fail.
    async fn register_watch(&self, reg: WatchRegistration<'_>) -> Result<bool, StoreError> {
        let (key, value) = Self::node_key(reg.path);
        // Zero is the root's before its first change gave it a record.
        let (expect, zxid) = match reg.expected {
            Expected::Missing => ("attribute_not_exists(#czxid)", None),
            Expected::Modified(0) => ("attribute_not_exists(#mzxid) OR #mzxid = :z", Some(0)),
            Expected::Modified(z) => ("#mzxid = :z", Some(z)),
            Expected::ChildrenModified(0) => {
                ("attribute_not_exists(#pzxid) OR #pzxid = :z", Some(0))
            }
            Expected::ChildrenModified(z) => ("#pzxid = :z", Some(z)),
        };
        let mut request = self
            .client
            .update_item()
            .table_name(&self.system_table)
            .key(key, value)
            .update_expression("SET #w = :reply, #watched = :yes REMOVE #lockToken, #lockExpires")
            .condition_expression(format!(
                "(attribute_not_exists(#lockToken) OR #lockExpires < :now) AND ({expect})"
            ))
            .expression_attribute_names("#w", watch_attribute(reg.kind, reg.watcher.session))
            .expression_attribute_names("#watched", WATCHED)
            .expression_attribute_names("#lockToken", LOCK_TOKEN)
            .expression_attribute_names("#lockExpires", LOCK_EXPIRES)
            .expression_attribute_values(":reply", s(&reg.watcher.reply_to))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":now", attrs::n(reg.now_ms));
        request = match reg.expected {
            Expected::Missing => {
                request.expression_attribute_names("#czxid", attrs::STAT_FIELDS[0])
            }
            Expected::Modified(_) => request.expression_attribute_names("#mzxid", "mzxid"),
            Expected::ChildrenModified(_) => request.expression_attribute_names("#pzxid", "pzxid"),
        };
        if let Some(z) = zxid {
            request = request.expression_attribute_values(":z", attrs::n(z));
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(err) => Err(errors::sdk(DYNAMODB, "UpdateItem", err)),
        }
    }

    /// One `UpdateItem` (`REMOVE`), only on an item that exists.
    async fn remove_watch(
        &self,
        path: &str,
        kind: WatchKind,
        session: SessionId,
    ) -> Result<(), StoreError> {
        let (key, value) = Self::node_key(path);
        let result = self
            .client
            .update_item()
            .table_name(&self.system_table)
            .key(key.clone(), value)
            .update_expression("REMOVE #w")
            .condition_expression("attribute_exists(#key)")
            .expression_attribute_names("#w", watch_attribute(kind, session))
            .expression_attribute_names("#key", key)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(errors::sdk(DYNAMODB, "UpdateItem", err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_reads_back_in_zxid_order_across_the_wrap() {
        let mut item = Item::new();
        item.insert(ZXID.into(), attrs::n(65));
        for zxid in [63, 64, 65] {
            item.insert(
                ring_attribute(zxid),
                s(ring_entry(&format!("t{zxid}"), zxid)),
            );
        }
        assert_eq!(ring_attribute(64), "r0");
        let counter = counter_from(&item).unwrap();
        assert_eq!(counter.zxid, 65);
        let zxids: Vec<i64> = counter.recent.iter().map(|(_, z)| *z).collect();
        assert_eq!(zxids, [63, 64, 65]);
        for zxid in [63, 64, 65] {
            assert_eq!(counter.committed_zxid(&format!("t{zxid}")), Some(zxid));
        }
        assert_eq!(counter.committed_zxid("t62"), None);
    }

    #[test]
    fn an_entry_holding_the_whole_commit_id_is_still_recognised() {
        // As every entry was written before digests.
        let mut item = Item::new();
        item.insert(ZXID.into(), attrs::n(7));
        item.insert(
            ring_attribute(7),
            s("0x00000000000000ab-3.0123456789abcdef 7"),
        );
        let counter = counter_from(&item).unwrap();
        assert_eq!(
            counter.committed_zxid("0x00000000000000ab-3.0123456789abcdef"),
            Some(7)
        );
    }

    #[test]
    fn a_ring_entry_is_a_short_digest_and_its_zxid() {
        let id = "0x00000000000000ab-3.0123456789abcdef";
        let entry = ring_entry(id, 1_234_567);
        assert_eq!(entry.len(), 12 + 1 + 7, "{entry}");
        assert!(!entry.contains(id));
        assert_ne!(
            ring_entry("0x00000000000000ab-4.0123456789abcdef", 1),
            ring_entry(id, 1)
        );
    }
}
