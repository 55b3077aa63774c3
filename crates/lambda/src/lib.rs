//! What every FaaSKeeper function shares.
//!
//! # Layout
//!
//! - [`config`]: reading typed configuration from the environment Terraform
//!   sets; a missing variable fails at start-up and names itself.
//! - [`batch`]: the FIFO batch loop: records in order, unreadable ones to
//!   the dead-letter queue, the first backend failure fails the batch.
//! - [`init_logging`]: JSON logs, one line per handled message with the AWS
//!   calls it made (what CloudWatch Logs Insights queries read).

pub mod batch;
pub mod config;

/// Logs as JSON lines to stdout, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .init();
}
