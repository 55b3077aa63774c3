//! The writer function: wiring only. See `handler` for what it does.

mod config;
mod handler;

use aws_lambda_events::event::sqs::SqsEvent;
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
    let telemetry = fk_lambda::init("fk-writer")?;
    let config = config::Config::from_source(&fk_lambda::config::ProcessEnv)?;
    let writer = handler::WriterFunction::build(&config).await;
    let writer = &writer;
    Runtime::new(service_fn(|event: LambdaEvent<SqsEvent>| {
        writer.handle(event)
    }))
    .layer(fk_lambda::otel_layer(
        &telemetry,
        OpenTelemetryFaasTrigger::PubSub,
    ))
    .run()
    .await
}
