//! The writer function: wiring only. See `handler` for what it does.

mod config;
mod handler;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fk_lambda::init_logging();
    let config = config::Config::from_source(&fk_lambda::config::ProcessEnv)?;
    let writer = handler::WriterFunction::build(&config).await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        writer.handle(event.payload)
    }))
    .await
}
