//! The spans of FaaSKeeper's traces, received and read back on one machine.
//!
//! No OpenTelemetry collector can be installed on a developer's machine
//! (or a CI runner) without a download, and a test wants spans as values.
//! This crate is the small part of a collector we need: an OTLP/HTTP
//! receiver, a file of received spans, and the waterfall a person reads.
//!
//! # Layout
//!
//! - [`span`]: [`SpanRecord`], one received span (service, ids, times,
//!   attributes and their types), as it is kept in memory and in the
//!   JSON-lines file.
//! - [`receiver`]: [`OtlpReceiver`], `POST /v1/traces` with an
//!   `ExportTraceServiceRequest` (protobuf, or OTLP-JSON) on a loopback
//!   port; keeps the spans and, if asked, appends them to a file.
//!   `fk-local up` runs one; the end-to-end tests run their own.
//! - [`store`]: that file: one span per line, appended as batches arrive,
//!   read back by `fk trace`.
//! - [`waterfall`](mod@waterfall): spans grouped into traces, the traces of writes picked
//!   out, and each one as a tree of spans with start offsets, durations,
//!   the waits in the queues and the write's stages; printed as a table.
//! - [`bars`]: the same tree drawn in the terminal, a bar per span on the
//!   trace's time line, fitted to a width (what `fk trace` prints).
//! - [`html`]: the same waterfalls as one self-contained page.
//! - [`otlp_json`]: spans back as an OTLP `ExportTraceServiceRequest` in
//!   its JSON mapping (`fk trace --otlp-json`), which Jaeger, Tempo and
//!   the OpenTelemetry Collector load.

pub mod bars;
#[cfg(test)]
mod fixtures;
pub mod html;
pub mod otlp_json;
pub mod receiver;
pub mod span;
pub mod store;
pub mod waterfall;

pub use receiver::OtlpReceiver;
pub use span::{AttributeType, SpanRecord};
pub use waterfall::{last, traces, waterfall, writes, Stage, Trace};
