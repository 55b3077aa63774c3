//! Shared by the runner's tests: moto from fk-testkit, an SQS client, the
//! echo function (`src/bin/fk-local-echo.rs`) and reading what it recorded.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::MessageAttributeValue;
use fk_local::queues::FifoQueue;
use fk_local::{FunctionSpec, RunnerConfig, ScheduleSpec};
use serde_json::Value;

pub const REGION: &str = "us-east-1";

pub async fn sqs() -> aws_sdk_sqs::Client {
    let sdk = fk_aws::clients::sdk_config(Some(&fk_testkit::moto().endpoint), REGION).await;
    aws_sdk_sqs::Client::new(&sdk)
}

/// A fresh FIFO queue (visibility timeout 2 s) and its DLQ.
pub async fn queue(sqs: &aws_sdk_sqs::Client, prefix: &str, max_receive_count: i32) -> FifoQueue {
    let name = fk_testkit::unique_name(prefix);
    fk_local::queues::fifo_with_dlq(sqs, &name, 2, max_receive_count)
        .await
        .unwrap()
}

pub async fn send(sqs: &aws_sdk_sqs::Client, queue_url: &str, group: &str, body: &str) {
    sqs.send_message()
        .queue_url(queue_url)
        .message_group_id(group)
        .message_deduplication_id(fk_testkit::unique_name("d"))
        .message_body(body)
        .message_attributes(
            "text",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(format!("text of {body}"))
                .build()
                .unwrap(),
        )
        .message_attributes(
            "bytes",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(vec![0u8, 1, 255]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// A scratch directory for one test: the echo record file and the logs.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(fk_testkit::unique_name(test));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    pub fn record_file(&self) -> PathBuf {
        self.dir.join("record.jsonl")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// The echo function's lines so far.
    pub fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(self.record_file())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Every body the function saw, in order, with its receive count.
    pub fn bodies(&self) -> Vec<(String, String)> {
        self.records()
            .iter()
            .flat_map(|line| line["records"].as_array().cloned().unwrap_or_default())
            .map(|r| {
                (
                    r["body"].as_str().unwrap_or_default().to_owned(),
                    r["receive_count"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// All function logs, for failure messages.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(self.log_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            all += &format!("--- {}\n", entry.path().display());
            all += &std::fs::read_to_string(entry.path()).unwrap_or_default();
        }
        all
    }

    /// Polls `check` until it holds, or fails the test after `within`.
    pub async fn eventually(&self, within: Duration, what: &str, check: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        while !check(self) {
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "not within {within:?}: {what}\nrecords: {:#?}\nlogs:\n{}",
                    self.records(),
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn echo_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fk-local-echo"))
}

pub fn echo_env(scratch: &Scratch) -> BTreeMap<String, String> {
    BTreeMap::from([(
        "FK_ECHO_RECORD".to_owned(),
        scratch.record_file().display().to_string(),
    )])
}

/// The echo function on `queue_url`.
pub fn echo_function(
    scratch: &Scratch,
    queue_url: &str,
    instances: usize,
    timeout: Duration,
) -> FunctionSpec {
    FunctionSpec {
        name: "echo".into(),
        binary: echo_binary(),
        queue_url: queue_url.into(),
        batch_size: 10,
        instances,
        env: echo_env(scratch),
        timeout,
    }
}

pub fn runner(
    scratch: &Scratch,
    functions: Vec<FunctionSpec>,
    schedules: Vec<ScheduleSpec>,
) -> RunnerConfig {
    RunnerConfig {
        endpoint: fk_testkit::moto().endpoint.clone(),
        region: REGION.into(),
        log_dir: scratch.log_dir(),
        functions,
        schedules,
    }
}

/// Messages visible or in flight in the queue.
pub async fn queue_depth(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> i64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    [
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|a| {
        attrs
            .get(a)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    })
    .sum()
}

/// Receives what is in `queue_url` now (the DLQ, in tests).
pub async fn drain(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<String> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    out.messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.body)
        .collect()
}

/// Whether process `pid` is alive.
pub fn alive(pid: u64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}
