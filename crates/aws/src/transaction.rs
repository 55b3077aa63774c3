//! One `TransactWriteItems`, through the lean transport first when there
//! is one and again by the SDK, with the same client request token, when
//! that gets no answer it takes: the system store's commit and the
//! DynamoDB user store's batches.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};
use fk_core::StoreError;

use crate::errors::{self, DYNAMODB};
use crate::lean::{self, LeanClient};

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
    let body = serde_json::json!({
        "TransactItems": items.iter().map(item_json).collect::<Vec<_>>(),
        "ClientRequestToken": token,
    });
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

/// DynamoDB's JSON of one item of a transaction, as the SDK sends it.
pub(crate) fn item_json(item: &TransactWriteItem) -> serde_json::Value {
    use serde_json::{Map, Value};
    let mut part = Map::new();
    let mut put = |name: &str, value: Value| {
        part.insert(name.to_string(), value);
    };
    let text = |t: &str| Value::String(t.to_string());
    let names = |names: &HashMap<String, String>| {
        Value::Object(names.iter().map(|(k, v)| (k.clone(), text(v))).collect())
    };
    // The fields every kind has, and each kind's own.
    macro_rules! common {
        ($op:expr) => {{
            put("TableName", text($op.table_name()));
            if let Some(names_) = $op.expression_attribute_names() {
                put("ExpressionAttributeNames", names(names_));
            }
            if let Some(values) = $op.expression_attribute_values() {
                put("ExpressionAttributeValues", lean::item_json(values));
            }
            if let Some(returns) = $op.return_values_on_condition_check_failure() {
                put(
                    "ReturnValuesOnConditionCheckFailure",
                    text(returns.as_str()),
                );
            }
        }};
    }
    let (kind, condition) = if let Some(op) = item.update() {
        common!(op);
        put("Key", lean::item_json(op.key()));
        put("UpdateExpression", text(op.update_expression()));
        ("Update", op.condition_expression())
    } else if let Some(op) = item.delete() {
        common!(op);
        put("Key", lean::item_json(op.key()));
        ("Delete", op.condition_expression())
    } else if let Some(op) = item.put() {
        common!(op);
        put("Item", lean::item_json(op.item()));
        ("Put", op.condition_expression())
    } else if let Some(op) = item.condition_check() {
        common!(op);
        put("Key", lean::item_json(op.key()));
        ("ConditionCheck", Some(op.condition_expression()))
    } else {
        // No kind: DynamoDB refuses it, and the SDK's call then says why.
        return Value::Object(Map::new());
    };
    if let Some(condition) = condition {
        put("ConditionExpression", text(condition));
    }
    let mut object = Map::with_capacity(1);
    object.insert(kind.to_string(), Value::Object(part));
    Value::Object(object)
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
