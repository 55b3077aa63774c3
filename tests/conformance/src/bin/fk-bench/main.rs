//! `make bench`: measures the local stack, the functions and ZooKeeper, and
//! writes `docs/BENCHMARKS.md` and the cost model's profile
//! (`crates/cli/data/profile.json`). Run by `scripts/bench.sh`, which builds
//! in release, runs the criterion benches first and sets:
//!
//! | variable | meaning |
//! |---|---|
//! | `FK_BENCH_OPS` | operations per latency series (default 1000) |
//! | `FK_BENCH_CPU_WRITES` | writes per series of the functions' CPU (default 250) |
//! | `FK_BENCH_CPU_ROUNDS` | rounds of each CPU series with more than one session, in one stack; the median round is reported (default 3) |
//! | `FK_BENCH_SECONDS` | seconds per throughput point (default 4) |
//! | `FK_BENCH_STORES` | user stores measured (default `s3,dynamodb,redis`) |
//! | `FK_BENCH_OUT`, `FK_BENCH_PROFILE` | where the document and the profile go |
//! | `FK_BENCH_CRITERION` | criterion's output directory |
//! | `FK_BENCH_ZIPS` | directory of `<fn>/bootstrap.zip` |
//! | `FK_BENCH_MODEL_ONLY` | `1` (or the argument `--model-only`): only the model of the design (`model/`), in seconds and without the emulator; rewrites its part of `FK_BENCH_OUT` and nothing else |
//! | `FK_BENCH_DATE`, `_COMMIT`, `_CPU`, `_CORES`, `_LOAD`, `_BUILD_S` | the run's circumstances |
//!
//! `fk-bench cpu [STORE…]` measures only the functions' CPU per write (SDK
//! included) and prints it, writing nothing (`FK_BENCH_CPU_SESSIONS=1,16`:
//! also with 16 sessions writing at once, so that the functions batch;
//! default 1): the loop for profiling them
//! (`scripts/profile-functions.sh`). `fk-bench sdk` prints the CPU of one
//! SDK call in isolation, warm and cold, with and without keep-alive.
//! `fk-bench model [STORE…]` runs the model and prints its points, writing
//! nothing (`FK_BENCH_MODEL_SESSIONS=64`: only those numbers of sessions).

mod calls;
mod coldstart;
mod cost;
mod cpu;
mod latency;
mod model;
mod model_report;
mod report;
mod sdk;
mod stats;

use std::path::PathBuf;
use std::time::Instant;

use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

/// Reported in name order (a map): dynamodb, redis, s3.
pub const STORES: [(&str, StoreKind); 3] = [
    ("s3", StoreKind::S3),
    ("dynamodb", StoreKind::Dynamodb),
    ("redis", StoreKind::Redis),
];

/// A user-storage call on AWS, p50 ms (numbers.md: S3 PUT 20, DynamoDB
/// PutItem 4.4–4.9, Redis under 1).
pub const MODEL_USER_CALL_MS: [(&str, u64); 3] = [("s3", 20), ("dynamodb", 5), ("redis", 1)];

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // The local runner's warnings (a function timed out or died and was
    // restarted) on stderr, with the figures they may spoil.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FK_BENCH_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let ops: usize = var("FK_BENCH_OPS", "1000").parse().unwrap();
    let cpu_writes: usize = var("FK_BENCH_CPU_WRITES", "250").parse().unwrap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("cpu") {
        return cpu_only(&args[1..], cpu_writes).await;
    }
    if args.first().map(String::as_str) == Some("model") {
        // The model's runs, printed; nothing written.
        let seconds: f64 = var("FK_BENCH_SECONDS", "4").parse().unwrap();
        let stores = if args.len() > 1 {
            args[1..].join(",")
        } else {
            var("FK_BENCH_STORES", "s3,dynamodb,redis")
        };
        return run_model(&mut report::Results::default(), &stores, seconds).await;
    }
    if args.first().map(String::as_str) == Some("sdk") {
        // Its own runtime, on its own thread: one thread's CPU is measured.
        std::thread::spawn(|| sdk::run(2000)).join().unwrap();
        return;
    }
    let seconds: f64 = var("FK_BENCH_SECONDS", "4").parse().unwrap();
    let started = Instant::now();
    let mut results = report::Results::default();
    let only = var("FK_BENCH_STORES", "s3,dynamodb,redis");
    let out = PathBuf::from(var("FK_BENCH_OUT", "docs/BENCHMARKS.md"));
    let model_only =
        var("FK_BENCH_MODEL_ONLY", "0") == "1" || std::env::args().any(|a| a == "--model-only");
    if model_only {
        run_model(&mut results, &only, seconds).await;
        let doc = std::fs::read_to_string(&out).unwrap_or_else(|e| {
            panic!("{}: {e} (the model rewrites its part of it)", out.display())
        });
        let doc = model_report::splice(&doc, &results)
            .unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        std::fs::write(&out, doc).unwrap();
        step(&format!("rewrote the model's part of {}", out.display()));
        return;
    }
    for (name, store) in STORES {
        if !only.split(',').any(|s| s == name) {
            continue;
        }
        step(&format!("{name}: AWS calls per operation"));
        let mut options = StackOptions::new(store);
        // One writer: one log file per function, read in order.
        options.writers = 1;
        let stack = Stack::start(options).await;
        results
            .calls
            .insert(name.into(), calls::measure(&stack).await);
        stack.stop().await;

        step(&format!(
            "{name}: CPU per write in the functions, {cpu_writes} writes of each op"
        ));
        results.cpu.insert(name.into(), {
            let mut rows = Vec::new();
            for sessions in cpu::SESSIONS {
                rows.extend(cpu::measure(store, cpu_writes, sessions).await);
            }
            rows
        });

        let stack = Stack::start(StackOptions::new(store)).await;
        step(&format!("{name}: latency, {ops} writes and {ops} reads"));
        results
            .latency
            .insert(name.into(), latency::ours(&stack, ops).await);
        step(&format!(
            "{name}: write throughput, 1/4/16 sessions, {seconds} s each"
        ));
        results
            .throughput
            .insert(name.into(), latency::ours_throughput(&stack, seconds).await);
        stack.stop().await;
    }
    run_model(&mut results, &only, seconds).await;
    step("ZooKeeper 3.8: latency and throughput");
    let zk = &fk_testkit::zookeeper().connect;
    results.zookeeper_latency = Some(latency::zookeeper(zk, ops).await);
    results.zookeeper_throughput = latency::zookeeper_throughput(zk, seconds).await;

    step("cold start and peak RSS of each function");
    let bin_dir = fk_e2e::binary("fk-writer").parent().unwrap().to_path_buf();
    results.cold = coldstart::measure(&bin_dir, &fk_testkit::moto().endpoint).await;
    results.bin_dir = bin_dir;
    results.zip_dir = std::env::var_os("FK_BENCH_ZIPS").map(PathBuf::from);
    results.criterion_dir = PathBuf::from(var("FK_BENCH_CRITERION", "target/criterion"));
    results.measure_s = started.elapsed().as_secs_f64();
    results.load_end = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();

    let profile = PathBuf::from(var("FK_BENCH_PROFILE", "crates/cli/data/profile.json"));
    std::fs::write(&out, report::markdown(&results)).unwrap();
    std::fs::write(&profile, report::profile(&results)).unwrap();
    step(&format!(
        "wrote {} and {} ({:.0} s of measurements)",
        out.display(),
        profile.display(),
        results.measure_s
    ));
}

/// `fk-bench cpu [STORE…]`: the functions' CPU per write only, printed.
async fn cpu_only(stores: &[String], writes: usize) {
    let sessions: Vec<usize> = var("FK_BENCH_CPU_SESSIONS", "1")
        .split(',')
        .map(|n| n.trim().parse().expect("FK_BENCH_CPU_SESSIONS: numbers"))
        .collect();
    let stores: Vec<&str> = if stores.is_empty() {
        vec!["s3"]
    } else {
        stores.iter().map(String::as_str).collect()
    };
    let mut all = std::collections::BTreeMap::new();
    for name in stores {
        let (_, store) = STORES
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("unknown store {name}: s3, dynamodb or redis"));
        for &n in &sessions {
            step(&format!(
                "{name}: CPU per write, {writes} writes of each op from {n} session(s)"
            ));
            let rows = cpu::measure(*store, writes, n).await;
            println!("\n{n} session(s) at once:\n{}", cpu::table(name, &rows));
            all.entry(name.to_string())
                .or_insert_with(Vec::new)
                .extend(rows);
        }
    }
    // The section `make bench` writes into docs/BENCHMARKS.md.
    let mut section = String::new();
    report::sdk_cpu_section(&mut section, &all);
    println!("{section}");
}

/// The design in process with AWS's delays: each store, before and after
/// group commit, at each number of sessions; after, also with
/// [`model::PIPELINED`] writes in flight per session.
async fn run_model(results: &mut report::Results, only: &str, seconds: f64) {
    let sessions: Vec<usize> = match std::env::var("FK_BENCH_MODEL_SESSIONS") {
        Ok(list) => list.split(',').map(|n| n.trim().parse().unwrap()).collect(),
        Err(_) => model::SESSIONS.to_vec(),
    };
    step(&format!(
        "the design without the emulator (in process, AWS delays), before and after group \
         commit, {sessions:?} sessions, {seconds} s each"
    ));
    results.model_seconds = seconds;
    let run = std::time::Duration::from_secs_f64(seconds);
    for (name, user_call_ms) in MODEL_USER_CALL_MS {
        if !only.split(',').any(|s| s == name) {
            continue;
        }
        let delays = model::Delays::aws(user_call_ms);
        // At the targets' load, pipelined, each store's clients also send
        // each write alone and as many as a call carries, where that is
        // not the store's default.
        let others = [1, 10]
            .into_iter()
            .filter(|&writes| {
                writes != model::client_batch(name) && sessions.contains(&model::TARGET_SESSIONS)
            })
            .map(|writes| {
                (
                    model::Mode::Batched,
                    model::PIPELINED,
                    model::TARGET_SESSIONS,
                    Some(writes),
                )
            });
        let runs = model::RUNS
            .iter()
            .flat_map(|&(mode, in_flight)| {
                sessions.iter().map(move |&n| (mode, in_flight, n, None))
            })
            .chain(others);
        for (mode, in_flight, n, batch_sends) in runs {
            {
                let point = model::run(delays, name, mode, (n, in_flight), batch_sends, run).await;
                eprintln!(
                    "  {name} {mode:?} {n:>3} sessions × {} in flight{}: {:.1} writes/s, \
                     p50 {:.1} ms, p99 {:.1} ms, {:.2} calls/write, ${:.2}/M writes, \
                     {:.1} ({:.0} ms) / {:.1} ({:.0} ms) writes per writer / distributor \
                     invocation, {:.3} transactions per write",
                    point.in_flight,
                    batch_sends.map_or(String::new(), |w| format!(" (up to {w} writes a send)")),
                    point.writes_per_s,
                    point.latency_ms[0],
                    point.latency_ms[2],
                    point.calls_per_write(),
                    cost::per_million_writes(&point),
                    point.counts.writer.batch(),
                    point.counts.writer.mean_ms(),
                    point.counts.distributor.batch(),
                    point.counts.distributor.mean_ms(),
                    point.counts.transactions() as f64 / point.writes.max(1) as f64,
                );
                results.model.entry(name.into()).or_default().push(point);
            }
        }
    }
}

fn step(what: &str) {
    eprintln!("\n[bench {}] {what}", chrono_now());
}

fn chrono_now() -> String {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60)
}
