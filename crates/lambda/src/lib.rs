//! What every FaaSKeeper function shares.
//!
//! # Layout
//!
//! - [`config`]: reading typed configuration from the environment Terraform
//!   sets; a missing variable fails at start-up and names itself.
//! - [`batch`]: the FIFO batch loop: records in order, unreadable ones to
//!   the dead-letter queue, the first backend failure fails the batch.
//! - [`init`]: JSON logs, one line per handled message with the AWS calls
//!   it made (what CloudWatch Logs Insights queries read), and OpenTelemetry
//!   export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! - [`otel_layer`]: the runtime layer that gives each invocation a span
//!   with `faas.*` attributes and flushes the exporter after it.

pub mod batch;
pub mod config;

use fk_telemetry::{Telemetry, TelemetryError};
use lambda_runtime::layers::{OpenTelemetryFaasTrigger, OpenTelemetryLayer};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// Logs as JSON lines to stdout, filtered by `RUST_LOG` (default `info`);
/// spans to the OTLP endpoint the environment names, as `service` (the
/// `service.name` resource attribute). Without an endpoint, tracing is off
/// and costs nothing.
pub fn init(service: &str) -> Result<Telemetry, TelemetryError> {
    let telemetry = fk_telemetry::init(service)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .with_filter(filter);
    tracing_subscriber::registry()
        .with(logs)
        .with(telemetry.layer())
        .init();
    Ok(telemetry)
}

/// The runtime layer for a function fed by `trigger`: one span per
/// invocation, and every span flushed before the runtime asks for the next
/// event, so none is lost when the sandbox is frozen.
pub fn otel_layer(
    telemetry: &Telemetry,
    trigger: OpenTelemetryFaasTrigger,
) -> OpenTelemetryLayer<impl Fn() + Clone> {
    let telemetry = telemetry.clone();
    OpenTelemetryLayer::new(move || telemetry.flush()).with_trigger(trigger)
}
