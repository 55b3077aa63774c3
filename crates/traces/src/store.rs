//! The file of received spans: JSON lines, one [`SpanRecord`] each.
//!
//! Lines are appended a whole batch at a time by one writer (the
//! receiver), so a reader sees complete lines except perhaps the last,
//! which it skips until it is complete.

use std::io::Write as _;
use std::path::Path;

use crate::SpanRecord;

/// Appends `spans` to the file at `path`, creating it.
pub fn append(path: &Path, spans: &[SpanRecord]) -> std::io::Result<()> {
    if spans.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for span in spans {
        // A SpanRecord is strings and numbers: it always serialises.
        text += &serde_json::to_string(span).expect("a span serialises");
        text.push('\n');
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// Every span in the file at `path`; lines that are not spans (a line
/// being written) are skipped.
pub fn read(path: &Path) -> std::io::Result<Vec<SpanRecord>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::AttributeType;

    fn span(name: &str) -> SpanRecord {
        SpanRecord {
            service: "fk-writer".into(),
            name: name.into(),
            kind: "internal".into(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_id: String::new(),
            start_ns: 1,
            end_ns: 2,
            error: false,
            attributes: [("zk.path".to_string(), "/a".to_string())].into(),
            attribute_types: [("zk.zxid".to_string(), AttributeType::Int)].into(),
        }
    }

    #[test]
    fn appended_spans_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        append(&path, &[span("lock")]).unwrap();
        append(&path, &[span("validate"), span("push")]).unwrap();
        let names: Vec<String> = read(&path).unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["lock", "validate", "push"]);
    }

    #[test]
    fn an_incomplete_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        append(&path, &[span("lock")]).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"service\":\"fk-wri")
            .unwrap();
        assert_eq!(read(&path).unwrap(), [span("lock")]);
    }
}
