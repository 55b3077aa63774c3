//! Spans as OTLP-JSON, the file every OpenTelemetry backend can load.
//!
//! The receiver keeps spans in its own small format ([`SpanRecord`]);
//! to look at a write in Jaeger, Grafana Tempo or anything behind an
//! OpenTelemetry Collector, they go back into the format those read: one
//! `ExportTraceServiceRequest` in the protobuf-JSON mapping of the OTLP
//! specification. The mapping is opentelemetry-proto's (`with-serde`):
//! camelCase field names, trace and span ids in lowercase hex, times in
//! nanoseconds as decimal strings (JSON numbers lose precision past 2^53),
//! enums as their numbers, attributes as `{key, value: AnyValue}`.
//!
//! Unset messages (the mapping writes them as `null`) and empty defaults
//! are left out, as the OpenTelemetry exporters do. The document is
//! written on one line: the same file is then a body for
//! `POST /v1/traces` (`Content-Type: application/json`), a JSON-lines file
//! for the collector's `otlpjsonfile` receiver and an upload for Jaeger's
//! UI.

use std::fmt;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use crate::span::AttributeType;
use crate::SpanRecord;

/// A span whose trace, span or parent id is not hex of the right length:
/// a spans file edited by hand, not one the receiver wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadId {
    pub span: String,
    pub field: &'static str,
    pub value: String,
}

impl fmt::Display for BadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "span {:?}: {} {:?} is not {} hex digits",
            self.span,
            self.field,
            self.value,
            if self.field == "trace id" { 32 } else { 16 }
        )
    }
}

impl std::error::Error for BadId {}

/// The export request holding `spans`: one resource (`service.name`) per
/// service, in the order the services first appear, each span in the
/// order given.
pub fn request(spans: &[SpanRecord]) -> Result<ExportTraceServiceRequest, BadId> {
    let mut resource_spans: Vec<ResourceSpans> = Vec::new();
    let mut services: Vec<&str> = Vec::new();
    for record in spans {
        let span = span(record)?;
        let at = match services.iter().position(|s| *s == record.service) {
            Some(at) => at,
            None => {
                services.push(&record.service);
                resource_spans.push(ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![string("service.name", &record.service)],
                        ..Default::default()
                    }),
                    // The instrumentation scope is not kept by the receiver:
                    // left out rather than made up.
                    scope_spans: vec![ScopeSpans::default()],
                    ..Default::default()
                });
                resource_spans.len() - 1
            }
        };
        resource_spans[at].scope_spans[0].spans.push(span);
    }
    Ok(ExportTraceServiceRequest { resource_spans })
}

/// The spans as one line of OTLP-JSON (no line break at the end).
pub fn to_string(spans: &[SpanRecord]) -> Result<String, BadId> {
    let request = request(spans)?;
    let mut document = serde_json::to_value(&request).expect("an export request serialises");
    prune(&mut document);
    Ok(document.to_string())
}

/// The spans of an OTLP-JSON file: one export request a line (what
/// [`to_string`] writes, or a collector's file exporter).
pub fn parse(text: &str) -> Result<Vec<SpanRecord>, serde_json::Error> {
    let mut spans = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let request: ExportTraceServiceRequest = serde_json::from_str(line)?;
        spans.extend(crate::receiver::records(request));
    }
    Ok(spans)
}

/// Fields the mapping writes even when they hold their default (an empty
/// id, list or string, a zero count), which OTLP-JSON lets a writer leave
/// out, as exporters do.
const LEFT_OUT_WHEN_EMPTY: &[&str] = &[
    "parentSpanId",
    "attributes",
    "message",
    "traceState",
    "schemaUrl",
    "flags",
    "droppedAttributesCount",
    "droppedEventsCount",
    "droppedLinksCount",
    "events",
    "links",
    "entityRefs",
];

/// Leaves out the unset messages the mapping writes as `null` (a span's
/// status, the scope), which some readers take for a value, and the
/// defaults above. An attribute's value is never touched: an empty
/// string there is a value.
fn prune(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(fields) => {
            fields.retain(|key, field| {
                let empty = match field {
                    Value::Null => return false,
                    Value::String(s) => s.is_empty(),
                    Value::Array(items) => items.is_empty(),
                    Value::Number(n) => n.as_u64() == Some(0),
                    _ => false,
                };
                !(empty && LEFT_OUT_WHEN_EMPTY.contains(&key.as_str()))
            });
            for (key, field) in fields.iter_mut() {
                if key != "value" {
                    prune(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

fn span(record: &SpanRecord) -> Result<Span, BadId> {
    let id = |field: &'static str, value: &str, bytes: usize| {
        unhex(value, bytes).ok_or_else(|| BadId {
            span: record.name.clone(),
            field,
            value: value.to_string(),
        })
    };
    let kind = match record.kind.as_str() {
        "client" => SpanKind::Client,
        "server" => SpanKind::Server,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        _ => SpanKind::Internal,
    };
    Ok(Span {
        trace_id: id("trace id", &record.trace_id, 16)?,
        span_id: id("span id", &record.span_id, 8)?,
        parent_span_id: if record.is_root() {
            Vec::new()
        } else {
            id("parent id", &record.parent_id, 8)?
        },
        name: record.name.clone(),
        kind: kind as i32,
        start_time_unix_nano: record.start_ns,
        end_time_unix_nano: record.end_ns,
        attributes: record
            .attributes
            .iter()
            .map(|(key, value)| typed(key, value, record.attribute_types.get(key)))
            .collect(),
        // The receiver keeps whether a span failed, not its message.
        status: record.error.then(|| Status {
            code: StatusCode::Error as i32,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// An attribute with the type it had when it was received; text that no
/// longer parses as that type stays a string.
fn typed(key: &str, value: &str, kind: Option<&AttributeType>) -> KeyValue {
    let parsed = match kind {
        Some(AttributeType::Int) => value.parse().ok().map(any_value::Value::IntValue),
        Some(AttributeType::Double) => value.parse().ok().map(any_value::Value::DoubleValue),
        Some(AttributeType::Bool) => value.parse().ok().map(any_value::Value::BoolValue),
        None => None,
    };
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(parsed.unwrap_or_else(|| any_value::Value::StringValue(value.into()))),
        }),
        ..Default::default()
    }
}

fn string(key: &str, value: &str) -> KeyValue {
    typed(key, value, None)
}

/// `text` as `bytes` bytes, from exactly twice as many hex digits.
fn unhex(text: &str, bytes: usize) -> Option<Vec<u8>> {
    if text.len() != 2 * bytes || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..bytes)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::receiver::records;

    const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

    fn span(service: &str, name: &str, kind: &str, id: &str, parent: &str) -> SpanRecord {
        SpanRecord {
            service: service.into(),
            name: name.into(),
            kind: kind.into(),
            trace_id: TRACE.into(),
            span_id: id.repeat(8),
            parent_id: parent.repeat(8),
            start_ns: 1_700_000_000_123_456_789,
            end_ns: 1_700_000_000_223_456_789,
            ..Default::default()
        }
    }

    /// A write's spans across three services, with typed attributes and
    /// a failed span.
    fn write() -> Vec<SpanRecord> {
        let mut root = span("fk-cli", "zk.set_data", "client", "c1", "");
        root.attributes = [
            ("zk.path".to_string(), "/app".to_string()),
            ("zk.zxid".to_string(), "42".to_string()),
        ]
        .into();
        root.attribute_types = [("zk.zxid".to_string(), AttributeType::Int)].into();
        let mut process = span("fk-writer", "process w", "consumer", "a1", "c2");
        process.attributes = [
            (
                "messaging.aws_sqs.receive_count".to_string(),
                "2".to_string(),
            ),
            ("faas.coldstart".to_string(), "true".to_string()),
            ("ratio".to_string(), "0.5".to_string()),
        ]
        .into();
        process.attribute_types = [
            (
                "messaging.aws_sqs.receive_count".to_string(),
                AttributeType::Int,
            ),
            ("faas.coldstart".to_string(), AttributeType::Bool),
            ("ratio".to_string(), AttributeType::Double),
        ]
        .into();
        let mut lock = span("fk-writer", "lock", "internal", "a2", "a1");
        lock.error = true;
        vec![
            root,
            span("fk-cli", "send w", "producer", "c2", "c1"),
            process,
            lock,
            span("fk-distributor", "commit", "server", "d1", "a2"),
        ]
    }

    fn by_id(mut spans: Vec<SpanRecord>) -> Vec<SpanRecord> {
        spans.sort_by(|a, b| a.span_id.cmp(&b.span_id));
        spans
    }

    fn all_spans(document: &Value) -> Vec<&Value> {
        document["resourceSpans"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["scopeSpans"].as_array().unwrap())
            .flat_map(|s| s["spans"].as_array().unwrap())
            .collect()
    }

    fn attribute<'a>(span: &'a Value, key: &str) -> &'a Value {
        let list = span["attributes"].as_array().unwrap();
        &list.iter().find(|kv| kv["key"] == key).unwrap()["value"]
    }

    fn is_hex(text: &str, digits: usize) -> bool {
        text.len() == digits
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    /// Every object key in `value`, at any depth.
    fn keys(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    out.push(key.clone());
                    keys(value, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    #[test]
    fn spans_read_back_from_their_otlp_json_unchanged() {
        // given: a write's spans
        let spans = write();

        // when: written as OTLP-JSON and parsed back with the proto types
        let text = to_string(&spans).unwrap();
        let parsed: ExportTraceServiceRequest = serde_json::from_str(&text).unwrap();

        // then: the receiver makes the same spans of it, types included
        assert_eq!(parsed, request(&spans).unwrap());
        assert_eq!(by_id(records(parsed)), by_id(spans.clone()));
        let twice = format!("{text}\n{text}\n");
        assert_eq!(parse(&twice).unwrap().len(), 2 * spans.len());
    }

    #[test]
    fn the_document_follows_the_otlp_json_mapping() {
        let text = to_string(&write()).unwrap();
        assert!(!text.contains('\n'), "one line: {text}");
        let document: Value = serde_json::from_str(&text).unwrap();

        // one resource per service, named by service.name
        let services: Vec<&Value> = document["resourceSpans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let attributes = &r["resource"]["attributes"];
                assert_eq!(attributes[0]["key"], "service.name");
                &attributes[0]["value"]["stringValue"]
            })
            .collect();
        assert_eq!(services, ["fk-cli", "fk-writer", "fk-distributor"]);

        // camelCase field names, never the proto's snake_case
        let mut all = Vec::new();
        keys(&document, &mut all);
        for key in [
            "resourceSpans",
            "scopeSpans",
            "traceId",
            "spanId",
            "parentSpanId",
        ] {
            assert!(all.iter().any(|k| k == key), "no {key} in {text}");
        }
        assert!(
            all.iter().all(|k| !k.contains('_')),
            "snake_case field in {all:?}"
        );

        let spans = all_spans(&document);
        assert_eq!(spans.len(), 5);
        let ids: Vec<&str> = spans
            .iter()
            .map(|s| s["spanId"].as_str().unwrap())
            .collect();
        for span in &spans {
            // ids in lowercase hex of their length
            assert!(is_hex(span["traceId"].as_str().unwrap(), 32), "{span}");
            assert!(is_hex(span["spanId"].as_str().unwrap(), 16), "{span}");
            // times as strings of nanoseconds, exact past 2^53
            assert_eq!(span["startTimeUnixNano"], "1700000000123456789");
            assert_eq!(span["endTimeUnixNano"], "1700000000223456789");
            // each parent link names a span of the document, but the root's
            match span.get("parentSpanId") {
                None => assert_eq!(span["name"], "zk.set_data"),
                Some(parent) => {
                    assert!(is_hex(parent.as_str().unwrap(), 16), "{span}");
                    assert!(ids.contains(&parent.as_str().unwrap()), "{span}");
                }
            }
        }
        let named = |name: &str| *spans.iter().find(|s| s["name"] == name).unwrap();
        assert_eq!(named("lock")["parentSpanId"], "a1".repeat(8));

        // kinds as the enum's numbers, status only where a span failed
        let kinds: Vec<i64> = spans.iter().map(|s| s["kind"].as_i64().unwrap()).collect();
        assert_eq!(kinds, [3, 4, 5, 1, 2]);
        assert_eq!(named("lock")["status"]["code"], 2);
        assert!(named("send w").get("status").is_none());
        // no null anywhere, no empty default written out
        assert!(!text.contains("null") && !text.contains("\"\""), "{text}");
        assert!(
            !text.contains("\"events\"") && !text.contains("\"flags\""),
            "{text}"
        );

        // attributes as AnyValue objects of their type; int64 as a string
        assert_eq!(
            attribute(named("zk.set_data"), "zk.path"),
            &serde_json::json!({"stringValue": "/app"})
        );
        assert_eq!(
            attribute(named("zk.set_data"), "zk.zxid"),
            &serde_json::json!({"intValue": "42"})
        );
        let process = named("process w");
        assert_eq!(
            attribute(process, "faas.coldstart"),
            &serde_json::json!({"boolValue": true})
        );
        assert_eq!(
            attribute(process, "ratio"),
            &serde_json::json!({"doubleValue": 0.5})
        );
    }

    #[test]
    fn an_attribute_that_no_longer_parses_as_its_type_stays_a_string() {
        let mut spans = write();
        spans[0]
            .attributes
            .insert("zk.zxid".into(), "forty-two".into());
        let document: Value = serde_json::from_str(&to_string(&spans).unwrap()).unwrap();
        assert_eq!(
            attribute(all_spans(&document)[0], "zk.zxid"),
            &serde_json::json!({"stringValue": "forty-two"})
        );
    }

    #[test]
    fn a_span_whose_id_is_not_hex_is_refused_by_name() {
        let mut spans = write();
        spans[3].span_id = "+f".repeat(8);
        let error = request(&spans).unwrap_err();
        assert_eq!(error.span, "lock");
        assert_eq!(
            error.to_string(),
            format!(
                "span \"lock\": span id \"{}\" is not 16 hex digits",
                "+f".repeat(8)
            )
        );
        spans[3].span_id = "a2".repeat(8);
        spans[0].trace_id = "abc".into();
        assert_eq!(request(&spans).unwrap_err().field, "trace id");
    }

    #[test]
    fn old_spans_without_types_export_every_attribute_as_a_string() {
        let line = r#"{"service":"fk-writer","name":"lock","trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","start_ns":1,"end_ns":2,"attributes":{"zk.zxid":"7"}}"#;
        let old: SpanRecord = serde_json::from_str(line).unwrap();
        assert!(old.attribute_types.is_empty());
        let document: Value = serde_json::from_str(&to_string(&[old]).unwrap()).unwrap();
        assert_eq!(
            attribute(all_spans(&document)[0], "zk.zxid"),
            &serde_json::json!({"stringValue": "7"})
        );
    }
}
