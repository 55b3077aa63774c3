//! The watch function: reads the watch FIFO queue (one message per commit
//! that fired watches, in commit order) and sends each watching session
//! its events on the session's channel. See `fk_core::watch`.

use aws_lambda_events::event::sqs::SqsEvent;
use fk_aws::calls::CallCounter;
use fk_aws::clients::{sdk_config, Clients};
use fk_aws::env;
use fk_aws::sqs::SqsReplySink;
use fk_core::watch::{self, WatchBatch};
use fk_lambda::batch::{for_each_in_order, BatchContext};
use fk_lambda::config::{self, AwsConfig, ConfigError, Source};
use lambda_runtime::layers::OpenTelemetryFaasTrigger;
use lambda_runtime::{service_fn, LambdaEvent, Runtime};

/// mimalloc: the allocator is on every request's path (SDK, HTTP, JSON);
/// see docs/BENCHMARKS.md, "CPU per write in the functions, SDK included".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The watch function's configuration, read once at start-up.
struct Config {
    aws: AwsConfig,
    dead_letter_url: String,
}

impl Config {
    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Config {
            aws: AwsConfig::from_source(src)?,
            dead_letter_url: config::required(src, env::DEAD_LETTER_QUEUE_URL)?,
        })
    }
}

struct WatchFunction {
    sink: SqsReplySink,
    batch: BatchContext,
}

impl WatchFunction {
    async fn build(config: &Config) -> Self {
        let calls = CallCounter::new();
        let sdk = sdk_config(config.aws.endpoint.as_deref(), &config.aws.region).await;
        let clients = Clients::new(&sdk, &calls);
        WatchFunction {
            sink: SqsReplySink::new(clients.sqs.clone()),
            batch: BatchContext {
                sqs: clients.sqs,
                dead_letter_url: config.dead_letter_url.clone(),
                calls,
            },
        }
    }

    async fn handle(&self, event: SqsEvent) -> Result<(), lambda_runtime::Error> {
        for_each_in_order(&event, &self.batch, |batch: WatchBatch, _| async move {
            let delivered = watch::deliver(&self.sink, &batch).await?;
            Ok(format!(
                "zxid {}: {delivered} of {} sessions notified",
                batch.zxid,
                batch.deliveries.len()
            ))
        })
        .await?;
        Ok(())
    }
}

// One thread: a function handles one invocation at a time, on a fraction
// of a vCPU at the usual memory sizes; worker threads would only add
// cross-thread wake-ups to every request (docs/BENCHMARKS.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let telemetry = fk_lambda::init("fk-watch")?;
    let config = Config::from_source(&fk_lambda::config::ProcessEnv)?;
    let function = WatchFunction::build(&config).await;
    let function = &function;
    Runtime::new(service_fn(|event: LambdaEvent<SqsEvent>| {
        function.handle(event.payload)
    }))
    .layer(fk_lambda::otel_layer(
        &telemetry,
        OpenTelemetryFaasTrigger::PubSub,
    ))
    .run()
    .await
}
