//! The heartbeat function: wiring only. The logic is `fk_core::heartbeat`.

mod config;

use std::sync::Arc;

use fk_aws::calls::CallCounter;
use fk_aws::clients::{sdk_config, Clients};
use fk_aws::sqs::SqsWriteQueue;
use fk_aws::system::DynamoSystemStore;
use fk_core::heartbeat::Heartbeat;
use fk_core::SystemClock;
use lambda_runtime::layers::OpenTelemetryFaasTrigger;
use lambda_runtime::{service_fn, LambdaEvent, Runtime};

/// mimalloc: the allocator is on every request's path (SDK, HTTP, JSON);
/// see docs/BENCHMARKS.md, "CPU per write in the functions, SDK included".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: a function handles one invocation at a time, on a fraction
// of a vCPU at the usual memory sizes; worker threads would only add
// cross-thread wake-ups to every request (docs/BENCHMARKS.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let telemetry = fk_lambda::init("fk-heartbeat")?;
    let config = config::Config::from_source(&fk_lambda::config::ProcessEnv)?;
    let calls = CallCounter::new();
    let sdk = sdk_config(config.aws.endpoint.as_deref(), &config.aws.region).await;
    let clients = Clients::new(&sdk, &calls);
    let heartbeat = Heartbeat::new(
        Arc::new(DynamoSystemStore::new(
            clients.dynamodb.clone(),
            config.system_table.clone(),
            config.sessions_table.clone(),
        )),
        Arc::new(SqsWriteQueue::new(
            clients.sqs.clone(),
            config.writer_queue_url.clone(),
        )),
        Arc::new(SystemClock),
    );
    let heartbeat = &heartbeat;
    let calls = &calls;
    Runtime::new(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let report = heartbeat.run().await?;
            let used = calls.take();
            tracing::info!(
                sessions = report.sessions,
                expired = report.expired.len(),
                aws_calls = used.values().sum::<u64>(),
                calls = %serde_json::to_string(&used).unwrap_or_default(),
                "heartbeat"
            );
            Ok::<_, lambda_runtime::Error>(())
        },
    ))
    .layer(fk_lambda::otel_layer(
        &telemetry,
        OpenTelemetryFaasTrigger::Timer,
    ))
    .run()
    .await
}
