//! Measures end-to-end latency of writes and reads on the local stack, and
//! the AWS calls each operation makes in each function.
//!
//! ```text
//! cargo run -p fk-e2e --example latency -- [s3|dynamodb|redis] [ops]
//! ```
//!
//! The stack is the one the end-to-end tests use: moto on loopback, the real
//! function binaries under the local runner. Latencies here are loopback
//! figures, not AWS ones; the call counts are the same on AWS.

use std::collections::BTreeMap;
use std::time::Instant;

use fk_core::CreateMode;
use fk_e2e::stats::{ms, quantile};
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
    let ops: usize = args.get(2).map(|n| n.parse().unwrap()).unwrap_or(200);
    let stack = Stack::start(StackOptions::new(store)).await;
    let zk = stack.client().await;
    zk.create("/bench", b"", CreateMode::Persistent)
        .await
        .unwrap();

    let mut creates = Vec::new();
    let mut sets = Vec::new();
    let mut gets = Vec::new();
    let mut deletes = Vec::new();
    for i in 0..ops {
        let path = format!("/bench/n{i}");
        let t = Instant::now();
        zk.create(&path, b"1234", CreateMode::Persistent)
            .await
            .unwrap();
        creates.push(t.elapsed());
        let t = Instant::now();
        zk.set_data(&path, b"abcd", Some(0)).await.unwrap();
        sets.push(t.elapsed());
        let t = Instant::now();
        zk.get_data(&path).await.unwrap();
        gets.push(t.elapsed());
    }
    for i in 0..ops {
        let t = Instant::now();
        zk.delete(&format!("/bench/n{i}"), None).await.unwrap();
        deletes.push(t.elapsed());
    }

    println!(
        "store: {:?}, {ops} operations each, 4-byte nodes, one session",
        store
    );
    println!(
        "{:<8} {:>9} {:>9} {:>9}",
        "op", "p50 ms", "p95 ms", "p99 ms"
    );
    for (name, mut samples) in [
        ("create", creates),
        ("set", sets),
        ("get", gets),
        ("delete", deletes),
    ] {
        samples.sort();
        println!(
            "{:<8} {:>9.1} {:>9.1} {:>9.1}",
            name,
            ms(quantile(&samples, 0.50)),
            ms(quantile(&samples, 0.95)),
            ms(quantile(&samples, 0.99))
        );
    }
    println!();
    println!("AWS calls per operation (median over the run), by function:");
    for function in ["writer", "distributor"] {
        let mut by_op: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in stack.handled(function) {
            let outcome = line["outcome"].as_str().unwrap_or_default().to_string();
            let op = outcome.split(' ').next().unwrap_or_default().to_string();
            by_op
                .entry(op)
                .or_default()
                .push(line["calls"].as_str().unwrap_or_default().to_string());
        }
        for (op, mut calls) in by_op {
            calls.sort();
            println!("  {function:<12} {op:<9} {}", calls[calls.len() / 2]);
        }
        let mut handler_ms: Vec<f64> = stack
            .handled(function)
            .iter()
            .filter_map(|l| l["duration_ms"].as_f64())
            .collect();
        handler_ms.sort_by(f64::total_cmp);
        if !handler_ms.is_empty() {
            println!(
                "  {function:<12} handler time per message p50 {:.1} ms",
                handler_ms[handler_ms.len() / 2]
            );
        }
    }
    println!("client per write: SQS.SendMessage 1 (the reply arrives on the session's long poll)");
    zk.close().await.unwrap();
    stack.stop().await;
}
