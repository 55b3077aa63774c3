//! Traces put back together from their spans, and printed as waterfalls.
//!
//! A waterfall is a trace's span tree, one line a span in depth-first
//! order (children by start time), each with its service, its start
//! offset from the trace's first span and its duration. Where a span
//! consumes a message another service produced, the line also shows how
//! long the message waited in the queue: the gap between the producer's
//! `send` ending and the consumer's `process` starting, which no span
//! covers. Below the tree, the write's stages in the order it took them.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::SpanRecord;

/// The spans of one trace, in start order.
#[derive(Debug, Clone)]
pub struct Trace {
    pub trace_id: String,
    pub spans: Vec<SpanRecord>,
}

/// One line of a waterfall.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub depth: usize,
    pub service: String,
    pub name: String,
    pub kind: String,
    pub span_id: String,
    pub parent_id: String,
    pub start_ms: f64,
    pub duration_ms: f64,
    /// Time the message this span consumes spent in its queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_wait_ms: Option<f64>,
    pub error: bool,
    pub attributes: BTreeMap<String, String>,
}

/// A step of a write and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    /// `queue → writer`, `lock`, `validate`, `push`, `queue → distributor`,
    /// `commit`, `watch push`, `user-store write`, `reply`,
    /// `queue → watch`, `watch delivery`.
    pub name: String,
    pub start_ms: f64,
    pub duration_ms: f64,
}

/// The spans of a write that are its stages, by service and span name.
const STAGES: &[(&str, &str, &str)] = &[
    ("fk-writer", "lock", "lock"),
    ("fk-writer", "validate", "validate"),
    ("fk-writer", "push", "push"),
    ("fk-distributor", "commit", "commit"),
    ("fk-distributor", "watch.push", "watch push"),
    ("fk-distributor", "user_store.write", "user-store write"),
    ("fk-distributor", "reply", "reply"),
    ("fk-watch", "deliver", "watch delivery"),
];

/// The queue waits of a write: the consumer's service names the queue.
const QUEUES: &[(&str, &str)] = &[
    ("fk-writer", "queue → writer"),
    ("fk-distributor", "queue → distributor"),
    ("fk-watch", "queue → watch"),
];

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

impl Trace {
    pub fn start_ns(&self) -> u64 {
        self.spans.iter().map(|s| s.start_ns).min().unwrap_or(0)
    }

    pub fn end_ns(&self) -> u64 {
        self.spans.iter().map(|s| s.end_ns).max().unwrap_or(0)
    }

    fn span(&self, id: &str) -> Option<&SpanRecord> {
        self.spans.iter().find(|s| s.span_id == id)
    }

    /// The earliest span without a parent in this trace: the client's
    /// operation when the client was traced.
    pub fn root(&self) -> Option<&SpanRecord> {
        self.spans
            .iter()
            .find(|s| s.is_root() || self.span(&s.parent_id).is_none())
    }

    /// Whether this trace is a write's: the writer handled it.
    pub fn is_write(&self) -> bool {
        self.spans
            .iter()
            .any(|s| s.service == "fk-writer" && s.name == "write")
    }

    /// The operation the writer handled (`set_data`, `close_session`, …).
    pub fn op(&self) -> Option<&str> {
        self.spans
            .iter()
            .find(|s| s.service == "fk-writer" && s.name == "write")
            .and_then(|s| s.attribute("zk.op"))
    }

    /// Whether this is a write of node data (not a session's own
    /// bookkeeping: `close_session`, `sync`).
    pub fn is_data_write(&self) -> bool {
        self.is_write() && !matches!(self.op(), Some("close_session" | "sync"))
    }

    /// How long the message `span` consumes waited in its queue, when its
    /// parent is the `send` that produced it.
    pub fn queue_wait_ns(&self, span: &SpanRecord) -> Option<u64> {
        if span.kind != "consumer" {
            return None;
        }
        let parent = self.span(&span.parent_id)?;
        (parent.kind == "producer").then(|| span.start_ns.saturating_sub(parent.end_ns))
    }

    /// The span tree, depth first, children by start time; a span whose
    /// parent did not arrive is shown as a root.
    pub fn lines(&self) -> Vec<Line> {
        let t0 = self.start_ns();
        let ids: HashSet<&str> = self.spans.iter().map(|s| s.span_id.as_str()).collect();
        let mut children: BTreeMap<&str, Vec<&SpanRecord>> = BTreeMap::new();
        let mut roots = Vec::new();
        for span in &self.spans {
            if span.is_root() || !ids.contains(span.parent_id.as_str()) {
                roots.push(span);
            } else {
                children.entry(&span.parent_id).or_default().push(span);
            }
        }
        let mut lines = Vec::new();
        let mut stack: Vec<(usize, &SpanRecord)> =
            roots.into_iter().rev().map(|s| (0, s)).collect();
        while let Some((depth, span)) = stack.pop() {
            lines.push(Line {
                depth,
                service: span.service.clone(),
                name: span.name.clone(),
                kind: span.kind.clone(),
                span_id: span.span_id.clone(),
                parent_id: span.parent_id.clone(),
                start_ms: ms(span.start_ns.saturating_sub(t0)),
                duration_ms: ms(span.duration_ns()),
                queue_wait_ms: self.queue_wait_ns(span).map(ms),
                error: span.error,
                attributes: span.attributes.clone(),
            });
            if let Some(kids) = children.get(span.span_id.as_str()) {
                for kid in kids.iter().rev() {
                    stack.push((depth + 1, kid));
                }
            }
        }
        lines
    }

    /// The write's stages in the order they started.
    pub fn stages(&self) -> Vec<Stage> {
        let t0 = self.start_ns();
        let mut stages: Vec<(u64, Stage)> = Vec::new();
        for span in &self.spans {
            let named = STAGES
                .iter()
                .find(|(service, name, _)| span.service == *service && span.name == *name);
            if let Some((_, _, stage)) = named {
                stages.push((
                    span.start_ns,
                    Stage {
                        name: stage.to_string(),
                        start_ms: ms(span.start_ns - t0),
                        duration_ms: ms(span.duration_ns()),
                    },
                ));
            }
            let queue = QUEUES.iter().find(|(service, _)| span.service == *service);
            if let (Some((_, stage)), Some(wait)) = (queue, self.queue_wait_ns(span)) {
                let entered = span.start_ns - wait;
                stages.push((
                    entered,
                    Stage {
                        name: stage.to_string(),
                        start_ms: ms(entered.saturating_sub(t0)),
                        duration_ms: ms(wait),
                    },
                ));
            }
        }
        stages.sort_by_key(|(start, _)| *start);
        stages.into_iter().map(|(_, stage)| stage).collect()
    }

    /// A one-line title: the root's service, name and path, the trace id
    /// and the whole trace's length.
    pub fn title(&self) -> String {
        let root = self.root();
        let what = root
            .map(|r| {
                let path = r
                    .attribute("zk.path")
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default();
                format!("{} {}{path}", r.service, r.name)
            })
            .unwrap_or_default();
        format!(
            "trace {}  {what}  {:.1} ms",
            self.trace_id,
            ms(self.end_ns() - self.start_ns())
        )
    }

    /// The waterfall as text: title, one line a span, the stages.
    pub fn render(&self) -> String {
        let lines = self.lines();
        let width = lines
            .iter()
            .map(|l| 2 * l.depth + l.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        let service_width = lines
            .iter()
            .map(|l| l.service.len())
            .max()
            .unwrap_or(0)
            .max(7);
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title());
        let _ = writeln!(
            out,
            "  {:<service_width$}  {:<width$}  {:>9}  {:>9}",
            "service", "span", "start ms", "dur ms"
        );
        for line in &lines {
            let name = format!("{}{}", "  ".repeat(line.depth), line.name);
            let mut text = format!(
                "  {:<service_width$}  {:<width$}  {:>9.1}  {:>9.1}",
                line.service, name, line.start_ms, line.duration_ms
            );
            if let Some(wait) = line.queue_wait_ms {
                let _ = write!(text, "  (queued {wait:.1} ms)");
            }
            if line.error {
                text += "  ERROR";
            }
            let _ = writeln!(out, "{}", text.trim_end());
        }
        if let Some(stages) = self.stages_line() {
            let _ = writeln!(out, "{stages}");
        }
        out
    }

    /// `  stages (ms): queue → writer 5.0 · lock 3.0 · …`, when the trace
    /// has stages.
    pub fn stages_line(&self) -> Option<String> {
        let stages = self.stages();
        if stages.is_empty() {
            return None;
        }
        let list: Vec<String> = stages
            .iter()
            .map(|s| format!("{} {:.1}", s.name, s.duration_ms))
            .collect();
        Some(format!("  stages (ms): {}", list.join(" · ")))
    }

    /// The whole trace's length, first start to last end.
    pub fn duration_ms(&self) -> f64 {
        ms(self.end_ns() - self.start_ns())
    }

    /// The trace as one JSON document (`fk trace --json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "trace_id": self.trace_id,
            "root": self.root().map(|r| serde_json::json!({
                "service": r.service,
                "name": r.name,
                "path": r.attribute("zk.path"),
            })),
            "duration_ms": ms(self.end_ns() - self.start_ns()),
            "spans": self.lines(),
            "stages": self.stages(),
        })
    }
}

/// Spans grouped by trace, traces in the order they started.
pub fn traces(spans: &[SpanRecord]) -> Vec<Trace> {
    let mut by_id: BTreeMap<&str, Vec<SpanRecord>> = BTreeMap::new();
    for span in spans {
        by_id.entry(&span.trace_id).or_default().push(span.clone());
    }
    let mut traces: Vec<Trace> = by_id
        .into_iter()
        .map(|(id, mut spans)| {
            spans.sort_by_key(|s| (s.start_ns, std::cmp::Reverse(s.end_ns)));
            Trace {
                trace_id: id.to_string(),
                spans,
            }
        })
        .collect();
    traces.sort_by_key(|t| t.start_ns());
    traces
}

/// The last `n` traces of writes of node data (heartbeat runs, function
/// invocations, session ends are left out), oldest first.
pub fn writes(spans: &[SpanRecord], n: usize) -> Vec<Trace> {
    last(spans, n, Trace::is_data_write)
}

/// The last `n` traces that `pick` picks, oldest first.
pub fn last(spans: &[SpanRecord], n: usize, pick: impl Fn(&Trace) -> bool) -> Vec<Trace> {
    let writes: Vec<Trace> = traces(spans).into_iter().filter(|t| pick(t)).collect();
    let skip = writes.len().saturating_sub(n);
    writes.into_iter().skip(skip).collect()
}

/// The waterfall of one trace's spans, as text.
pub fn waterfall(spans: &[SpanRecord]) -> String {
    traces(spans)
        .iter()
        .map(Trace::render)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::{span, write, TRACE};

    #[test]
    fn the_waterfall_is_the_span_tree_depth_first_with_queue_waits() {
        let traces = traces(&write());
        assert_eq!(traces.len(), 1);
        let lines = traces[0].lines();
        let shape: Vec<(usize, &str)> = lines.iter().map(|l| (l.depth, l.name.as_str())).collect();
        assert_eq!(
            shape,
            [
                (0, "zk.set_data"),
                (1, "send w"),
                (2, "process w"),
                (3, "write"),
                (4, "lock"),
                (4, "push"),
                (5, "send d"),
                (6, "process d"),
                (7, "distribute"),
                (8, "commit"),
                (8, "reply"),
            ]
        );
        let process_w = &lines[2];
        assert_eq!(process_w.start_ms, 10.0);
        assert_eq!(process_w.duration_ms, 20.0);
        assert_eq!(process_w.queue_wait_ms, Some(5.0));
        assert_eq!(lines[7].queue_wait_ms, Some(13.0));
        assert_eq!(lines[3].queue_wait_ms, None);
    }

    #[test]
    fn the_stages_are_listed_in_the_order_the_write_took_them() {
        let stages = traces(&write())[0].stages();
        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "queue → writer",
                "lock",
                "push",
                "queue → distributor",
                "commit",
                "reply"
            ]
        );
        assert_eq!(stages[0].start_ms, 5.0);
        assert_eq!(stages[0].duration_ms, 5.0);
        assert_eq!(stages[3].duration_ms, 13.0);
    }

    #[test]
    fn a_session_end_is_a_write_but_not_a_data_write() {
        let mut spans = write();
        spans
            .iter_mut()
            .find(|s| s.name == "write")
            .unwrap()
            .attributes
            .insert("zk.op".into(), "close_session".into());
        let trace = &traces(&spans)[0];
        assert_eq!(trace.op(), Some("close_session"));
        assert!(trace.is_write() && !trace.is_data_write());
        assert!(writes(&spans, 5).is_empty());
    }

    #[test]
    fn only_the_last_writes_are_picked_and_other_traces_are_left_out() {
        // given: two writes and a heartbeat run, each its own trace
        let mut spans = write();
        let mut later = write();
        for s in &mut later {
            s.trace_id = "1".repeat(32);
            s.start_ns += 1_000_000_000;
            s.end_ns += 1_000_000_000;
        }
        spans.extend(later);
        let mut heartbeat = span(
            "fk-heartbeat",
            "heartbeat",
            "internal",
            "h1",
            "",
            5_000,
            5_010,
        );
        heartbeat.trace_id = "2".repeat(32);
        spans.push(heartbeat);

        // then: the last write only, with its client span as the root
        let last = writes(&spans, 1);
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].trace_id, "1".repeat(32));
        assert_eq!(last[0].root().unwrap().name, "zk.set_data");
        assert_eq!(writes(&spans, 10).len(), 2);
    }

    #[test]
    fn the_text_shows_each_span_indented_with_its_offset_and_duration() {
        let text = waterfall(&write());
        assert!(
            text.starts_with(&format!("trace {TRACE}  fk-cli zk.set_data  80.0 ms\n")),
            "{text}"
        );
        let lock = text.lines().find(|l| l.contains("lock")).unwrap();
        assert!(
            lock.contains("fk-writer") && lock.contains("        lock"),
            "{lock}"
        );
        assert!(lock.trim_end().ends_with("12.0        3.0"), "{lock}");
        assert!(text.contains("(queued 5.0 ms)"), "{text}");
        assert!(
            text.contains("stages (ms): queue → writer 5.0 · lock 3.0"),
            "{text}"
        );
    }
}
