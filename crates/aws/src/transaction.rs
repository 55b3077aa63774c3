//! One `TransactWriteItems`, through the lean transport first when there
//! is one and again by the SDK, with the same client request token, when
//! that gets no answer it takes: the system store's commit and the
//! DynamoDB user store's batches.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use fk_core::StoreError;
use serde::ser::{Serialize, SerializeMap as _, Serializer};

use crate::errors::{self, DYNAMODB};
use crate::lean::{self, ItemJson, LeanClient};

/// Sends one `TransactWriteItems`: `None` when it committed, DynamoDB's
/// reasons, one per item, when it cancelled it.
///
/// Through `lean` first when there is one; the SDK sends
/// the same transaction when that gets no answer it takes. Both carry one
/// client request token, so a transaction the lean call committed but
/// whose answer was lost is answered as committed by DynamoDB (a token it
/// has seen within ten minutes is not run again), exactly as the SDK's own
/// retries of one call are.
pub(crate) async fn write(
    client: &aws_sdk_dynamodb::Client,
    lean: Option<&LeanClient>,
    items: Vec<TransactWriteItem>,
) -> Result<Option<Vec<CancellationReason>>, StoreError> {
    let token = request_token(fastrand::u128(..));
    if let Some(lean) = lean {
        if let Some(answer) = lean_write(lean, &items, &token).await {
            return Ok(answer);
        }
    }
    let result = client
        .transact_write_items()
        .set_transact_items(Some(items))
        .client_request_token(token)
        .send()
        .await;
    match result {
        Ok(_) => Ok(None),
        Err(err) => match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                Ok(Some(cancelled.cancellation_reasons().to_vec()))
            }
            _ => Err(errors::sdk(DYNAMODB, "TransactWriteItems", err)),
        },
    }
}

/// A client request token: `bits` as a version 4 UUID (36 characters, the
/// form the SDK generates).
fn request_token(bits: u128) -> String {
    let bits = (bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// [`write`] through the lean transport: `None` when it gave no
/// answer this takes (a success, or a cancellation with its reasons), and
/// the SDK sends it instead.
async fn lean_write(
    lean: &LeanClient,
    items: &[TransactWriteItem],
    token: &str,
) -> Option<Option<Vec<CancellationReason>>> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request<'a> {
        transact_items: Vec<TransactItemJson<'a>>,
        client_request_token: &'a str,
    }
    let body = Request {
        transact_items: items.iter().map(TransactItemJson).collect(),
        client_request_token: token,
    };
    let answer = match lean.call("TransactWriteItems", &body).await {
        Ok(answer) => answer,
        Err(why) => {
            lean.fell_back("TransactWriteItems", &why);
            return None;
        }
    };
    if answer.status == 200 {
        return Some(None);
    }
    if answer.error_code() == Some("TransactionCanceledException") {
        if let Some(reasons) = cancellation_reasons(&answer.body) {
            return Some(Some(reasons));
        }
    }
    lean.fell_back("TransactWriteItems", &answer.describe());
    None
}

/// The `CancellationReasons` of a cancelled transaction's JSON, if they
/// read.
fn cancellation_reasons(body: &serde_json::Value) -> Option<Vec<CancellationReason>> {
    let text = |reason: &serde_json::Value, name: &str| {
        reason
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    body.get("CancellationReasons")?
        .as_array()?
        .iter()
        .map(|reason| {
            let item = match reason.get("Item") {
                Some(item) => Some(lean::item_from_json(item).ok()?),
                None => None,
            };
            Some(
                CancellationReason::builder()
                    .set_code(text(reason, "Code"))
                    .set_message(text(reason, "Message"))
                    .set_item(item)
                    .build(),
            )
        })
        .collect()
}

/// DynamoDB's JSON of one item of a transaction, as the SDK sends it,
/// written straight into the request body.
pub(crate) struct TransactItemJson<'a>(pub &'a TransactWriteItem);

impl<'a> TransactItemJson<'a> {
    /// The item's kind (`Put`, `Update`, `Delete`, `ConditionCheck`) and
    /// its fields, which are also the body of the one-item call of that
    /// kind (`PutItem`, …); `None` for an item without a kind, which
    /// DynamoDB refuses (the SDK's call then says why).
    pub(crate) fn part(&self) -> Option<(&'static str, Part<'a>)> {
        // The fields every kind has, and each kind's own.
        macro_rules! part {
            ($op:expr, $key:expr, $item:expr, $update:expr, $condition:expr) => {
                Part {
                    table: $op.table_name(),
                    names: $op.expression_attribute_names(),
                    values: $op.expression_attribute_values(),
                    returns: $op.return_values_on_condition_check_failure(),
                    key: $key,
                    item: $item,
                    update: $update,
                    condition: $condition,
                }
            };
        }
        let item = self.0;
        if let Some(op) = item.update() {
            let update = Some(op.update_expression());
            Some((
                "Update",
                part!(op, Some(op.key()), None, update, op.condition_expression()),
            ))
        } else if let Some(op) = item.delete() {
            Some((
                "Delete",
                part!(op, Some(op.key()), None, None, op.condition_expression()),
            ))
        } else if let Some(op) = item.put() {
            Some((
                "Put",
                part!(op, None, Some(op.item()), None, op.condition_expression()),
            ))
        } else {
            item.condition_check().map(|op| {
                let condition = Some(op.condition_expression());
                (
                    "ConditionCheck",
                    part!(op, Some(op.key()), None, None, condition),
                )
            })
        }
    }
}

impl Serialize for TransactItemJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let part = self.part();
        let mut map = serializer.serialize_map(Some(usize::from(part.is_some())))?;
        if let Some((kind, part)) = &part {
            map.serialize_entry(kind, part)?;
        }
        map.end()
    }
}

/// The fields of one transaction item (see [`TransactItemJson::part`]).
pub(crate) struct Part<'a> {
    table: &'a str,
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, AttributeValue>>,
    returns: Option<&'a ReturnValuesOnConditionCheckFailure>,
    key: Option<&'a HashMap<String, AttributeValue>>,
    item: Option<&'a HashMap<String, AttributeValue>>,
    update: Option<&'a str>,
    condition: Option<&'a str>,
}

impl Serialize for Part<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("TableName", self.table)?;
        if let Some(names) = self.names {
            map.serialize_entry("ExpressionAttributeNames", names)?;
        }
        if let Some(values) = self.values {
            map.serialize_entry("ExpressionAttributeValues", &ItemJson(values))?;
        }
        if let Some(returns) = self.returns {
            map.serialize_entry("ReturnValuesOnConditionCheckFailure", returns.as_str())?;
        }
        if let Some(key) = self.key {
            map.serialize_entry("Key", &ItemJson(key))?;
        }
        if let Some(item) = self.item {
            map.serialize_entry("Item", &ItemJson(item))?;
        }
        if let Some(update) = self.update {
            map.serialize_entry("UpdateExpression", update)?;
        }
        if let Some(condition) = self.condition {
            map.serialize_entry("ConditionExpression", condition)?;
        }
        map.end()
    }
}

/// [`TransactItemJson`] as a `Value`.
#[cfg(test)]
pub(crate) fn item_json(item: &TransactWriteItem) -> serde_json::Value {
    // Cannot fail: every map key is a string.
    serde_json::to_value(TransactItemJson(item)).unwrap_or_default()
}

/// A cancellation without a failed condition: a conflict with another
/// transaction, throttling (retryable) or a validation error.
pub(crate) fn cancelled(reasons: &[CancellationReason]) -> StoreError {
    let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
    let codes: Vec<&str> = (0..reasons.len()).map(code).collect();
    let retryable = codes.iter().all(|c| {
        matches!(
            *c,
            "None" | "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"
        )
    });
    StoreError {
        backend: DYNAMODB,
        message: format!("TransactWriteItems cancelled: {codes:?}"),
        retryable,
        kind: if retryable {
            fk_core::FailureKind::Throttled
        } else {
            fk_core::FailureKind::Other
        },
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;

    #[test]
    fn a_request_token_is_a_version_4_uuid_of_its_bits() {
        for bits in [0, u128::MAX, 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef] {
            let token = request_token(bits);
            assert_eq!(token.len(), 36, "{token}");
            let dashes: Vec<usize> = token.match_indices('-').map(|(i, _)| i).collect();
            assert_eq!(dashes, [8, 13, 18, 23], "{token}");
            assert_eq!(&token[14..15], "4", "{token}");
            assert!("89ab".contains(&token[19..20]), "{token}");
        }
        assert_ne!(request_token(1), request_token(2));
        assert_eq!(
            request_token(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            "01234567-89ab-4def-8123-456789abcdef"
        );
    }

    #[test]
    fn cancellation_reasons_read_from_json_with_their_items() {
        let body = serde_json::json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "CancellationReasons": [
                {"Code": "None"},
                {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
                 "Item": {"path": {"S": "#counter"}, "zxid": {"N": "9"}}},
            ],
        });
        let reasons = cancellation_reasons(&body).unwrap();
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[0].code(), Some("None"));
        assert_eq!(reasons[1].code(), Some("ConditionalCheckFailed"));
        assert_eq!(
            reasons[1].item().unwrap()["zxid"],
            AttributeValue::N("9".into())
        );
        assert!(cancellation_reasons(&serde_json::json!({"Message": "x"})).is_none());
        let bad_item =
            serde_json::json!({"CancellationReasons": [{"Code": "x", "Item": {"a": 1}}]});
        assert!(cancellation_reasons(&bad_item).is_none());
    }
}
