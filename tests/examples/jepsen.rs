//! `make jepsen`: every fault mode on every store, each for a few minutes,
//! one line per run (ops, indeterminate ops, faults injected, anomalies).
//!
//! `cargo run -p fk-e2e --example jepsen -- [--seconds N] [--store S]...
//! [--fault F]... [--history-dir DIR]` inside `scripts/backends.sh run`.
//! Exits with status 1 if any run found an anomaly.

use std::time::Duration;

use fk_e2e::jepsen::{self, Fault, RunConfig};
use fk_local::StoreKind;

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let mut seconds = 180u64;
    let mut stores = Vec::new();
    let mut faults = Vec::new();
    let mut history_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--seconds" => seconds = value().parse().unwrap_or_else(|_| usage("--seconds N")),
            "--store" => stores.push(match value().as_str() {
                "s3" => StoreKind::S3,
                "dynamodb" => StoreKind::Dynamodb,
                "redis" => StoreKind::Redis,
                other => usage(&format!("unknown store {other}")),
            }),
            "--fault" => {
                let name = value();
                faults.push(
                    Fault::parse(&name).unwrap_or_else(|| usage(&format!("unknown fault {name}"))),
                )
            }
            "--history-dir" => history_dir = Some(std::path::PathBuf::from(value())),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if stores.is_empty() {
        stores = vec![StoreKind::S3, StoreKind::Dynamodb, StoreKind::Redis];
    }
    if faults.is_empty() {
        faults = Fault::ALL.to_vec();
    }
    if let Some(dir) = &history_dir {
        std::fs::create_dir_all(dir).expect("the history directory");
    }
    let mut failed = false;
    for store in &stores {
        for fault in &faults {
            let mut cfg = RunConfig::new(*store, *fault, Duration::from_secs(seconds));
            cfg.history_file = history_dir.as_ref().map(|dir| {
                dir.join(format!(
                    "{}-{}.jsonl",
                    format!("{store:?}").to_lowercase(),
                    fault.name()
                ))
            });
            let summary = jepsen::run(&cfg).await;
            println!("{summary}");
            for anomaly in &summary.anomalies {
                println!("  anomaly: {anomaly}");
            }
            failed |= !summary.anomalies.is_empty();
        }
    }
    std::process::exit(i32::from(failed));
}

fn usage(problem: &str) -> ! {
    eprintln!("jepsen: {problem}\nusage: jepsen [--seconds N] [--store s3|dynamodb|redis]... [--fault none|kill|pause|dup-same-id|dup-fresh-id|restart|mixed]... [--history-dir DIR]");
    std::process::exit(2);
}
