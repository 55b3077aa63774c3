//! Cold start and peak memory of each function binary: a fresh process
//! under a Runtime API (fk-local's), handed one real event, timed from
//! process start to the answer; peak RSS is the kernel's `VmHWM`.
//!
//! The events are a real write's: a client sends a `create` (with a watch
//! on the node), and each message is taken from its queue and handed to a
//! fresh process of the function that would receive it: writer, then
//! distributor, then watch. The heartbeat gets a scheduled event.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fk_core::CreateMode;
use fk_local::runtime_api::{Answer, RuntimeApi};
use fk_local::{StackConfig, StoreKind};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    pub function: String,
    /// Process start to the first event's answer, ms (median of the runs).
    pub first_event_ms: f64,
    /// The same minus the handler's own time for the event (from its
    /// `handled` log line): start-up until ready; `None` for the heartbeat,
    /// which logs no handler time.
    pub init_ms: Option<f64>,
    pub peak_rss_kb: u64,
    pub outcome: String,
}

const RUNS: usize = 3;

pub async fn measure(bin_dir: &Path, endpoint: &str) -> Vec<ColdStart> {
    let config = StackConfig {
        name: fk_testkit::unique_name("cold"),
        endpoint: endpoint.to_string(),
        region: "us-east-1".into(),
        store: StoreKind::S3,
        redis_url: None,
        redis_read_url: None,
        lock_ttl_ms: 10_000,
        visibility_timeout_s: 30,
        max_receive_count: 3,
    };
    let provisioned = fk_local::provision(&config).await.expect("provisioning");
    let sdk = fk_aws::clients::sdk_config(Some(endpoint), "us-east-1").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let mut samples: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
    for run in 0..RUNS {
        let zk = fk_client::Client::connect(&provisioned.deployment)
            .await
            .unwrap();
        let watcher = fk_client::Client::connect(&provisioned.deployment)
            .await
            .unwrap();
        let path = format!("/cold{run}");
        let _ = watcher.exists_and_watch(&path).await;
        let writing = {
            let zk = zk.clone();
            tokio::spawn(async move { zk.create(&path, b"1234", CreateMode::Persistent).await })
        };
        let hops = [
            (
                "fk-writer",
                provisioned.deployment.writer_queue_url.clone(),
                &provisioned.writer_env,
            ),
            (
                "fk-distributor",
                provisioned.distributor_queue_url.clone(),
                &provisioned.distributor_env,
            ),
            (
                "fk-watch",
                provisioned.watch_queue_url.clone(),
                &provisioned.watch_env,
            ),
        ];
        for (function, queue, env) in hops {
            let event = receive(&sqs, &queue).await;
            samples
                .entry(function)
                .or_default()
                .push(cold_invoke(bin_dir, function, env, event).await);
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), writing).await;
        let scheduled = serde_json::json!({
            "version": "0", "id": "bench", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000",
            "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
            "resources": [], "detail": {}
        });
        samples.entry("fk-heartbeat").or_default().push(
            cold_invoke(
                bin_dir,
                "fk-heartbeat",
                &provisioned.heartbeat_env,
                Bytes::from(scheduled.to_string()),
            )
            .await,
        );
        // No close: closing is a write, and no function runs here to
        // answer it; the sessions expire.
        drop((zk, watcher));
        eprint!(".");
    }
    samples
        .into_iter()
        .map(|(function, mut runs)| {
            runs.sort_by(|a, b| a.ms.total_cmp(&b.ms));
            let median = runs[runs.len() / 2].clone();
            ColdStart {
                function: function.to_string(),
                first_event_ms: median.ms,
                init_ms: median.handler_ms.map(|h| median.ms - h),
                peak_rss_kb: runs.iter().map(|r| r.rss_kb).max().unwrap_or(0),
                outcome: median.outcome,
            }
        })
        .collect()
}

/// The next message of `queue`, as Lambda's SQS event of one record.
async fn receive(sqs: &aws_sdk_sqs::Client, queue: &str) -> Bytes {
    for _ in 0..10 {
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(1)
            .wait_time_seconds(2)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        let messages = received.messages.unwrap_or_default();
        if !messages.is_empty() {
            for m in &messages {
                let _ = sqs
                    .delete_message()
                    .queue_url(queue)
                    .set_receipt_handle(m.receipt_handle.clone())
                    .send()
                    .await;
            }
            let event = fk_local::sqs_event::event(&messages, &arn(queue), "us-east-1");
            return Bytes::from(serde_json::to_vec(&event).unwrap());
        }
    }
    panic!("no message arrived on {queue}");
}

fn arn(queue_url: &str) -> String {
    let name = queue_url.rsplit('/').next().unwrap_or_default();
    format!("arn:aws:sqs:us-east-1:000000000000:{name}")
}

#[derive(Debug, Clone)]
struct Sample {
    /// Process start to the answer.
    ms: f64,
    /// The handler's own time for the event, from its log.
    handler_ms: Option<f64>,
    rss_kb: u64,
    outcome: String,
}

/// Starts `function` fresh and hands it `event`.
async fn cold_invoke(
    bin_dir: &Path,
    function: &str,
    env: &BTreeMap<String, String>,
    event: Bytes,
) -> Sample {
    let log = tempfile::NamedTempFile::new().unwrap();
    let api = RuntimeApi::start(format!(
        "arn:aws:lambda:us-east-1:000000000000:function:{function}"
    ))
    .await
    .unwrap();
    let mut command = tokio::process::Command::new(bin_dir.join(function));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .envs(env)
        .stdin(Stdio::null())
        .stdout(log.reopen().unwrap())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let pending = api.invoke(event, Duration::from_secs(30)).await;
    let start = Instant::now();
    let mut child = command.spawn().expect("the function binary starts");
    let answer = tokio::time::timeout(Duration::from_secs(30), pending.answer).await;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let rss = child.id().map(peak_rss_kb).unwrap_or(0);
    let _ = child.kill().await;
    let outcome = match answer {
        Ok(Ok(Answer::Response(_))) => "ok".to_string(),
        Ok(Ok(Answer::Error(body))) => format!("error: {}", String::from_utf8_lossy(&body)),
        _ => "no answer".to_string(),
    };
    let handler_ms: Vec<f64> = std::fs::read_to_string(log.path())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "handled")
        .filter_map(|v| v["fields"]["duration_ms"].as_f64())
        .collect();
    Sample {
        ms,
        handler_ms: (!handler_ms.is_empty()).then(|| handler_ms.iter().sum()),
        rss_kb: rss,
        outcome,
    }
}

/// `VmHWM` of a live process: its peak resident set, KB.
fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}
