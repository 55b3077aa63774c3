//! End-to-end latency of writes and reads, and write throughput by number
//! of sessions, on the local stack and on ZooKeeper.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fk_core::CreateMode;
use fk_e2e::Stack;
use serde::Serialize;
use zookeeper_client as zkc;

use crate::stats::percentiles;

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub ops: usize,
    /// p50, p95, p99 (ms) of `set` of a 4-byte node, one session.
    pub write: [f64; 3],
    /// The same of `get`.
    pub read: [f64; 3],
}

#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub sessions: usize,
    pub writes_per_s: f64,
    /// moto's CPU over the run, in % of one core (our stack's runs only).
    #[serde(skip)]
    pub emulator_cpu: Option<f64>,
}

/// CPU seconds used so far by the moto server process, if it is found.
fn moto_cpu_s() -> Option<f64> {
    let ticks = 100.0; // USER_HZ on Linux
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmdline).contains("moto_server") {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let (utime, stime): (f64, f64) =
            (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
        return Some((utime + stime) / ticks);
    }
    None
}

pub const SESSIONS: [usize; 3] = [1, 4, 16];

fn progress(i: usize, ops: usize) {
    let step = (ops / 10).max(1);
    if i % step == step - 1 {
        eprint!(".");
    }
}

pub async fn ours(stack: &Stack, ops: usize) -> Latency {
    let zk = stack.client().await;
    zk.create("/lat", b"1234", CreateMode::Persistent)
        .await
        .unwrap();
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    for i in 0..ops {
        let t = Instant::now();
        zk.set_data("/lat", b"abcd", None).await.unwrap();
        writes.push(t.elapsed());
        progress(i, ops);
    }
    for i in 0..ops {
        let t = Instant::now();
        zk.get_data("/lat").await.unwrap();
        reads.push(t.elapsed());
        progress(i, ops);
    }
    zk.close().await.unwrap();
    Latency {
        ops,
        write: percentiles(&mut writes),
        read: percentiles(&mut reads),
    }
}

pub async fn ours_throughput(stack: &Stack, seconds: f64) -> Vec<Throughput> {
    let mut out = Vec::new();
    for sessions in SESSIONS {
        let clients = futures::future::join_all((0..sessions).map(|_| stack.client())).await;
        for (i, zk) in clients.iter().enumerate() {
            zk.create(&format!("/tp{sessions}-{i}"), b"", CreateMode::Persistent)
                .await
                .unwrap();
        }
        let done = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let tasks = clients.iter().enumerate().map(|(i, zk)| {
            let (zk, done) = (zk.clone(), done.clone());
            async move {
                let path = format!("/tp{sessions}-{i}");
                while Instant::now() < deadline {
                    zk.set_data(&path, b"abcd", None).await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let start = Instant::now();
        let moto_start = moto_cpu_s();
        futures::future::join_all(tasks).await;
        let elapsed = start.elapsed().as_secs_f64();
        out.push(Throughput {
            sessions,
            writes_per_s: done.load(Ordering::Relaxed) as f64 / elapsed,
            emulator_cpu: moto_start
                .zip(moto_cpu_s())
                .map(|(a, b)| (b - a) / elapsed * 100.0),
        });
        for zk in clients {
            let _ = zk.close().await;
        }
        eprint!(".");
    }
    out
}

async fn zk_client(connect: &str) -> zkc::Client {
    zkc::Client::connect(connect)
        .await
        .expect("ZooKeeper answers")
}

fn persistent() -> zkc::CreateOptions<'static> {
    zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all())
}

pub async fn zookeeper(connect: &str, ops: usize) -> Latency {
    let zk = zk_client(connect).await;
    let _ = zk.create("/lat", b"1234", &persistent()).await;
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    for _ in 0..ops {
        let t = Instant::now();
        zk.set_data("/lat", b"abcd", None).await.unwrap();
        writes.push(t.elapsed());
    }
    for _ in 0..ops {
        let t = Instant::now();
        zk.get_data("/lat").await.unwrap();
        reads.push(t.elapsed());
    }
    Latency {
        ops,
        write: percentiles(&mut writes),
        read: percentiles(&mut reads),
    }
}

pub async fn zookeeper_throughput(connect: &str, seconds: f64) -> Vec<Throughput> {
    let mut out = Vec::new();
    for sessions in SESSIONS {
        let mut clients = Vec::new();
        for i in 0..sessions {
            let zk = zk_client(connect).await;
            let _ = zk
                .create(&format!("/tp{sessions}-{i}"), b"", &persistent())
                .await;
            clients.push(zk);
        }
        let done = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let tasks = clients.into_iter().enumerate().map(|(i, zk)| {
            let done = done.clone();
            tokio::spawn(async move {
                let path = format!("/tp{sessions}-{i}");
                while Instant::now() < deadline {
                    zk.set_data(&path, b"abcd", None).await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        });
        let start = Instant::now();
        futures::future::join_all(tasks).await;
        out.push(Throughput {
            sessions,
            writes_per_s: done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64(),
            emulator_cpu: None,
        });
    }
    out
}
