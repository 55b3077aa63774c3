//! The Lambda Runtime API, as one execution environment sees it.
//!
//! A function binary built on `lambda_runtime` long-polls
//! `GET /2018-06-01/runtime/invocation/next` for its next event and posts the
//! result to `.../invocation/{id}/response` or `.../invocation/{id}/error`
//! (or `.../init/error` when it cannot start). One [`RuntimeApi`] serves one
//! process: a restarted process gets a new server, so nothing a dead process
//! left behind (a half-read event, a late answer) can reach its successor.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Lambda's limit on a synchronous response payload.
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// What the function answered to one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `POST .../response`: the handler returned `Ok`.
    Response(Bytes),
    /// `POST .../error`: the handler returned `Err` (the body is Lambda's
    /// `{"errorType", "errorMessage"}` document).
    Error(Bytes),
}

/// An invocation handed to the server, waiting for its answer.
#[derive(Debug)]
pub struct Pending {
    pub request_id: String,
    pub answer: oneshot::Receiver<Answer>,
}

struct Invocation {
    request_id: String,
    deadline_ms: u128,
    payload: Bytes,
}

struct Shared {
    function_arn: String,
    next: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    init_error: Mutex<Option<Bytes>>,
}

/// A Runtime API server on `127.0.0.1:<free port>` for one process.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    submit: mpsc::Sender<Invocation>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Starts serving; `function_arn` is what the function sees as its ARN.
    pub async fn start(function_arn: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (submit, next) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            function_arn,
            next: tokio::sync::Mutex::new(next),
            in_flight: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(invocation_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .layer(DefaultBodyLimit::max(MAX_PAYLOAD))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "runtime API server stopped");
            }
        });
        Ok(RuntimeApi {
            addr,
            shared,
            submit,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `payload` for the function's next `GET .../next`, with a
    /// deadline `timeout` from now.
    pub async fn invoke(&self, payload: Bytes, timeout: Duration) -> Pending {
        let request_id = request_id();
        let (tx, answer) = oneshot::channel();
        lock(&self.shared.in_flight).insert(request_id.clone(), tx);
        let deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(timeout)
            .as_millis();
        let invocation = Invocation {
            request_id: request_id.clone(),
            deadline_ms,
            payload,
        };
        // The receiver lives in `shared`, as long as `self`: this cannot fail.
        let _ = self.submit.send(invocation).await;
        Pending { request_id, answer }
    }

    /// Forgets an invocation nobody waits for any more (timed out).
    pub fn abandon(&self, request_id: &str) {
        lock(&self.shared.in_flight).remove(request_id);
    }

    /// What the function posted to `.../init/error`, if anything.
    pub fn init_error(&self) -> Option<Bytes> {
        lock(&self.shared.init_error).clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A UUID-shaped id, as Lambda's request ids are.
pub(crate) fn request_id() -> String {
    let n: u128 = rand::random();
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An X-Ray trace header: `Root=1-<epoch seconds, hex>-<96 random bits>`.
fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let n: u128 = rand::random();
    format!(
        "Root=1-{secs:08x}-{:024x};Parent={:016x};Sampled=0",
        n >> 32,
        rand::random::<u64>()
    )
}

async fn next_invocation(State(shared): State<Arc<Shared>>) -> Response {
    // One process polls at a time; a second poller waits its turn.
    let invocation = shared.next.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    put("lambda-runtime-aws-request-id", invocation.request_id);
    put(
        "lambda-runtime-deadline-ms",
        invocation.deadline_ms.to_string(),
    );
    put(
        "lambda-runtime-invoked-function-arn",
        shared.function_arn.clone(),
    );
    put("lambda-runtime-trace-id", trace_id());
    put("content-type", "application/json".into());
    (StatusCode::OK, headers, invocation.payload).into_response()
}

async fn invocation_response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    answer(&shared, &id, Answer::Response(body))
}

async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    answer(&shared, &id, Answer::Error(body))
}

fn answer(shared: &Shared, id: &str, answer: Answer) -> Response {
    match lock(&shared.in_flight).remove(id) {
        Some(waiter) => {
            let _ = waiter.send(answer);
            accepted()
        }
        None => (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "errorType": "InvalidRequestID",
                "errorMessage": format!("no invocation {id} in flight"),
            })),
        )
            .into_response(),
    }
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    *lock(&shared.init_error) = Some(body);
    accepted()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"status": "OK"})),
    )
        .into_response()
}
