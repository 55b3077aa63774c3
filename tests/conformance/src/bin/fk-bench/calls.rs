//! AWS calls per operation, counted: the client's own counter and each
//! function's `handled` log lines, around one operation at a time.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use fk_core::{CreateMode, Op};
use fk_e2e::Stack;
use serde::Serialize;

use crate::stats::{median, median_calls};

/// How many times each operation is repeated (the median is kept).
const REPS: usize = 3;
pub const OPS: [&str; 7] = ["create", "set", "delete", "multi", "get", "exists", "ls"];

#[derive(Debug, Clone, Serialize)]
pub struct OpCalls {
    pub op: String,
    pub watched: bool,
    pub client: BTreeMap<String, f64>,
    pub writer: BTreeMap<String, f64>,
    pub distributor: BTreeMap<String, f64>,
    pub watch: BTreeMap<String, f64>,
    pub writer_ms: f64,
    pub distributor_ms: f64,
}

impl OpCalls {
    pub fn total(&self) -> f64 {
        [&self.client, &self.writer, &self.distributor, &self.watch]
            .iter()
            .flat_map(|m| m.values())
            .sum()
    }
}

const FUNCTIONS: [&str; 3] = ["writer", "distributor", "watch"];

fn counts(stack: &Stack) -> [usize; 3] {
    FUNCTIONS.map(|f| stack.handled(f).len())
}

pub async fn measure(stack: &Stack) -> Vec<OpCalls> {
    let zk = stack.client().await;
    let watcher = stack.client().await;
    let mut events = watcher.subscribe().unwrap();
    zk.create("/c", b"", CreateMode::Persistent).await.unwrap();
    zk.create("/c/r", b"1234", CreateMode::Persistent)
        .await
        .unwrap();
    let mut out = Vec::new();
    for watched in [false, true] {
        for op in OPS {
            let mut reps = Vec::new();
            let (mut writer_ms, mut distributor_ms) = (Vec::new(), Vec::new());
            for i in 0..REPS {
                let path = format!("/c/{op}-{watched}-{i}");
                let data = Bytes::from_static(b"1234");
                // Untimed preparation: the node, the watch.
                if matches!(op, "set" | "delete") {
                    zk.create(&path, b"1234", CreateMode::Persistent)
                        .await
                        .unwrap();
                }
                let write = matches!(op, "create" | "set" | "delete" | "multi");
                if watched && write {
                    match op {
                        "set" => drop(watcher.get_data_and_watch(&path).await.unwrap()),
                        _ => drop(watcher.exists_and_watch(&path).await.unwrap()),
                    }
                }
                settle(stack).await;
                zk.calls().take();
                watcher.calls().take();
                let before = counts(stack);
                match (op, watched) {
                    ("create", _) => drop(
                        zk.create(&path, b"1234", CreateMode::Persistent)
                            .await
                            .unwrap(),
                    ),
                    ("set", _) => drop(zk.set_data(&path, b"abcd", None).await.unwrap()),
                    ("delete", _) => zk.delete(&path, None).await.unwrap(),
                    ("multi", _) => drop(
                        zk.multi(vec![
                            Op::Create {
                                path: path.clone(),
                                data: data.clone(),
                                mode: CreateMode::Persistent,
                            },
                            Op::SetData {
                                path: "/c/r".into(),
                                data,
                                version: None,
                            },
                        ])
                        .await
                        .unwrap(),
                    ),
                    ("get", false) => drop(zk.get_data("/c/r").await.unwrap()),
                    ("get", true) => drop(zk.get_data_and_watch("/c/r").await.unwrap()),
                    ("exists", false) => drop(zk.exists("/c/r").await.unwrap()),
                    ("exists", true) => drop(zk.exists_and_watch("/c/r").await.unwrap()),
                    ("ls", false) => drop(zk.get_children("/c/r").await.unwrap()),
                    ("ls", true) => drop(zk.get_children_and_watch("/c/r").await.unwrap()),
                    _ => unreachable!(),
                }
                if watched && write {
                    let _ = tokio::time::timeout(Duration::from_secs(10), events.recv()).await;
                }
                // The functions log after they answer: wait for their lines.
                let expect = [
                    usize::from(write),
                    usize::from(write),
                    usize::from(watched && write),
                ];
                let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                let mut after = counts(stack);
                while (0..3).any(|f| after[f] < before[f] + expect[f])
                    && tokio::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    after = counts(stack);
                }
                let mut rep: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
                let mut client = zk.calls().take();
                for (k, v) in watcher.calls().take() {
                    *client.entry(k).or_default() += v;
                }
                rep.insert("client".into(), client);
                for (f, function) in FUNCTIONS.iter().enumerate() {
                    let lines = stack.handled(function);
                    let mut sum: BTreeMap<String, u64> = BTreeMap::new();
                    for line in &lines[before[f]..after[f]] {
                        let calls: BTreeMap<String, u64> =
                            serde_json::from_str(line["calls"].as_str().unwrap_or("{}"))
                                .unwrap_or_default();
                        for (k, v) in calls {
                            *sum.entry(k).or_default() += v;
                        }
                        let ms = line["duration_ms"].as_f64().unwrap_or_default();
                        match *function {
                            "writer" => writer_ms.push(ms),
                            "distributor" => distributor_ms.push(ms),
                            _ => {}
                        }
                    }
                    rep.insert(function.to_string(), sum);
                }
                reps.push(rep);
            }
            let of = |name: &str| {
                median_calls(&reps.iter().map(|r| r[name].clone()).collect::<Vec<_>>())
            };
            out.push(OpCalls {
                op: op.to_string(),
                watched,
                client: of("client"),
                writer: of("writer"),
                distributor: of("distributor"),
                watch: of("watch"),
                writer_ms: median(&mut writer_ms),
                distributor_ms: median(&mut distributor_ms),
            });
            eprint!(".");
        }
    }
    eprintln!();
    watcher.close().await.unwrap();
    zk.close().await.unwrap();
    out
}

/// Lets background work (the previous op's log lines, the listener's next
/// long poll) start before a measurement.
async fn settle(_stack: &Stack) {
    tokio::time::sleep(Duration::from_millis(100)).await;
}
