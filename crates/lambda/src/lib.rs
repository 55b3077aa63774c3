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
use tracing_subscriber::filter::{filter_fn, FilterExt as _};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer;

/// Logs as JSON lines to stdout, filtered by `RUST_LOG` (default `info`);
/// spans to the OTLP endpoint the environment names, as `service` (the
/// `service.name` resource attribute). Without an endpoint, tracing is off
/// and costs nothing.
pub fn init(service: &str) -> Result<Telemetry, TelemetryError> {
    let telemetry = fk_telemetry::init(service)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(log_layer(filter, std::io::stdout))
        .with(telemetry.layer())
        .init();
    Ok(telemetry)
}

/// The JSON log lines, to `writer`, of what `filter` lets through of
/// [`logged`].
fn log_layer<S, W>(filter: tracing_subscriber::EnvFilter, writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .with_writer(writer)
        .with_filter(filter.and(filter_fn(logged)))
}

/// What the log lines are made of: events, and the runtime's invocation
/// span (its `faas.invocation_id` is Lambda's request id, which each line
/// carries in its `spans`). Our own spans are for traces: the log layer
/// would format every one's fields as it opens, for lines that do not
/// print them. Without an OTLP endpoint no layer wants them, so they are
/// not made at all.
fn logged(meta: &tracing::Metadata<'_>) -> bool {
    meta.is_event() || meta.target().starts_with("lambda_runtime")
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

#[cfg(test)]
pub(crate) mod testing {
    use std::sync::{Arc, Mutex};

    /// A `MakeWriter` that keeps what a log layer writes.
    #[derive(Clone, Default)]
    pub struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Captured {
        /// Each line written, as JSON.
        pub fn lines(&self) -> Vec<serde_json::Value> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        }
    }

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Captured;
    use super::*;

    #[test]
    fn log_lines_carry_the_invocation_span_and_our_spans_are_not_made_for_them() {
        // Given the functions' log layer alone (no OTLP endpoint)
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(log_layer(
            tracing_subscriber::EnvFilter::new("info"),
            captured.clone(),
        ));
        tracing::subscriber::with_default(subscriber, || {
            // When an event is logged in our span, in the runtime's
            let invocation = tracing::info_span!(
                target: "lambda_runtime::layers::otel",
                "Lambda function invocation",
                faas.invocation_id = "req-1"
            );
            let _in_invocation = invocation.enter();
            let ours = tracing::info_span!("process", messaging.message.id = "m-1");
            ours.in_scope(|| tracing::info!(outcome = "ok", "handled"));

            // Then our span was never made, the runtime's was
            assert!(ours.is_disabled());
            assert!(!invocation.is_disabled());
        });

        // And the line names the invocation, not our span
        let lines = captured.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["fields"]["message"], "handled");
        let spans = lines[0]["spans"].as_array().unwrap();
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(spans[0]["faas.invocation_id"], "req-1");
    }
}
