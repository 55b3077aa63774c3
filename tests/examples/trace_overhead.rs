//! What tracing costs a write, and what one traced write looks like, on the
//! local stack.
//!
//! ```text
//! cargo run -p fk-e2e --example trace_overhead -- [writes] [off|on|both]
//! ```
//!
//! Runs `writes` (default 200) `set_data` calls on a node another session
//! watches, with tracing off, then (`both`, the default) with every
//! function and the client exporting to an OTLP/HTTP receiver in this
//! process; prints p50/p90 of each, and the waterfall of the last traced
//! write. The emulator's state grows with every stack, so for a fair
//! comparison alternate single modes in separate runs (off, on, off, on).

use std::time::{Duration, Instant};

use fk_client::CreateMode;
use fk_e2e::stats::quantile;
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;
use fk_traces::waterfall;

/// `writes` sets of `/o` while another session keeps a data watch on it;
/// the latencies in ms, sorted.
async fn run(stack: &Stack, writes: usize) -> Vec<f64> {
    let writer = stack.client().await;
    let watcher = stack.client().await;
    writer
        .create("/o", b"", CreateMode::Persistent)
        .await
        .unwrap();
    let mut latencies = Vec::with_capacity(writes);
    for i in 0..writes {
        watcher.get_data_and_watch("/o").await.unwrap();
        let started = Instant::now();
        writer
            .set_data("/o", i.to_string().as_bytes(), None)
            .await
            .unwrap();
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    writer.close().await.unwrap();
    watcher.close().await.unwrap();
    latencies.sort_by(f64::total_cmp);
    latencies
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let writes: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().unwrap())
        .unwrap_or(200);

    let mode = std::env::args().nth(2).unwrap_or_else(|| "both".into());
    let mut results = Vec::new();
    if mode != "on" {
        let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
        results.push(("tracing off", run(&stack, writes).await));
        stack.stop().await;
    }
    if mode != "off" {
        traced(writes, &mut results).await;
    }
    println!("{writes} set_data on a watched node, S3 user store, local stack");
    for (name, l) in &results {
        println!(
            "{name:<12} p50 {:>7.1} ms   p90 {:>7.1} ms",
            quantile(l, 0.5),
            quantile(l, 0.9)
        );
    }
}

/// The traced run; prints the waterfall of its last write.
async fn traced(writes: usize, results: &mut Vec<(&'static str, Vec<f64>)>) {
    let (receiver, telemetry, stack) = fk_e2e::traced_stack().await;
    let on = run(&stack, writes).await;
    telemetry.flush();
    // The functions flushed after each invocation; give the last watch
    // event's client span a moment to be exported.
    let (_, spans) = receiver
        .wait_for(Duration::from_secs(10), |spans| {
            telemetry.flush();
            spans.iter().filter(|s| s.name == "zk.watch_event").count() >= writes
        })
        .await;
    stack.stop().await;

    results.push(("tracing on", on));
    let last = spans
        .iter()
        .filter(|s| s.name == "zk.set_data")
        .max_by_key(|s| s.start_ns)
        .expect("traced writes");
    let trace: Vec<_> = spans
        .iter()
        .filter(|s| s.trace_id == last.trace_id)
        .cloned()
        .collect();
    println!("the last traced write (trace {}):", last.trace_id);
    print!("{}", waterfall(&trace));
    telemetry.shutdown();
}
