//! Spans for the tests: a write as the functions trace it.

use std::collections::BTreeMap;

use crate::SpanRecord;

pub const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

pub fn span(
    service: &str,
    name: &str,
    kind: &str,
    id: &str,
    parent: &str,
    start_ms: u64,
    end_ms: u64,
) -> SpanRecord {
    SpanRecord {
        service: service.into(),
        name: name.into(),
        kind: kind.into(),
        trace_id: TRACE.into(),
        span_id: id.into(),
        parent_id: parent.into(),
        start_ns: 1_000_000_000 + start_ms * 1_000_000,
        end_ns: 1_000_000_000 + end_ms * 1_000_000,
        error: false,
        attributes: BTreeMap::new(),
        attribute_types: BTreeMap::new(),
    }
}

/// A write as the functions trace it, spans given out of order.
pub fn write() -> Vec<SpanRecord> {
    vec![
        span(
            "fk-distributor",
            "process d",
            "consumer",
            "d1",
            "w5",
            40,
            70,
        ),
        span("fk-cli", "zk.set_data", "client", "c1", "", 0, 80),
        span("fk-writer", "lock", "internal", "w3", "w2", 12, 15),
        span("fk-cli", "send w", "producer", "c2", "c1", 1, 5),
        span("fk-writer", "process w", "consumer", "w1", "c2", 10, 30),
        span("fk-writer", "write", "internal", "w2", "w1", 11, 29),
        span("fk-writer", "push", "internal", "w4", "w2", 16, 28),
        span("fk-writer", "send d", "producer", "w5", "w4", 17, 27),
        span(
            "fk-distributor",
            "distribute",
            "internal",
            "d2",
            "d1",
            41,
            69,
        ),
        span("fk-distributor", "commit", "internal", "d3", "d2", 42, 50),
        span("fk-distributor", "reply", "internal", "d4", "d2", 60, 68),
    ]
}
