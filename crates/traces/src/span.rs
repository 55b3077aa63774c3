//! One received span.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A span as the receiver keeps it: enough to rebuild a trace's tree and
/// time line, and the attributes to label it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanRecord {
    /// The `service.name` resource attribute (`fk-writer`, `fk-cli`, …).
    pub service: String,
    pub name: String,
    /// `client`, `server`, `producer`, `consumer` or `internal`.
    #[serde(default)]
    pub kind: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// Empty for a root span.
    #[serde(default)]
    pub parent_id: String,
    /// Unix time, nanoseconds.
    pub start_ns: u64,
    pub end_ns: u64,
    /// True when the span's status is an error.
    #[serde(default)]
    pub error: bool,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl SpanRecord {
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    pub fn is_root(&self) -> bool {
        self.parent_id.is_empty()
    }
}
