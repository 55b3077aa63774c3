//! An OTLP/HTTP (protobuf) trace receiver.
//!
//! It accepts `POST /v1/traces` with an `ExportTraceServiceRequest`, as
//! every OpenTelemetry SDK's OTLP/HTTP exporter sends it, and keeps each
//! span with its service (the `service.name` resource attribute). Our
//! exporters send protobuf; a body sent as `application/json` is read as
//! OTLP-JSON, so a file `fk trace --otlp-json` wrote can be sent back
//! (to another stack's receiver, say) with `curl`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode as OtlpStatus};
use prost::Message as _;

use crate::span::AttributeType;
use crate::{store, SpanRecord};

/// What a receiver does with the spans it is sent.
#[derive(Debug, Clone)]
struct Sink {
    /// Every span so far, for [`OtlpReceiver::spans`]; `None` when only
    /// the file is wanted (a long-running local stack).
    memory: Option<Arc<Mutex<Vec<SpanRecord>>>>,
    file: Option<PathBuf>,
}

/// A running receiver; it stops when dropped.
pub struct OtlpReceiver {
    pub address: SocketAddr,
    sink: Sink,
    task: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    /// Listens on a free loopback port and keeps the spans in memory.
    pub async fn start() -> std::io::Result<OtlpReceiver> {
        Self::serve("127.0.0.1:0".parse().unwrap(), true, None).await
    }

    /// Listens on `address` (port 0: a free one) and appends every span to
    /// the JSON-lines file `spans_file` ([`store`]); keeps them in memory
    /// too when `in_memory`.
    pub async fn start_with_file(
        address: SocketAddr,
        spans_file: &Path,
        in_memory: bool,
    ) -> std::io::Result<OtlpReceiver> {
        // Fail now, not at the first batch, if the file cannot be written.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(spans_file)?;
        Self::serve(address, in_memory, Some(spans_file.to_path_buf())).await
    }

    async fn serve(
        address: SocketAddr,
        in_memory: bool,
        file: Option<PathBuf>,
    ) -> std::io::Result<OtlpReceiver> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let sink = Sink {
            memory: in_memory.then(|| Arc::new(Mutex::new(Vec::new()))),
            file,
        };
        let app = axum::Router::new()
            .route("/v1/traces", post(receive))
            .with_state(sink.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(OtlpReceiver {
            address,
            sink,
            task,
        })
    }

    /// The base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every span received so far (none when not kept in memory).
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.sink
            .memory
            .as_ref()
            .map(|m| m.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// The spans of one trace.
    pub fn trace(&self, trace_id: &str) -> Vec<SpanRecord> {
        self.spans()
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect()
    }

    /// Polls until `done` holds for the spans received, or `timeout`
    /// passes; returns the spans either way.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[SpanRecord]) -> bool,
    ) -> (bool, Vec<SpanRecord>) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if done(&spans) {
                return (true, spans);
            }
            if tokio::time::Instant::now() >= deadline {
                return (false, spans);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(sink): State<Sink>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let request = if json {
        serde_json::from_slice::<ExportTraceServiceRequest>(&body).map_err(|e| e.to_string())
    } else {
        ExportTraceServiceRequest::decode(body).map_err(|e| e.to_string())
    };
    let request = match request {
        Ok(request) => request,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let received = records(request);
    if let Some(path) = &sink.file {
        if let Err(e) = store::append(path, &received) {
            // The exporter retries on 5xx; the spans are not lost yet.
            let message = format!("cannot append to {}: {e}", path.display());
            return (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
        }
    }
    if let Some(memory) = &sink.memory {
        memory.lock().unwrap().extend(received);
    }
    // The answer in the request's encoding, as OTLP/HTTP asks: an empty
    // ExportTraceServiceResponse (a full success) is `{}` in JSON.
    if json {
        ([(header::CONTENT_TYPE, "application/json")], "{}").into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            ExportTraceServiceResponse::default().encode_to_vec(),
        )
            .into_response()
    }
}

/// The spans of an export request, each with its resource's service.
pub fn records(request: ExportTraceServiceRequest) -> Vec<SpanRecord> {
    let mut received = Vec::new();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| kv.value.as_ref())
            .map(|v| text(v).0)
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                let kind = match SpanKind::try_from(span.kind) {
                    Ok(SpanKind::Client) => "client",
                    Ok(SpanKind::Server) => "server",
                    Ok(SpanKind::Producer) => "producer",
                    Ok(SpanKind::Consumer) => "consumer",
                    _ => "internal",
                };
                let error = span
                    .status
                    .as_ref()
                    .is_some_and(|s| s.code == OtlpStatus::Error as i32);
                let mut attributes = BTreeMap::new();
                let mut attribute_types = BTreeMap::new();
                for kv in &span.attributes {
                    let (value, kind) = kv.value.as_ref().map(text).unwrap_or_default();
                    if let Some(kind) = kind {
                        attribute_types.insert(kv.key.clone(), kind);
                    }
                    attributes.insert(kv.key.clone(), value);
                }
                received.push(SpanRecord {
                    service: service.clone(),
                    name: span.name,
                    kind: kind.to_string(),
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_id: hex(&span.parent_span_id),
                    start_ns: span.start_time_unix_nano,
                    end_ns: span.end_time_unix_nano,
                    error,
                    attributes,
                    attribute_types,
                });
            }
        }
    }
    received
}

/// An attribute's value as text, and its type when it is not a string.
/// Arrays and maps are kept as their debug text, a string.
fn text(value: &AnyValue) -> (String, Option<AttributeType>) {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => (s.clone(), None),
        Some(any_value::Value::IntValue(i)) => (i.to_string(), Some(AttributeType::Int)),
        Some(any_value::Value::BoolValue(b)) => (b.to_string(), Some(AttributeType::Bool)),
        Some(any_value::Value::DoubleValue(d)) => (d.to_string(), Some(AttributeType::Double)),
        Some(other) => (format!("{other:?}"), None),
        None => (String::new(), None),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::KeyValue;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

    fn request() -> ExportTraceServiceRequest {
        let string = |key: &str, value: &str| KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
            ..Default::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![string("service.name", "fk-writer")],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![0xab; 16],
                        span_id: vec![0x01; 8],
                        parent_span_id: vec![0x02; 8],
                        name: "lock".into(),
                        kind: SpanKind::Internal as i32,
                        start_time_unix_nano: 1_000,
                        end_time_unix_nano: 3_500,
                        attributes: vec![
                            string("zk.paths", "/a"),
                            KeyValue {
                                key: "zk.zxid".into(),
                                value: Some(AnyValue {
                                    value: Some(any_value::Value::IntValue(42)),
                                }),
                                ..Default::default()
                            },
                        ],
                        status: Some(Status {
                            code: OtlpStatus::Error as i32,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[tokio::test]
    async fn a_posted_batch_is_kept_in_memory_and_appended_to_the_file() {
        // given: a receiver that keeps spans in a file too
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("traces.jsonl");
        let receiver = OtlpReceiver::start_with_file("127.0.0.1:0".parse().unwrap(), &file, true)
            .await
            .unwrap();

        // when: an exporter posts a batch
        let answer = post(receiver.address, PROTOBUF, &request().encode_to_vec()).await;

        // then: it is accepted, and the span is the same in memory and on disk
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let spans = receiver.spans();
        assert_eq!(spans.len(), 1);
        let span = &spans[0];
        assert_eq!(span.service, "fk-writer");
        assert_eq!(span.trace_id, "ab".repeat(16));
        assert_eq!(span.parent_id, "02".repeat(8));
        assert_eq!(span.kind, "internal");
        assert!(span.error);
        assert_eq!(span.duration_ns(), 2_500);
        assert_eq!(span.attribute("zk.paths"), Some("/a"));
        assert_eq!(span.attribute("zk.zxid"), Some("42"));
        assert_eq!(span.attribute_types["zk.zxid"], AttributeType::Int);
        assert_eq!(store::read(&file).unwrap(), spans);
    }

    #[tokio::test]
    async fn an_otlp_json_body_is_read_as_json_and_answered_in_json() {
        // given: the spans of an export request, written as OTLP-JSON
        let spans = records(request());
        let json = crate::otlp_json::to_string(&spans).unwrap();
        let receiver = OtlpReceiver::start().await.unwrap();

        // when: the file is posted as JSON
        let answer = post(receiver.address, "application/json", json.as_bytes()).await;

        // then: the same spans are kept, and the answer is JSON
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.contains("content-type: application/json"),
            "{answer}"
        );
        assert!(answer.ends_with("{}"), "{answer}");
        assert_eq!(receiver.spans(), spans);
    }

    #[tokio::test]
    async fn a_body_that_is_not_an_export_request_is_refused() {
        let receiver = OtlpReceiver::start().await.unwrap();
        let answer = post(receiver.address, PROTOBUF, b"\xff\xff\xff").await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        let answer = post(
            receiver.address,
            "application/json",
            b"{\"resourceSpans\": 1}",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(receiver.spans().is_empty());
    }

    const PROTOBUF: &str = "application/x-protobuf";

    /// A bare HTTP/1.1 POST: the receiver's tests need no HTTP client.
    async fn post(address: SocketAddr, content_type: &str, body: &[u8]) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST /v1/traces HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }
}
