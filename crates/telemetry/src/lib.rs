//! OpenTelemetry for FaaSKeeper: one trace per operation, from the client
//! through the queues and functions to the watch delivery.
//!
//! # Layout
//!
//! - [`init`] / [`Telemetry`]: OTLP/HTTP (protobuf) export of `tracing`
//!   spans when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-only variant)
//!   is set, nothing at all when it is not.
//! - [`inject`] / [`extract`]: the W3C TraceContext propagator over a
//!   message's string attributes (`traceparent`, `tracestate`), so a
//!   consumer continues the producer's trace.
//!
//! Spans are ordinary `tracing` spans everywhere (the pure core knows
//! nothing of OpenTelemetry); the `tracing-opentelemetry` layer turns them
//! into OpenTelemetry spans. Fields named `otel.name`, `otel.kind` and
//! `otel.status_code` are understood by that layer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::Context;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::Layer;

/// The standard variable naming the collector's base URL; `/v1/traces` is
/// appended. Unset: tracing is off.
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The standard traces-only variable, used as is; wins over [`ENDPOINT_VAR`].
pub const TRACES_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/// The message attributes trace context travels in.
pub const TRACE_ATTRIBUTES: [&str; 2] = ["traceparent", "tracestate"];

/// Whether an exporter is installed in this process: when not, injecting
/// does nothing (not even look at the current span).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Tracing could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("OpenTelemetry exporter for {endpoint}: {reason}")]
pub struct TelemetryError {
    pub endpoint: String,
    pub reason: String,
}

/// The traces endpoint the environment names, if any: the traces-only
/// variable as is, or the base one with `/v1/traces`.
pub fn endpoint_from_env() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    var(TRACES_ENDPOINT_VAR).or_else(|| var(ENDPOINT_VAR).map(|base| traces_url(&base)))
}

/// `base` + `/v1/traces`, as the OTLP/HTTP specification builds it.
pub fn traces_url(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

/// A handle on the exporter, cheap to clone; every method is a no-op when
/// tracing is off.
#[derive(Clone, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("enabled", &self.provider.is_some())
            .finish()
    }
}

impl Telemetry {
    /// Off: no exporter, no layer.
    pub fn off() -> Self {
        Telemetry::default()
    }

    pub fn enabled(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports every finished span now and waits for the collector's
    /// answer (a function calls this before it is frozen).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            if let Err(e) = provider.force_flush() {
                eprintln!("OpenTelemetry flush failed: {e}");
            }
        }
    }

    /// Flushes and stops the exporter.
    pub fn shutdown(&self) {
        if let Some(provider) = &self.provider {
            let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
        }
    }

    /// The `tracing` layer that turns spans into OpenTelemetry spans: our
    /// own crates' spans at `info` and above (the AWS SDK's own spans
    /// stay out of the trace), `None` when off.
    pub fn layer<S>(&self) -> Option<impl Layer<S>>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let provider = self.provider.as_ref()?;
        let filter = Targets::new()
            .with_default(LevelFilter::OFF)
            .with_target("fk_", LevelFilter::INFO)
            .with_target("lambda_runtime", LevelFilter::INFO);
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("faaskeeper"))
                .with_filter(filter),
        )
    }
}

/// Sets up export for `service` (the `service.name` resource attribute) to
/// the endpoint the environment names; off when it names none.
pub fn init(service: &str) -> Result<Telemetry, TelemetryError> {
    init_with_endpoint(service, endpoint_from_env())
}

/// Sets up export for `service` to the full traces URL `endpoint`
/// (`http://host:4318/v1/traces`); off when `None`. Installs the W3C
/// TraceContext propagator globally.
pub fn init_with_endpoint(
    service: &str,
    endpoint: Option<String>,
) -> Result<Telemetry, TelemetryError> {
    let Some(endpoint) = endpoint else {
        return Ok(Telemetry::off());
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint.clone())
        .build()
        .map_err(|e| TelemetryError {
            endpoint: endpoint.clone(),
            reason: e.to_string(),
        })?;
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name(service.to_string())
                .build(),
        )
        .with_batch_exporter(exporter)
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    ENABLED.store(true, Ordering::SeqCst);
    Ok(Telemetry {
        provider: Some(provider),
    })
}

/// The current span's trace context as message attributes (`traceparent`
/// and, if any, `tracestate`); empty when tracing is off or no span is
/// being traced.
pub fn inject() -> Vec<(String, String)> {
    if !ENABLED.load(Ordering::Relaxed) {
        return Vec::new();
    }
    let context = tracing::Span::current().context();
    let mut carrier = Carrier::default();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.0.into_iter().collect()
}

/// The trace context carried by a message's string attributes
/// (`attribute(name)` returns the value of attribute `name`).
pub fn extract<'a>(attribute: impl Fn(&str) -> Option<&'a str>) -> Context {
    let mut carrier = Carrier::default();
    for name in TRACE_ATTRIBUTES {
        if let Some(value) = attribute(name) {
            carrier.0.insert(name.to_string(), value.to_string());
        }
    }
    TraceContextPropagator::new().extract(&carrier)
}

/// Makes `span` continue the trace a message carried: its parent becomes
/// the producer's span. Call it before the span is first entered. A
/// message without context leaves the span where it was.
pub fn continue_trace<'a>(span: &tracing::Span, attribute: impl Fn(&str) -> Option<&'a str>) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    use opentelemetry::trace::TraceContextExt as _;
    let context = extract(attribute);
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

/// A span's trace id as hex (for logs), if it is traced.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

#[derive(Default)]
struct Carrier(HashMap<String, String>);

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

impl Extractor for Carrier {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_url_appends_the_signal_path_once() {
        assert_eq!(
            traces_url("http://127.0.0.1:4318/"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318"),
            "http://collector:4318/v1/traces"
        );
    }

    #[test]
    fn a_traceparent_attribute_is_read_by_the_propagator() {
        use opentelemetry::trace::TraceContextExt as _;
        let context = extract(|name| {
            (name == "traceparent")
                .then_some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        });
        let span = context.span();
        let span_context = span.span_context();
        assert!(span_context.is_remote());
        assert_eq!(
            span_context.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(span_context.span_id().to_string(), "b7ad6b7169203331");
    }

    #[test]
    fn a_message_without_context_extracts_no_span() {
        use opentelemetry::trace::TraceContextExt as _;
        let context = extract(|_| None);
        assert!(!context.span().span_context().is_valid());
    }

    #[test]
    fn when_tracing_is_off_nothing_is_injected() {
        let _span = tracing::info_span!("untraced").entered();
        assert!(inject().is_empty());
    }
}
