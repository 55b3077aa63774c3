//! A tiny SQS-fed function for the runner's own tests.
//!
//! For each batch it appends one JSON line to the file named by
//! `FK_ECHO_RECORD`, if set: the pid, the function name, and each record's
//! body, `ApproximateReceiveCount`, group, message attributes and event
//! source. Then it looks at the bodies in order:
//! - `fail`: returns an error (the batch is retried);
//! - `crash`: exits the process without answering;
//! - `sleep:<ms>`: sleeps that long first (to hold a group in flight).
//!
//! Any other event (a scheduled one) is recorded as `{"pid", "event"}`,
//! then answered; the process's first one only after
//! `FK_ECHO_FIRST_SCHEDULED_SLEEP_MS`, if that is set.

use std::io::Write as _;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Without a record file it only answers (it stands in for real functions).
    let record_path = std::env::var("FK_ECHO_RECORD").unwrap_or_default();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let record_path = record_path.clone();
        async move { handle(&record_path, event).await }
    }))
    .await
}

async fn handle(record_path: &str, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let pid = std::process::id();
    let Ok(batch) = serde_json::from_value::<SqsEvent>(event.payload.clone()) else {
        append(
            record_path,
            &json!({"pid": pid, "at_ms": now_ms(), "event": event.payload}),
        )?;
        static SLEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if let Ok(ms) = std::env::var("FK_ECHO_FIRST_SCHEDULED_SLEEP_MS") {
            if !SLEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(ms.parse()?)).await;
            }
        }
        return Ok(json!({}));
    };
    if batch.records.is_empty() {
        append(
            record_path,
            &json!({"pid": pid, "at_ms": now_ms(), "event": event.payload}),
        )?;
        return Ok(json!({}));
    }
    let records: Vec<Value> = batch
        .records
        .iter()
        .map(|r| {
            json!({
                "body": r.body,
                "receive_count": r.attributes.get("ApproximateReceiveCount"),
                "group": r.attributes.get("MessageGroupId"),
                "attributes": r.attributes,
                "message_attributes": r.message_attributes,
                "event_source": r.event_source,
                "event_source_arn": r.event_source_arn,
                "aws_region": r.aws_region,
                "md5_of_body": r.md5_of_body,
                "message_id": r.message_id,
            })
        })
        .collect();
    append(
        record_path,
        &json!({
            "pid": pid,
            "at_ms": now_ms(),
            "function": std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
            "request_id": event.context.request_id,
            "records": records,
        }),
    )?;
    for r in &batch.records {
        match r.body.as_deref() {
            Some("fail") => return Err("asked to fail".into()),
            Some("crash") => std::process::exit(3),
            Some(b) if b.starts_with("sleep:") => {
                let ms: u64 = b["sleep:".len()..].parse()?;
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
            _ => {}
        }
    }
    Ok(json!({"processed": batch.records.len()}))
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// One line per call; `O_APPEND` keeps lines from concurrent processes whole.
fn append(path: &str, line: &Value) -> std::io::Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let mut text = line.to_string();
    text.push('\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}
