//! What a one-shot `fk` command costs end to end (process start to exit,
//! against the local stack on an S3 store): `fk create` (a write) and
//! `fk get` (a read), each run `--runs` times in a row, and the same create
//! from a library client in an open session (the write itself); prints the
//! median and p90 of each.
//!
//!     cargo run -p fk-e2e --example cli_oneshot -- [--runs 20]

use std::time::{Duration, Instant};

use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what}: median {:.0} ms, p90 {:.0} ms over {} runs",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.9).as_secs_f64() * 1e3,
        times.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .map(|n| n.parse().expect("--runs N"))
        .unwrap_or(20);
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    // One command first: the binary's pages in the cache, as for a user.
    assert!(stack.fk(&["create", "/warm", "x"]).status.success());
    let mut writes = Vec::new();
    let mut reads = Vec::new();
    for i in 0..runs {
        let path = format!("/oneshot-{i}");
        let start = Instant::now();
        let out = stack.fk(&["create", &path, "data"]);
        writes.push(start.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let start = Instant::now();
        let out = stack.fk(&["get", &path]);
        reads.push(start.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    report("fk create (one-shot write)", writes);
    report("fk get (one-shot read)", reads);

    // The write itself: the same creates in one open session.
    let client = fk_client::Client::connect(&stack.deployment).await.unwrap();
    let mut in_session = Vec::new();
    for i in 0..runs {
        let start = Instant::now();
        client
            .create(
                &format!("/in-session-{i}"),
                b"data",
                fk_client::CreateMode::Persistent,
            )
            .await
            .unwrap();
        in_session.push(start.elapsed());
    }
    report("create in an open session (the write itself)", in_session);
    client.close().await.unwrap();
}
