//! CPU time inside the writer and the distributor per operation, on the
//! in-memory stores: what a function spends besides waiting on AWS.
//!
//! ```text
//! cargo bench -p fk-core --bench functions
//! ```
//!
//! Each measured step is what the function does with one SQS record: decode
//! the message, handle it, encode what it sends on (the writer's commit
//! request, the distributor's reply). The stores answer at once, so the time
//! is the function's own CPU (plus the in-memory stores' small share).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use fk_core::distributor::Distributor;
use fk_core::memory::{
    MemoryCommitQueue, MemoryReplies, MemorySystemStore, MemoryUserStore, MemoryWatchQueue,
};
use fk_core::system::{SessionRecord, SystemStore};
use fk_core::writer::{Writer, WriterConfig};
use fk_core::{CommitRequest, CreateMode, Message, Op, SessionId, SystemClock, WriteRequest};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt as _;

/// A deployment in memory, one session.
struct World {
    runtime: tokio::runtime::Runtime,
    writer: Writer,
    distributor: Distributor,
    commits: Arc<MemoryCommitQueue>,
    replies: Arc<MemoryReplies>,
    session: SessionId,
    seq: u64,
}

/// Time spent in each function by one write.
#[derive(Default, Clone, Copy)]
struct Spent {
    writer: Duration,
    distributor: Duration,
}

impl World {
    fn new() -> World {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let system = Arc::new(MemorySystemStore::new());
        let user = Arc::new(MemoryUserStore::with_max_data_len(1 << 20));
        let commits = Arc::new(MemoryCommitQueue::default());
        let replies = Arc::new(MemoryReplies::default());
        let writer = Writer::new(
            system.clone(),
            commits.clone(),
            replies.clone(),
            Arc::new(SystemClock),
            WriterConfig {
                lock_ttl_ms: 60_000,
                max_data_len: 1 << 20,
            },
        );
        let distributor = Distributor::new(
            system.clone(),
            user,
            replies.clone(),
            Arc::new(MemoryWatchQueue::default()),
        );
        let session = SessionId::random();
        runtime.block_on(async {
            system
                .create_session(&SessionRecord {
                    id: session,
                    timeout_ms: 600_000,
                    reply_to: "reply".into(),
                    last_seq: 0,
                    refused: Vec::new(),
                    ephemerals: vec![],
                    heartbeat_ms: 0,
                })
                .await
                .unwrap()
        });
        let mut world = World {
            runtime,
            writer,
            distributor,
            commits,
            replies,
            session,
            seq: 0,
        };
        world.write(create("/b"));
        world
    }

    /// One write through both functions, each step timed.
    fn write(&mut self, op: Op) -> Spent {
        self.seq += 1;
        let request = WriteRequest {
            session: self.session,
            seq: self.seq,
            reply_to: "reply".into(),
            op,
        }
        .encode();
        let mut spent = Spent::default();
        let (writer, distributor) = (&self.writer, &self.distributor);
        let (commits, replies) = (&self.commits, &self.replies);
        self.runtime.block_on(async {
            let start = Instant::now();
            let req = WriteRequest::decode(request).unwrap();
            writer.handle(&req, 1).await.unwrap();
            let commit = commits.pop().map(|c| c.encode());
            spent.writer = start.elapsed();
            if let Some(commit) = commit {
                let start = Instant::now();
                let commit = CommitRequest::decode(commit).unwrap();
                distributor.handle(&commit).await.unwrap();
                for (_, reply) in replies.take() {
                    std::hint::black_box(serde_json::to_string(&reply).unwrap());
                }
                spent.distributor = start.elapsed();
            }
        });
        spent
    }
}

fn create(path: &str) -> Op {
    Op::Create {
        path: path.into(),
        data: Bytes::from_static(b"1234"),
        mode: CreateMode::Persistent,
    }
}

fn set(path: &str) -> Op {
    Op::SetData {
        path: path.into(),
        data: Bytes::from_static(b"abcd"),
        version: None,
    }
}

fn delete(path: &str) -> Op {
    Op::Delete {
        path: path.into(),
        version: None,
    }
}

/// One operation's workload: what runs untimed before and after the timed
/// write of iteration `i`, so the state stays the same size.
struct Case {
    name: &'static str,
    before: fn(u64) -> Vec<Op>,
    timed: fn(u64) -> Op,
    after: fn(u64) -> Vec<Op>,
}

const CASES: &[Case] = &[
    Case {
        name: "create",
        before: |_| vec![],
        timed: |i| create(&format!("/b/n{i}")),
        after: |i| vec![delete(&format!("/b/n{i}"))],
    },
    Case {
        name: "set",
        before: |i| if i == 0 { vec![create("/b/s")] } else { vec![] },
        timed: |_| set("/b/s"),
        after: |_| vec![],
    },
    Case {
        name: "delete",
        before: |i| vec![create(&format!("/b/n{i}"))],
        timed: |i| delete(&format!("/b/n{i}")),
        after: |_| vec![],
    },
    Case {
        name: "multi",
        before: |i| if i == 0 { vec![create("/b/s")] } else { vec![] },
        timed: |i| Op::multi(vec![create(&format!("/b/m{i}")), set("/b/s")]),
        after: |i| vec![delete(&format!("/b/m{i}"))],
    },
];

fn functions(c: &mut Criterion) {
    bench_cases(c, "", &CASES.iter().collect::<Vec<_>>());
}

/// One criterion group per function (`writer<suffix>`, `distributor<suffix>`),
/// timing that function's share of each case's write.
fn bench_cases(c: &mut Criterion, suffix: &str, cases: &[&Case]) {
    for (function, pick) in [
        ("writer", (|s: Spent| s.writer) as fn(Spent) -> Duration),
        ("distributor", |s: Spent| s.distributor),
    ] {
        let mut group = c.benchmark_group(format!("{function}{suffix}"));
        for case in cases {
            let mut world = World::new();
            let mut next = 0u64;
            group.bench_function(case.name, |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let i = next;
                        next += 1;
                        for op in (case.before)(i) {
                            world.write(op);
                        }
                        total += pick(world.write((case.timed)(i)));
                        for op in (case.after)(i) {
                            world.write(op);
                        }
                    }
                    total
                })
            });
        }
        group.finish();
    }
}

/// Counts and drops what it is given: the spans' cost up to the exporter's
/// door.
#[derive(Debug, Clone, Default)]
struct Discard(Arc<AtomicUsize>);

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len(), Ordering::Relaxed);
        std::hint::black_box(batch);
        Ok(())
    }
}

/// A `set` again, with tracing on as in a function with an OTLP endpoint:
/// the OpenTelemetry layer records every span of the write and hands each
/// finished span to an exporter. What this adds to the untraced `set` is
/// the functions' CPU cost of tracing, up to the export: the OTLP encoding
/// and the HTTP send happen in the batch exporter's thread and at the
/// flush after the invocation, and are not in it.
fn traced(c: &mut Criterion) {
    let exported = Discard::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exported.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    let _traced = tracing::subscriber::set_default(subscriber);
    let set: Vec<&Case> = CASES.iter().filter(|c| c.name == "set").collect();
    bench_cases(c, "-traced", &set);
    // The traced runs must have traced: the write's spans reached the exporter.
    assert!(
        exported.0.load(Ordering::Relaxed) > 0,
        "no span was exported"
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = functions, traced
}
criterion_main!(benches);
