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
//!   attributes), as it is kept in memory and in the JSON-lines file.
//! - [`receiver`]: [`OtlpReceiver`], `POST /v1/traces` with a protobuf
//!   `ExportTraceServiceRequest` on a loopback port; keeps the spans and,
//!   if asked, appends them to a file. `fk-local up` runs one; the
//!   end-to-end tests run their own.
//! - [`store`]: that file: one span per line, appended as batches arrive,
//!   read back by `fk trace`.
//! - [`bars`]: the waterfall drawn in the terminal, a bar per span on the
//!   trace's time line, fitted to a width (what `fk trace` prints).
//! - [`otlp_json`]: spans back as an OTLP `ExportTraceServiceRequest` in
//!   its JSON mapping (`fk trace --otlp-json`), for Jaeger, Tempo or a
//!   collector.
//! - [`waterfall`]: spans grouped into traces, the traces of writes picked
//!   out, and each one printed as a tree of spans with start offsets,
//!   durations, the waits in the queues and the write's stages.

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
