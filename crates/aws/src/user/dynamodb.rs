//! User storage in a DynamoDB table: one item per node.
//!
//! Item: `path` (key), `data` (B, absent when empty), `stat` (M of the
//! eleven `Stat` numbers), `children` (SS, absent when empty), `zxid` (N,
//! the commit that last wrote the item). A deleted node is a tombstone:
//! `path`, `zxid`, `tombstone` (BOOL) and `expiresAt` (N, epoch seconds, the
//! table's TTL attribute), which reads as no node.
//!
//! Every write is conditional on the stored `zxid` being at most its own
//! (`attribute_not_exists(zxid) OR zxid <= :zxid`), so that what readers
//! see never goes back, whatever replays or late writers do; a failed
//! condition means the write was superseded and is not an error.
//!
//! Calls per write: `Create`, `Delete` and `SetData` on a node without
//! children one PutItem; `SetData` on a node with children and `Children`
//! one UpdateItem; a batch one TransactWriteItems per chunk. A read is one
//! consistent GetItem. Writes go through the lean transport
//! ([`crate::lean`]) when the store has one, and again through the SDK,
//! the identical request, when that gets no answer it takes.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use bytes::Bytes;
use fk_core::user::{ChildChange, CommitWrites, UserNode, UserStore, UserWrite};
use fk_core::watch::InFlight;
use fk_core::StoreError;

use super::DYNAMODB_MAX_DATA;
use fk_core::Stat;

use crate::attrs::{self, n, s, Item};
use crate::errors::{self, malformed, DYNAMODB};
use crate::lean::LeanClient;
use crate::schema::USER_KEY;
use crate::transaction;

const DATA: &str = "data";
const STAT: &str = "stat";
const CHILDREN: &str = "children";
const ZXID: &str = "zxid";
const TOMBSTONE: &str = "tombstone";
/// The table's TTL attribute: when DynamoDB may delete a tombstone.
pub const EXPIRES_AT: &str = crate::schema::USER_EXPIRES_AT;
/// How long a tombstone is kept: far longer than any function runs, so no
/// replay or late writer of an older commit outlives it.
pub const TOMBSTONE_LIFETIME_S: i64 = 24 * 3600;
/// The condition of every write.
const NOT_NEWER: &str = "attribute_not_exists(#zxid) OR #zxid <= :zxid";
/// Notifications in flight (JSON), absent when none.
const IN_FLIGHT: &str = "inFlight";

/// User storage in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoUserStore {
    client: aws_sdk_dynamodb::Client,
    lean: Option<LeanClient>,
    table: String,
}

impl DynamoUserStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoUserStore {
            client,
            lean: None,
            table: table.into(),
        }
    }

    /// Writes through `lean` first (the SDK's client still makes the
    /// reads, and the writes when `lean` gives no answer it takes).
    pub fn with_lean(mut self, lean: Option<LeanClient>) -> Self {
        self.lean = lean;
        self
    }

    /// A superseded child change settles its name by the child's own
    /// record (UserStore::apply): one GetItem and one UpdateItem, on this
    /// rare path only (commits applied out of order).
    async fn settle_child(&self, parent: &str, name: &str) -> Result<(), StoreError> {
        let child = fk_core::path::join(parent, name);
        let exists = self.get(&child).await?.is_some();
        let verb = if exists { "ADD" } else { "DELETE" };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(USER_KEY, s(parent))
            .update_expression(format!("{verb} #children :child"))
            .condition_expression("attribute_exists(#zxid) AND attribute_not_exists(#tombstone)")
            .expression_attribute_names("#children", CHILDREN)
            .expression_attribute_names("#zxid", ZXID)
            .expression_attribute_names("#tombstone", TOMBSTONE)
            .expression_attribute_values(":child", AttributeValue::Ss(vec![name.to_string()]))
            .send()
            .await;
        // A failed condition: the parent is gone or a tombstone.
        errors::applied("UpdateItem", result).map(|_| ())
    }

    /// One write as an item of a transaction, with the same condition.
    fn transact_item(&self, zxid: i64, write: &UserWrite) -> Result<TransactWriteItem, BuildError> {
        match action(zxid, write) {
            Action::Put(item) => Ok(TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression(NOT_NEWER)
                        .expression_attribute_names("#zxid", ZXID)
                        .expression_attribute_values(":zxid", n(zxid))
                        .build()?,
                )
                .build()),
            Action::Update {
                path,
                expression,
                values,
            } => {
                let mut update = Update::builder()
                    .table_name(&self.table)
                    .key(USER_KEY, s(path))
                    .condition_expression(NOT_NEWER)
                    .expression_attribute_values(":zxid", n(zxid));
                for name in [DATA, STAT, CHILDREN, IN_FLIGHT, ZXID, TOMBSTONE] {
                    if expression.contains(&format!("#{name}")) || name == ZXID {
                        update = update.expression_attribute_names(format!("#{name}"), name);
                    }
                }
                for (label, value) in values {
                    update = update.expression_attribute_values(label, value);
                }
                Ok(TransactWriteItem::builder()
                    .update(update.update_expression(expression).build()?)
                    .build())
            }
        }
    }

    /// One write on its own, as the PutItem or UpdateItem of its
    /// transaction item (the same condition): whether it applied.
    /// Through the lean transport first when the store has it; the SDK
    /// makes the same call when that gets no answer it takes (a second
    /// write of the same zxid applies the same change again).
    async fn write_one(&self, zxid: i64, write: &UserWrite) -> Result<bool, StoreError> {
        let item = self
            .transact_item(zxid, write)
            .map_err(|e| StoreError::permanent(DYNAMODB, format!("building a write: {e}")))?;
        if let Some(lean) = &self.lean {
            if let Some(applied) = lean_write_one(lean, &item).await {
                return Ok(applied);
            }
        }
        if let Some(put) = item.put {
            let result = self
                .client
                .put_item()
                .table_name(put.table_name)
                .set_item(Some(put.item))
                .set_condition_expression(put.condition_expression)
                .set_expression_attribute_names(put.expression_attribute_names)
                .set_expression_attribute_values(put.expression_attribute_values)
                .send()
                .await;
            // A failed condition: a later commit wrote the item.
            return errors::applied("PutItem", result);
        }
        let Some(update) = item.update else {
            return Err(StoreError::permanent(
                DYNAMODB,
                "a write is a put or an update",
            ));
        };
        let result = self
            .client
            .update_item()
            .table_name(update.table_name)
            .set_key(Some(update.key))
            .update_expression(update.update_expression)
            .set_condition_expression(update.condition_expression)
            .set_expression_attribute_names(update.expression_attribute_names)
            .set_expression_attribute_values(update.expression_attribute_values)
            .send()
            .await;
        errors::applied("UpdateItem", result)
    }
}

/// [`DynamoUserStore::write_one`] through the lean transport: `None` when
/// it gave no answer this takes (a success, or a failed condition).
async fn lean_write_one(lean: &LeanClient, item: &TransactWriteItem) -> Option<bool> {
    // A transaction item's fields are the body of its one-item call.
    let (operation, body) = match transaction::TransactItemJson(item).part()? {
        ("Put", body) => ("PutItem", body),
        ("Update", body) => ("UpdateItem", body),
        _ => return None,
    };
    let answer = match lean.call(operation, &body).await {
        Ok(answer) => answer,
        Err(why) => {
            lean.fell_back(operation, &why);
            return None;
        }
    };
    match (answer.status, answer.error_code()) {
        (200, _) => Some(true),
        (_, Some("ConditionalCheckFailedException")) => Some(false),
        _ => {
            lean.fell_back(operation, &answer.describe());
            None
        }
    }
}

/// What one write does to its item.
enum Action<'a> {
    /// Replace the whole item.
    Put(Item),
    /// Update the item at `path`.
    Update {
        path: &'a str,
        expression: String,
        values: Vec<(&'static str, AttributeValue)>,
    },
}

fn action(zxid: i64, write: &UserWrite) -> Action<'_> {
    match write {
        UserWrite::Create {
            path,
            data,
            stat,
            in_flight,
        } => Action::Put(childless_item(path, zxid, data, stat, in_flight)),
        // Nothing of the old item is kept: one PutItem, which also never
        // counts the old data against the item size as an update would.
        UserWrite::SetData {
            path,
            data,
            stat,
            in_flight,
        } if stat.num_children == 0 => {
            Action::Put(childless_item(path, zxid, data, stat, in_flight))
        }
        UserWrite::SetData {
            path,
            data,
            stat,
            in_flight,
        } => {
            let mut values = vec![(":stat", attrs::stat_map(stat))];
            let mut sets = vec!["#stat = :stat", "#zxid = :zxid"];
            let mut removes = Vec::new();
            if data.is_empty() {
                removes.push("#data");
            } else {
                sets.push("#data = :data");
                values.push((":data", AttributeValue::B(Blob::new(data.to_vec()))));
            }
            in_flight_update(in_flight, &mut sets, &mut removes, &mut values);
            Action::Update {
                path,
                expression: expression(&sets, &removes, ""),
                values,
            }
        }
        UserWrite::Children {
            path,
            stat,
            change,
            in_flight,
        } => {
            // A missing record (the root's first child) is created by the
            // update itself, with no data.
            let (verb, name) = match change {
                ChildChange::Added(name) => ("ADD", name),
                ChildChange::Removed(name) => ("DELETE", name),
            };
            let mut values = vec![
                (":stat", attrs::stat_map(stat)),
                (":child", AttributeValue::Ss(vec![name.clone()])),
            ];
            let mut sets = vec!["#stat = :stat", "#zxid = :zxid"];
            let mut removes = Vec::new();
            in_flight_update(in_flight, &mut sets, &mut removes, &mut values);
            let child = format!(" {verb} #children :child");
            Action::Update {
                path,
                expression: expression(&sets, &removes, &child),
                values,
            }
        }
        UserWrite::Delete { path } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            Action::Put(Item::from([
                (USER_KEY.to_string(), s(path)),
                (ZXID.to_string(), n(zxid)),
                (TOMBSTONE.to_string(), AttributeValue::Bool(true)),
                (EXPIRES_AT.to_string(), n(now + TOMBSTONE_LIFETIME_S)),
            ]))
        }
    }
}

/// DynamoDB's limits on one transaction: 100 items and 4 MB in all.
const MAX_TRANSACTION_ITEMS: usize = 100;
const MAX_TRANSACTION_BYTES: usize = 4_000_000;

/// The batch in transactions: in order, each within DynamoDB's limits and
/// touching an item once (a multi that writes a parent twice, or a second
/// chunk, starts a new one). A set of a node that a later set of it in the
/// same transaction overwrites is left out
/// ([`CommitWrites::atomic_run`]): a reader sees the transaction whole.
pub fn chunks<'a>(writes: &[(i64, &'a UserWrite)]) -> Vec<Vec<(i64, &'a UserWrite)>> {
    // Data plus generous room for the key, Stat and names.
    fn size(write: &UserWrite) -> usize {
        match write {
            UserWrite::Create { data, path, .. } | UserWrite::SetData { data, path, .. } => {
                data.len() + path.len() + 1_024
            }
            other => other.path().len() + 1_024,
        }
    }
    let mut chunks: Vec<Vec<(i64, &UserWrite)>> = Vec::new();
    let mut current: Vec<(i64, &UserWrite)> = Vec::new();
    let mut bytes = 0;
    let mut paths = std::collections::HashSet::new();
    for &(zxid, write) in writes {
        if paths.contains(write.path()) {
            let earlier = current.iter().position(|(_, w)| w.path() == write.path());
            if let Some(i) = earlier.filter(|&i| current[i].1.overwritten_by(write)) {
                bytes -= size(current.remove(i).1);
                paths.remove(write.path());
            }
        }
        let full = current.len() == MAX_TRANSACTION_ITEMS
            || bytes + size(write) > MAX_TRANSACTION_BYTES
            || paths.contains(write.path());
        if full && !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
            paths.clear();
            bytes = 0;
        }
        bytes += size(write);
        paths.insert(write.path());
        current.push((zxid, write));
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// The item of a node without children.
fn childless_item(path: &str, zxid: i64, data: &Bytes, stat: &Stat, in_flight: &InFlight) -> Item {
    let mut item = Item::from([
        (USER_KEY.to_string(), s(path)),
        (STAT.to_string(), attrs::stat_map(stat)),
        (ZXID.to_string(), n(zxid)),
    ]);
    if !in_flight.is_empty() {
        item.insert(IN_FLIGHT.to_string(), s(in_flight_json(in_flight)));
    }
    if !data.is_empty() {
        item.insert(
            DATA.to_string(),
            AttributeValue::B(Blob::new(data.to_vec())),
        );
    }
    item
}

fn node_from(item: &Item) -> Result<Option<UserNode>, StoreError> {
    if matches!(item.get(TOMBSTONE), Some(AttributeValue::Bool(true))) {
        return Ok(None);
    }
    let data = match item.get(DATA) {
        None => Bytes::new(),
        Some(AttributeValue::B(blob)) => Bytes::copy_from_slice(blob.as_ref()),
        Some(_) => return Err(malformed(DYNAMODB, "data is not binary")),
    };
    let mut children = attrs::string_set(item, CHILDREN)?;
    children.sort();
    let in_flight = match attrs::opt_s(item, IN_FLIGHT)? {
        None => InFlight::default(),
        Some(json) => {
            serde_json::from_str(json).map_err(|e| malformed(DYNAMODB, format!("inFlight: {e}")))?
        }
    };
    Ok(Some(UserNode {
        data,
        stat: attrs::stat_from_map(item, STAT)?,
        children,
        in_flight,
    }))
}

fn in_flight_json(in_flight: &InFlight) -> String {
    serde_json::to_string(in_flight).expect("a map serialises")
}

/// Sets the record's in-flight notifications, or removes them when none.
fn in_flight_update(
    in_flight: &InFlight,
    sets: &mut Vec<&str>,
    removes: &mut Vec<&str>,
    values: &mut Vec<(&str, AttributeValue)>,
) {
    if in_flight.is_empty() {
        removes.push("#inFlight");
    } else {
        sets.push("#inFlight = :inFlight");
        values.push((":inFlight", s(in_flight_json(in_flight))));
    }
}

/// `SET …` and `REMOVE …` clauses, then `rest`.
fn expression(sets: &[&str], removes: &[&str], rest: &str) -> String {
    let mut text = format!("SET {}", sets.join(", "));
    if !removes.is_empty() {
        text += &format!(" REMOVE {}", removes.join(", "));
    }
    text + rest
}

#[async_trait]
impl UserStore for DynamoUserStore {
    async fn get(&self, path: &str) -> Result<Option<UserNode>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(USER_KEY, s(path))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| errors::sdk(DYNAMODB, "GetItem", e))?;
        Ok(out.item().map(node_from).transpose()?.flatten())
    }

    async fn apply(&self, zxid: i64, write: &UserWrite) -> Result<(), StoreError> {
        tracing::Span::current().record("db.system", "dynamodb");
        let applied = self.write_one(zxid, write).await?;
        if let (false, UserWrite::Children { path, change, .. }) = (applied, write) {
            self.settle_child(path, change.name()).await?;
        }
        Ok(())
    }

    /// One `TransactWriteItems` per up to 100 writes (and 4 MB), in order:
    /// a reader sees a chunk whole or not at all, and the chunks one after
    /// another. A chunk with a superseded write (a replay: its condition
    /// fails, which cancels the transaction) is applied again one write
    /// at a time, where a superseded write is skipped or settled.
    async fn apply_batch(&self, commits: &[CommitWrites<'_>]) -> Result<(), StoreError> {
        tracing::Span::current().record("db.system", "dynamodb");
        let writes = CommitWrites::flatten(commits);
        for chunk in chunks(&writes) {
            if chunk.len() == 1 {
                let (zxid, write) = chunk[0];
                self.apply(zxid, write).await?;
                continue;
            }
            let items = chunk
                .iter()
                .map(|(zxid, write)| self.transact_item(*zxid, write))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::permanent(DYNAMODB, format!("building a batch: {e}")))?;
            let Some(reasons) = transaction::write(&self.client, self.lean.as_ref(), items).await?
            else {
                continue;
            };
            let superseded = reasons
                .iter()
                .any(|r| r.code() == Some("ConditionalCheckFailed"));
            if !superseded {
                return Err(transaction::cancelled(&reasons));
            }
            for &(zxid, write) in &chunk {
                self.apply(zxid, write).await?;
            }
        }
        Ok(())
    }

    fn max_data_len(&self) -> usize {
        DYNAMODB_MAX_DATA
    }
}
