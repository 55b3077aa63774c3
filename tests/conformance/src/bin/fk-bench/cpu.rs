//! CPU per write inside the function processes, AWS SDK included.
//!
//! fk-local runs each function as its own process (a child of this one,
//! under its Runtime API), so the kernel's per-process CPU accounting
//! (`utime + stime` of `/proc/<pid>/stat`, every thread, live or exited)
//! is the functions' whole CPU: our logic, the SDK (request building,
//! signing, HTTP, parsing), serialisation, logging and the runtime loop.
//! One writer instance and one distributor. With one session writing in a
//! row every invocation carries one record; with several sessions writing
//! at once (each its own nodes) the functions get batches, as under load.
//! Start-up is left out: the counters are read after a warm-up, before
//! and after each series.

use std::collections::BTreeMap;

use fk_core::CreateMode;
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;
use serde::Serialize;

/// The write operations measured, in the order they run (the deletes
/// remove what the creates made).
pub const OPS: [&str; 3] = ["set", "create", "delete"];

/// The function processes measured, by binary name.
pub const FUNCTIONS: [&str; 2] = ["fk-writer", "fk-distributor"];

/// How many sessions write at once in each series `make bench` measures:
/// one (a record per invocation), and 16 and 64 (the functions batch, the
/// distributor's invocations holding several writers' bundles).
pub const SESSIONS: [usize; 3] = [1, 16, 64];

/// Rounds of each series with more than one session (`FK_BENCH_CPU_ROUNDS`,
/// default 3), in one stack: how many records an invocation gets depends on
/// how fast everything else on the machine runs, so single rounds differ
/// by up to a quarter. The figure is the median round's. One session (one
/// record per invocation) varies little and runs once.
pub fn rounds(sessions: usize) -> usize {
    if sessions == 1 {
        return 1;
    }
    std::env::var("FK_BENCH_CPU_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3)
}

/// Memory sizes for the modelled latency: Lambda gives a function CPU in
/// proportion to its memory, one vCPU at 1,769 MB.
pub const MEMORY_MB: [f64; 3] = [128.0, 256.0, 1024.0];
pub const MB_PER_VCPU: f64 = 1769.0;

#[derive(Debug, Clone, Serialize)]
pub struct CpuPerWrite {
    pub op: &'static str,
    /// Sessions writing at once.
    pub sessions: usize,
    pub writes: usize,
    /// CPU ms per write, by function binary name.
    pub ms: BTreeMap<&'static str, f64>,
    /// Writes per invocation, by function binary name: how many writes
    /// share each invocation's own calls (the Runtime API's, the writer's
    /// push, the distributor's commit).
    pub batch: BTreeMap<&'static str, f64>,
    /// The total of each round, in the order they ran; the figures above
    /// are the median round's.
    pub rounds: Vec<f64>,
    /// Rounds left out because a function process started or stopped
    /// during them.
    pub dropped: usize,
}

impl CpuPerWrite {
    pub fn total(&self) -> f64 {
        self.ms.values().sum()
    }

    /// Each round's total (`0.94, 0.86, 1.02`), or `–` for a single round,
    /// and how many were left out.
    pub fn rounds_listed(&self) -> String {
        let mut listed = if self.rounds.len() < 2 {
            "–".to_string()
        } else {
            let totals: Vec<String> = self.rounds.iter().map(|t| format!("{t:.2}")).collect();
            totals.join(", ")
        };
        if self.dropped > 0 {
            listed.push_str(&format!(
                " ({} left out: a function process restarted)",
                self.dropped
            ));
        }
        listed
    }
}

/// The wall time `cpu_ms` of CPU takes at `memory_mb`: the CPU share is
/// `memory_mb / 1769` of a vCPU (at most one: one write's path is one
/// thread at a time).
pub fn modelled_ms(cpu_ms: f64, memory_mb: f64) -> f64 {
    cpu_ms * (MB_PER_VCPU / memory_mb).max(1.0)
}

/// CPU seconds of each function process that is a child of this one, by
/// pid: (binary name, seconds).
fn sample() -> BTreeMap<i32, (&'static str, f64)> {
    let mut out = BTreeMap::new();
    for child in fk_e2e::procs::children() {
        if let Some(function) = FUNCTIONS.iter().find(|f| child.runs(f)) {
            out.insert(child.pid, (*function, child.cpu_s));
        }
    }
    out
}

/// CPU ms per function between two samples, over `writes`; `None` if a
/// process is in one sample only (restarted during the series), which
/// spoils it.
fn per_write(
    before: &BTreeMap<i32, (&'static str, f64)>,
    after: &BTreeMap<i32, (&'static str, f64)>,
    writes: usize,
) -> Option<BTreeMap<&'static str, f64>> {
    if !before.keys().eq(after.keys()) {
        return None;
    }
    let mut ms = BTreeMap::new();
    for (pid, (function, s)) in after {
        *ms.entry(*function).or_insert(0.0) += (s - before[pid].1) * 1e3 / writes as f64;
    }
    Some(ms)
}

/// About `writes` of each op of [`OPS`] (`writes / sessions` from each of
/// `sessions` sessions at once, each on its own node `/cpu<j>`) on a fresh
/// stack with `store`, [`rounds`] times, and the functions' CPU ms per
/// write: the median round of each op, with every round's total.
pub async fn measure(store: StoreKind, writes: usize, sessions: usize) -> Vec<CpuPerWrite> {
    let mut options = StackOptions::new(store);
    options.writers = 1;
    let stack = Stack::start(options).await;
    let mut clients = Vec::with_capacity(sessions);
    for j in 0..sessions {
        let zk = stack.client().await;
        zk.create(&format!("/cpu{j}"), b"1234", CreateMode::Persistent)
            .await
            .unwrap();
        clients.push(zk);
    }
    // Warm-up: connections open, lazily built state in place.
    for _ in 0..20 {
        clients[0].set_data("/cpu0", b"abcd", None).await.unwrap();
    }
    let each = (writes / sessions).max(1);
    let mut runs: Vec<Vec<CpuPerWrite>> = OPS.iter().map(|_| Vec::new()).collect();
    let mut dropped = [0; OPS.len()];
    let invocations =
        |stack: &Stack| FUNCTIONS.map(|f| stack.invocations(f.trim_start_matches("fk-")));
    for (i, op) in (0..rounds(sessions)).flat_map(|_| OPS.iter().copied().enumerate()) {
        let before = sample();
        let invoked_before = invocations(&stack);
        // One process of each function, in whatever order of pids (they
        // wrap around on a long run).
        let one_each = before.len() == FUNCTIONS.len()
            && FUNCTIONS
                .iter()
                .all(|f| before.values().any(|(g, _)| g == f));
        if !one_each {
            left_out(
                &format!("{op}, {sessions} sessions: not one process of each function before the round ({before:?})"),
                &stack.log_dir,
            );
            dropped[i] += 1;
            continue;
        }
        let series = clients.iter().enumerate().map(|(j, zk)| async move {
            let node = format!("/cpu{j}");
            for i in 0..each {
                let path = format!("{node}/n{i}");
                match op {
                    "set" => zk.set_data(&node, b"abcd", None).await.map(drop),
                    "create" => zk
                        .create(&path, b"1234", CreateMode::Persistent)
                        .await
                        .map(drop),
                    _ => zk.delete(&path, None).await,
                }
                .unwrap();
            }
        });
        futures::future::join_all(series).await;
        let after = sample();
        let invoked = invocations(&stack);
        let done = each * sessions;
        let batch = FUNCTIONS
            .iter()
            .zip(invoked.iter().zip(invoked_before))
            .map(|(f, (after, before))| (*f, done as f64 / (after - before).max(1) as f64))
            .collect();
        let Some(ms) = per_write(&before, &after, done) else {
            // Its counters mix two processes (a restart is a crash or an
            // invocation past its timeout, which the functions' logs tell
            // apart).
            left_out(
                &format!("{op}, {sessions} sessions: a function process started or stopped during the round ({before:?} → {after:?})"),
                &stack.log_dir,
            );
            dropped[i] += 1;
            continue;
        };
        runs[i].push(CpuPerWrite {
            op,
            sessions,
            writes: done,
            ms,
            batch,
            rounds: Vec::new(),
            dropped: 0,
        });
        eprint!(".");
    }
    let out = runs
        .into_iter()
        .zip(dropped)
        .filter_map(|(runs, dropped)| {
            median_round(runs).map(|median| CpuPerWrite { dropped, ..median })
        })
        .collect();
    for zk in clients {
        zk.close().await.unwrap();
    }
    stack.stop().await;
    out
}

/// Says that a round is left out and why, with the functions' log lines
/// that may tell what happened.
fn left_out(why: &str, log_dir: &std::path::Path) {
    eprintln!("\n{why}; round left out");
    for line in trouble(log_dir) {
        eprintln!("  {line}");
    }
}

/// The functions' log lines that say why a process went away: warnings,
/// errors and anything not in the JSON log format (a panic's message),
/// each prefixed with its log file's name.
fn trouble(log_dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(log_dir) else {
        return out;
    };
    for path in entries.flatten().map(|e| e.path()) {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let plain = match serde_json::from_str::<serde_json::Value>(line) {
                Ok(v) => !matches!(v["level"].as_str(), Some("INFO" | "DEBUG" | "TRACE")),
                Err(_) => true,
            };
            if plain {
                out.push(format!("{name}: {line}"));
            }
        }
    }
    out
}

/// The median of an op's rounds (by total), carrying every round's total;
/// `None` if it never ran.
fn median_round(mut runs: Vec<CpuPerWrite>) -> Option<CpuPerWrite> {
    let totals: Vec<f64> = runs.iter().map(CpuPerWrite::total).collect();
    runs.sort_by(|a, b| a.total().total_cmp(&b.total()));
    let mut median = runs.swap_remove(runs.len().checked_sub(1)? / 2);
    median.rounds = totals;
    Some(median)
}

/// The figures as a plain table (the `cpu` mode's output).
pub fn table(store: &str, rows: &[CpuPerWrite]) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "CPU ms per write, {store} store ({} writes each)",
        rows.first().map_or(0, |r| r.writes)
    );
    let _ = writeln!(
        o,
        "{:<8} {:>10} {:>12} {:>8} {:>9} {:>9} {:>10} {:>19}  rounds' totals",
        "op", "writer", "distributor", "total", "@128MB", "@256MB", "@1024MB", "writes/invocation"
    );
    for r in rows {
        let m = |f: &str| r.ms.get(f).copied().unwrap_or(f64::NAN);
        let b = |f: &str| r.batch.get(f).copied().unwrap_or(f64::NAN);
        let _ = writeln!(
            o,
            "{:<8} {:>10.2} {:>12.2} {:>8.2} {:>9.1} {:>9.1} {:>10.1} {:>19}  {}",
            r.op,
            m("fk-writer"),
            m("fk-distributor"),
            r.total(),
            modelled_ms(r.total(), MEMORY_MB[0]),
            modelled_ms(r.total(), MEMORY_MB[1]),
            modelled_ms(r.total(), MEMORY_MB[2]),
            format!("{:.1} / {:.1}", b("fk-writer"), b("fk-distributor")),
            r.rounds_listed(),
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_that_restarted_spoils_the_round_and_the_listing_says_so() {
        let before = BTreeMap::from([(10, ("fk-writer", 1.0)), (11, ("fk-distributor", 2.0))]);
        let mut after = BTreeMap::from([(10, ("fk-writer", 1.5)), (11, ("fk-distributor", 3.0))]);
        let ms = per_write(&before, &after, 1000).unwrap();
        assert_eq!(ms["fk-writer"], 0.5);
        assert_eq!(ms["fk-distributor"], 1.0);

        after.remove(&11);
        after.insert(12, ("fk-distributor", 0.1));
        assert_eq!(per_write(&before, &after, 1000), None);

        let row = CpuPerWrite {
            op: "set",
            sessions: 64,
            writes: 256,
            ms,
            batch: BTreeMap::new(),
            rounds: vec![1.5, 1.4],
            dropped: 1,
        };
        assert_eq!(
            row.rounds_listed(),
            "1.50, 1.40 (1 left out: a function process restarted)"
        );
    }
}
