//! Sessions in the sessions table: one item per session, keyed by its
//! `0x…` id.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use fk_core::system::{RefusalRecord, SessionRecord, REFUSED_KEPT};
use fk_core::{SessionId, StoreError};

use super::DynamoSystemStore;
use crate::attrs::{self, n, opt_n, opt_s, required_n, s, Item};
use crate::errors::{self, malformed, DYNAMODB};
use crate::schema::SESSIONS_KEY;

/// The sessions table's attribute names.
pub(crate) mod names {
    pub const TIMEOUT_MS: &str = "timeoutMs";
    pub const REPLY_TO: &str = "replyTo";
    pub const LAST_SEQ: &str = "lastSeq";
    /// A number set of seqs answered with an error, absent when empty.
    pub const REFUSED: &str = "refused";
    /// A string set, absent when empty.
    pub const EPHEMERALS: &str = "ephemerals";
    pub const HEARTBEAT_MS: &str = "heartbeatMs";
}
use names::*;

fn to_item(session: &SessionRecord) -> Item {
    let mut item = Item::from([
        (SESSIONS_KEY.to_string(), s(session.id.to_string())),
        (TIMEOUT_MS.to_string(), n(session.timeout_ms)),
        (REPLY_TO.to_string(), s(&session.reply_to)),
        (LAST_SEQ.to_string(), n(session.last_seq)),
        (HEARTBEAT_MS.to_string(), n(session.heartbeat_ms)),
    ]);
    if let Some(set) = attrs::ss(session.ephemerals.iter().cloned()) {
        item.insert(EPHEMERALS.to_string(), set);
    }
    if !session.refused.is_empty() {
        item.insert(REFUSED.to_string(), refused_set(&session.refused));
    }
    item
}

fn from_item(item: &Item) -> Result<SessionRecord, StoreError> {
    let id = opt_s(item, SESSIONS_KEY)?
        .and_then(|id| id.parse::<SessionId>().ok())
        .ok_or_else(|| malformed(DYNAMODB, "session id"))?;
    let last_seq = required_n(item, LAST_SEQ)?;
    let mut ephemerals = attrs::string_set(item, EPHEMERALS)?;
    ephemerals.sort();
    let mut refused = match item.get(REFUSED) {
        None => Vec::new(),
        Some(AttributeValue::Ns(seqs)) => seqs
            .iter()
            .map(|seq| seq.parse::<u64>())
            .collect::<Result<Vec<u64>, _>>()
            .map_err(|e| malformed(DYNAMODB, format!("refused: {e}")))?,
        Some(_) => return Err(malformed(DYNAMODB, "refused is not a number set")),
    };
    refused.sort_unstable();
    Ok(SessionRecord {
        id,
        timeout_ms: required_n(item, TIMEOUT_MS)?,
        reply_to: opt_s(item, REPLY_TO)?.unwrap_or_default().to_string(),
        last_seq: u64::try_from(last_seq)
            .map_err(|_| malformed(DYNAMODB, format!("lastSeq = {last_seq}")))?,
        ephemerals,
        refused,
        heartbeat_ms: opt_n(item, HEARTBEAT_MS)?.unwrap_or(0),
    })
}

/// One conditional `PutItem`.
pub(super) async fn create(
    store: &DynamoSystemStore,
    session: &SessionRecord,
) -> Result<bool, StoreError> {
    let result = store
        .client
        .put_item()
        .table_name(&store.sessions_table)
        .set_item(Some(to_item(session)))
        .condition_expression("attribute_not_exists(#session)")
        .expression_attribute_names("#session", SESSIONS_KEY)
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(PutItemError::ConditionalCheckFailedException(_))
            ) =>
        {
            Ok(false)
        }
        Err(err) => Err(errors::sdk(DYNAMODB, "PutItem", err)),
    }
}

/// One strongly consistent `GetItem`.
pub(super) async fn get(
    store: &DynamoSystemStore,
    id: SessionId,
) -> Result<Option<SessionRecord>, StoreError> {
    let out = store
        .client
        .get_item()
        .table_name(&store.sessions_table)
        .key(SESSIONS_KEY, s(id.to_string()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| errors::sdk(DYNAMODB, "GetItem", e))?;
    out.item().map(from_item).transpose()
}

/// One `DeleteItem`.
pub(super) async fn delete(store: &DynamoSystemStore, id: SessionId) -> Result<(), StoreError> {
    store
        .client
        .delete_item()
        .table_name(&store.sessions_table)
        .key(SESSIONS_KEY, s(id.to_string()))
        .send()
        .await
        .map_err(|e| errors::sdk(DYNAMODB, "DeleteItem", e))?;
    Ok(())
}

/// One conditional `UpdateItem` of the heartbeat time.
pub(super) async fn touch(
    store: &DynamoSystemStore,
    id: SessionId,
    now_ms: i64,
) -> Result<bool, StoreError> {
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    let result = store
        .client
        .update_item()
        .table_name(&store.sessions_table)
        .key(SESSIONS_KEY, s(id.to_string()))
        .update_expression("SET #hb = :now")
        .condition_expression("attribute_exists(#session)")
        .expression_attribute_names("#hb", HEARTBEAT_MS)
        .expression_attribute_names("#session", SESSIONS_KEY)
        .expression_attribute_values(":now", n(now_ms))
        .send()
        .await;
    match result {
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

/// A paginated `Scan` of the sessions table (strongly consistent).
pub(super) async fn all(store: &DynamoSystemStore) -> Result<Vec<SessionRecord>, StoreError> {
    let mut sessions = Vec::new();
    let mut start = None;
    loop {
        let out = store
            .client
            .scan()
            .table_name(&store.sessions_table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| errors::sdk(DYNAMODB, "Scan", e))?;
        for item in out.items() {
            sessions.push(from_item(item)?);
        }
        start = out.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    sessions.sort_by_key(|s| s.id);
    Ok(sessions)
}

fn refused_set(seqs: &[u64]) -> AttributeValue {
    AttributeValue::Ns(seqs.iter().map(u64::to_string).collect())
}

/// One conditional `UpdateItem` that adds `seq` to the refused set unless
/// the session decided it; on the rare refusal that finds the set long,
/// a second one drops the entries the commit condition already covers
/// (at or below `lastSeq`); a failed condition costs one `GetItem` to tell
/// a missing session from a decided seq.
pub(super) async fn record_refusal(
    store: &DynamoSystemStore,
    id: SessionId,
    seq: u64,
) -> Result<RefusalRecord, StoreError> {
    let key = s(id.to_string());
    let result = store
        .client
        .update_item()
        .table_name(&store.sessions_table)
        .key(SESSIONS_KEY, key.clone())
        .update_expression("ADD #refused :seqs")
        .condition_expression(
            "attribute_exists(#session) AND #lastSeq < :seq AND NOT contains(#refused, :seq)",
        )
        .expression_attribute_names("#refused", REFUSED)
        .expression_attribute_names("#session", SESSIONS_KEY)
        .expression_attribute_names("#lastSeq", LAST_SEQ)
        .expression_attribute_values(":seqs", refused_set(&[seq]))
        .expression_attribute_values(":seq", n(seq))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    let out = match result {
        Ok(out) => out,
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(UpdateItemError::ConditionalCheckFailedException(_))
            ) =>
        {
            return Ok(match get(store, id).await? {
                Some(_) => RefusalRecord::AlreadyDecided,
                None => RefusalRecord::SessionMissing,
            });
        }
        Err(err) => return Err(errors::sdk(DYNAMODB, "UpdateItem", err)),
    };
    let Some(record) = out.attributes().map(from_item).transpose()? else {
        return Ok(RefusalRecord::Recorded);
    };
    let covered: Vec<u64> = record
        .refused
        .iter()
        .copied()
        .filter(|s| *s <= record.last_seq)
        .collect();
    if record.refused.len() > REFUSED_KEPT && !covered.is_empty() {
        store
            .client
            .update_item()
            .table_name(&store.sessions_table)
            .key(SESSIONS_KEY, key)
            .update_expression("DELETE #refused :covered")
            .expression_attribute_names("#refused", REFUSED)
            .expression_attribute_values(":covered", refused_set(&covered))
            .send()
            .await
            .map_err(|e| errors::sdk(DYNAMODB, "UpdateItem", e))?;
    }
    Ok(RefusalRecord::Recorded)
}
