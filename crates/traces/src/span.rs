//! One received span.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A span as the receiver keeps it: enough to rebuild a trace's tree and
/// time line, and the attributes to label it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Every attribute as text (an integer as its digits, …).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The type of each attribute that was not a string, so an export
    /// (OTLP-JSON) gives `zk.zxid` back as the integer a query compares.
    /// Files written before it was kept read back with every attribute a
    /// string.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attribute_types: BTreeMap<String, AttributeType>,
}

/// The OTLP type of an attribute that is not a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    Int,
    Double,
    Bool,
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
