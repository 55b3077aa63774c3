//! User storage in a DynamoDB table: one item per node.
//!
//! Item: `path` (key), `data` (B, absent when empty), `stat` (M of the
//! eleven `Stat` numbers), `children` (SS, absent when empty).
//!
//! Calls per write: `Create` one PutItem; `SetData` and `Children` one
//! UpdateItem; `Delete` one DeleteItem. A read is one consistent GetItem.

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use fk_core::user::{ChildChange, UserNode, UserStore, UserWrite};
use fk_core::watch::InFlight;
use fk_core::StoreError;

use super::DYNAMODB_MAX_DATA;
use crate::attrs::{self, s, Item};
use crate::errors::{self, malformed, DYNAMODB};
use crate::schema::USER_KEY;

const DATA: &str = "data";
const STAT: &str = "stat";
const CHILDREN: &str = "children";
/// Notifications in flight (JSON), absent when none.
const IN_FLIGHT: &str = "inFlight";

/// User storage in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoUserStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoUserStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoUserStore {
            client,
            table: table.into(),
        }
    }

    /// One UpdateItem; `#data`, `#stat` and `#children` name the attributes.
    async fn update(
        &self,
        path: &str,
        expression: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<(), StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(USER_KEY, s(path))
            .update_expression(expression);
        for name in [DATA, STAT, CHILDREN, IN_FLIGHT] {
            // DynamoDB rejects names the expression does not use.
            if expression.contains(&format!("#{name}")) {
                request = request.expression_attribute_names(format!("#{name}"), name);
            }
        }
        for (label, value) in values {
            request = request.expression_attribute_values(label, value);
        }
        request
            .send()
            .await
            .map_err(|e| errors::sdk(DYNAMODB, "UpdateItem", e))?;
        Ok(())
    }
}

fn node_from(item: &Item) -> Result<UserNode, StoreError> {
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
    Ok(UserNode {
        data,
        stat: attrs::stat_from_map(item, STAT)?,
        children,
        in_flight,
    })
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
        out.item().map(node_from).transpose()
    }

    async fn apply(&self, write: &UserWrite) -> Result<(), StoreError> {
        tracing::Span::current().record("db.system", "dynamodb");
        match write {
            UserWrite::Create {
                path,
                data,
                stat,
                in_flight,
            } => {
                let mut item = Item::from([
                    (USER_KEY.to_string(), s(path)),
                    (STAT.to_string(), attrs::stat_map(stat)),
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
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(|e| errors::sdk(DYNAMODB, "PutItem", e))?;
                Ok(())
            }
            UserWrite::SetData {
                path,
                data,
                stat,
                in_flight,
            } => {
                let mut values = vec![(":stat", attrs::stat_map(stat))];
                let mut sets = vec!["#stat = :stat"];
                let mut removes = Vec::new();
                if data.is_empty() {
                    removes.push("#data");
                } else {
                    sets.push("#data = :data");
                    values.push((":data", AttributeValue::B(Blob::new(data.to_vec()))));
                }
                in_flight_update(in_flight, &mut sets, &mut removes, &mut values);
                self.update(path, &expression(&sets, &removes, ""), values)
                    .await
            }
            UserWrite::Children {
                path,
                stat,
                change,
                in_flight,
            } => {
                // A missing record (the root's first child) is created by
                // the update itself, with no data.
                let (verb, name) = match change {
                    ChildChange::Added(name) => ("ADD", name),
                    ChildChange::Removed(name) => ("DELETE", name),
                };
                let mut values = vec![
                    (":stat", attrs::stat_map(stat)),
                    (":child", AttributeValue::Ss(vec![name.clone()])),
                ];
                let mut sets = vec!["#stat = :stat"];
                let mut removes = Vec::new();
                in_flight_update(in_flight, &mut sets, &mut removes, &mut values);
                let child = format!(" {verb} #children :child");
                self.update(path, &expression(&sets, &removes, &child), values)
                    .await
            }
            UserWrite::Delete { path } => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key(USER_KEY, s(path))
                    .send()
                    .await
                    .map_err(|e| errors::sdk(DYNAMODB, "DeleteItem", e))?;
                Ok(())
            }
        }
    }

    fn max_data_len(&self) -> usize {
        DYNAMODB_MAX_DATA
    }
}
