//! Measures the time from a write to its watch event at another session,
//! on the local stack.
//!
//! ```text
//! cargo run -p fk-e2e --example watch_latency -- [s3|dynamodb|redis] [events]
//! ```
//!
//! One session sets `/w` over and over; another holds a one-shot data watch
//! on it, re-armed after each event (as ZooKeeper recipes do). Reported:
//! from the start of the write to the event's arrival, and from the
//! write's reply to the event (negative: the event came first).

use std::time::{Duration, Instant};

use fk_client::{CreateMode, EventType};
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store = match args.get(1).map(String::as_str).unwrap_or("s3") {
        "s3" => StoreKind::S3,
        "dynamodb" => StoreKind::Dynamodb,
        "redis" => StoreKind::Redis,
        other => panic!("unknown store {other}: s3, dynamodb or redis"),
    };
    let events: usize = args.get(2).map(|n| n.parse().unwrap()).unwrap_or(200);
    let stack = Stack::start(StackOptions::new(store)).await;
    let writer = stack.client().await;
    let watcher = stack.client().await;
    let mut stream = watcher.subscribe().unwrap();
    writer
        .create("/w", b"0", CreateMode::Persistent)
        .await
        .unwrap();

    let mut to_event = Vec::with_capacity(events);
    let mut reply_to_event = Vec::with_capacity(events);
    for i in 0..events {
        watcher.get_data_and_watch("/w").await.unwrap();
        let started = Instant::now();
        let write = async {
            writer
                .set_data("/w", i.to_string().as_bytes(), None)
                .await
                .unwrap();
            started.elapsed()
        };
        let event = async {
            let event = stream.recv().await.unwrap();
            assert_eq!(event.event_type, EventType::NodeDataChanged);
            started.elapsed()
        };
        let (replied, notified) = tokio::join!(write, event);
        to_event.push(notified);
        reply_to_event.push(notified.as_secs_f64() - replied.as_secs_f64());
    }
    to_event.sort();
    reply_to_event.sort_by(f64::total_cmp);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| ((events as f64 - 1.0) * q).round() as usize;
    println!("store: {store:?}, {events} events, one writer, one watcher");
    println!(
        "write start -> event: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(to_event[at(0.5)]),
        ms(to_event[at(0.95)]),
        ms(*to_event.last().unwrap())
    );
    println!(
        "write reply -> event: p50 {:+.1} ms, p95 {:+.1} ms",
        reply_to_event[at(0.5)] * 1e3,
        reply_to_event[at(0.95)] * 1e3
    );
    watcher.close().await.unwrap();
    writer.close().await.unwrap();
    stack.stop().await;
}
