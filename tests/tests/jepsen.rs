//! The short Jepsen-style run of `make test`: every store, every fault in
//! turn, histories checked for linearizability and the audit. `make jepsen`
//! runs each fault on its own, for minutes.

use std::time::Duration;

use fk_e2e::jepsen::{self, Fault, RunConfig};
use fk_local::StoreKind;

async fn short_run(store: StoreKind) {
    let seconds = std::env::var("FK_JEPSEN_SHORT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut cfg = RunConfig::new(store, Fault::Mixed, Duration::from_secs(seconds));
    cfg.fault_every = Duration::from_secs(3);
    let summary = jepsen::run(&cfg).await;
    println!("{summary}");
    for anomaly in &summary.anomalies {
        println!("  anomaly: {anomaly}");
    }
    assert!(
        summary.ops >= 10,
        "too few operations to say anything: {summary}"
    );
    assert!(summary.faults > 0, "no fault was injected: {summary}");
    assert!(
        summary.anomalies.is_empty(),
        "{summary}: {:#?}",
        summary.anomalies
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_stays_linearizable_and_exactly_once_under_every_fault() {
    short_run(StoreKind::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_stays_linearizable_and_exactly_once_under_every_fault() {
    short_run(StoreKind::Dynamodb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_stays_linearizable_and_exactly_once_under_every_fault() {
    short_run(StoreKind::Redis).await;
}
