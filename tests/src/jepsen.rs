//! A Jepsen-style test of the local stack: concurrent sessions do set,
//! compare-and-set, sync+get and sequential creates on a few keys while a
//! nemesis injects delivery faults; the history is then checked for
//! linearizability ([`fk_jepsen`]), per-session guarantees, sequential
//! names and an audit of what the service finally holds.
//!
//! Every session is a real `fk_client::Client`; every function is the real
//! binary run by the local runner, so a fault here is what Lambda and SQS
//! can do in production: an instance killed (`kill -9`), an instance paused
//! past the lock lifetime, a message delivered twice (SQS redelivers, and a
//! copy sent with a fresh deduplication id is not deduplicated), the whole
//! stack restarted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use fk_client::{Client, ConnectOptions};
use fk_core::{CreateMode, Error};
use fk_jepsen::{Call, Observed, Operation, Outcome, RegisterState};
use fk_local::StoreKind;

use crate::{Stack, StackOptions};

/// What the nemesis does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// `kill -9` of a writer, distributor or watch instance.
    Kill,
    /// SIGSTOP of a writer or the distributor for longer than the lock
    /// lifetime, then SIGCONT.
    Pause,
    /// A copy of a queued message with its own deduplication id (SQS drops it).
    DuplicateSameId,
    /// A copy of a queued message with a fresh deduplication id.
    DuplicateFreshId,
    /// The whole stack's functions stopped and started again.
    Restart,
    /// Each of the above in turn.
    Mixed,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::None,
        Fault::Kill,
        Fault::Pause,
        Fault::DuplicateSameId,
        Fault::DuplicateFreshId,
        Fault::Restart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Kill => "kill",
            Fault::Pause => "pause",
            Fault::DuplicateSameId => "dup-same-id",
            Fault::DuplicateFreshId => "dup-fresh-id",
            Fault::Restart => "restart",
            Fault::Mixed => "mixed",
        }
    }

    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL
            .into_iter()
            .chain([Fault::Mixed])
            .find(|f| f.name() == name)
    }
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub store: StoreKind,
    pub fault: Fault,
    pub duration: Duration,
    pub sessions: usize,
    /// Operations each session keeps in flight: each lane runs one at a
    /// time and is a process of its own in the history, the session's
    /// lanes share its client (its seqs, its queue, its replies), so a
    /// session's writes are pipelined and reach the functions together.
    pub lanes: usize,
    pub keys: usize,
    /// Time between two faults.
    pub fault_every: Duration,
    /// Where to write the history (JSON lines), if anywhere.
    pub history_file: Option<std::path::PathBuf>,
}

impl RunConfig {
    pub fn new(store: StoreKind, fault: Fault, duration: Duration) -> Self {
        RunConfig {
            store,
            fault,
            duration,
            sessions: 5,
            lanes: 2,
            keys: 3,
            fault_every: Duration::from_secs(3),
            history_file: None,
        }
    }
}

/// The result of one run.
#[derive(Debug)]
pub struct Summary {
    pub store: StoreKind,
    pub fault: Fault,
    pub ops: usize,
    pub indeterminate: usize,
    pub faults: u64,
    pub sequential_creates: usize,
    pub anomalies: Vec<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "jepsen store={:<8} fault={:<12} ops={:<5} indeterminate={:<3} faults={:<3} seq-creates={:<4} anomalies={}",
            format!("{:?}", self.store).to_lowercase(),
            self.fault.name(),
            self.ops,
            self.indeterminate,
            self.faults,
            self.sequential_creates,
            self.anomalies.len()
        )
    }
}

/// The lock lifetime of the test stack: short, so that a pause outlives it.
const LOCK_TTL_MS: i64 = 4_000;
const SEQ_PARENT: &str = "/jepsen-seq";

fn key_path(i: usize) -> String {
    format!("/jepsen-k{i}")
}

/// One sequential create and what became of it.
#[derive(Debug, Clone)]
struct SeqCreate {
    outcome: Result<String, Error>,
}

struct Recorder {
    start: Instant,
    ops: Mutex<Vec<Operation>>,
    creates: Mutex<Vec<SeqCreate>>,
}

impl Recorder {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

/// Runs one test and checks its history.
pub async fn run(cfg: &RunConfig) -> Summary {
    let mut options = StackOptions::new(cfg.store);
    options.lock_ttl_ms = LOCK_TTL_MS;
    options.visibility_timeout_s = 8;
    // Faults make the same message fail several times; it must not reach
    // the dead-letter queue for that.
    options.max_receive_count = 50;
    let mut stack = Stack::start(options).await;
    let setup = stack.client().await;
    for i in 0..cfg.keys {
        setup
            .create(&key_path(i), b"0", CreateMode::Persistent)
            .await
            .expect("creating a key");
    }
    setup
        .create(SEQ_PARENT, b"", CreateMode::Persistent)
        .await
        .expect("creating the sequential parent");

    let recorder = Arc::new(Recorder {
        start: Instant::now(),
        ops: Mutex::new(Vec::new()),
        creates: Mutex::new(Vec::new()),
    });
    let deadline = Instant::now() + cfg.duration;
    let mut workers = tokio::task::JoinSet::new();
    let lanes = cfg.lanes.max(1);
    for session in 0..cfg.sessions {
        let client = Client::connect_with(&stack.deployment, client_options())
            .await
            .expect("a session");
        let recorder = recorder.clone();
        let keys = cfg.keys;
        workers.spawn(async move {
            let lanes = (0..lanes).map(|lane| {
                let process = (session * lanes + lane) as u32;
                lane_ops(process, &client, keys, deadline, &recorder)
            });
            futures::future::join_all(lanes).await;
            let _ = client.close().await;
        });
    }
    let faults = Arc::new(AtomicU64::new(0));
    nemesis(&mut stack, cfg, deadline, &faults).await;
    while let Some(done) = workers.join_next().await {
        done.expect("a worker panicked");
    }

    // Quiet: let every redelivery and copy settle, then read the end state.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reader = Client::connect_with(&stack.deployment, client_options())
        .await
        .expect("a session");
    let final_process = (cfg.sessions * lanes) as u32;
    let mut final_versions = BTreeMap::new();
    for i in 0..cfg.keys {
        let op = read(&reader, final_process, &key_path(i), &recorder).await;
        if let Outcome::Ok(Observed::Read { version, .. }) = op.result {
            final_versions.insert(key_path(i), version);
        }
        recorder.ops.lock().unwrap().push(op);
    }
    reader.sync(SEQ_PARENT).await.expect("sync");
    let children = reader
        .get_children(SEQ_PARENT)
        .await
        .expect("listing the sequential parent");

    let ops = std::mem::take(&mut *recorder.ops.lock().unwrap());
    let creates = std::mem::take(&mut *recorder.creates.lock().unwrap());
    if let Some(file) = &cfg.history_file {
        let out = std::fs::File::create(file).expect("the history file");
        fk_jepsen::write_jsonl(std::io::BufWriter::new(out), &ops).expect("writing the history");
    }
    let mut anomalies = Vec::new();
    let report = fk_jepsen::check(&ops, |_| RegisterState::new(0, 0));
    for key in &report.keys {
        if !key.verdict.is_linearizable() {
            anomalies.push(format!("{}: {:?}", key.key, key.verdict));
        }
    }
    // Session guarantees hold for a whole session, whichever of its
    // lanes wrote or read: check them with each lane as its session.
    let by_session: Vec<Operation> = ops
        .iter()
        .cloned()
        .map(|mut op| {
            op.process /= lanes as u32;
            op
        })
        .collect();
    for anomaly in fk_jepsen::check_sessions(&by_session) {
        anomalies.push(anomaly.to_string());
    }
    anomalies.extend(audit_registers(&ops, &final_versions));
    anomalies.extend(audit_sequential(&creates, &children));
    stack.stop().await;
    Summary {
        store: cfg.store,
        fault: cfg.fault,
        ops: ops.len() + creates.len(),
        indeterminate: report.indeterminate
            + creates.iter().filter(|c| indeterminate(&c.outcome)).count(),
        faults: faults.load(Ordering::Relaxed),
        sequential_creates: creates.len(),
        anomalies,
    }
}

fn client_options() -> ConnectOptions {
    // Longer than a redelivery after a crash (the visibility timeout), so
    // that most faults delay an answer rather than lose it.
    ConnectOptions::default().with_request_timeout(Duration::from_secs(25))
}

fn indeterminate<T>(outcome: &Result<T, Error>) -> bool {
    matches!(outcome, Err(e) if !definite(*e))
}

/// Errors after which the write certainly did not take effect.
fn definite(e: Error) -> bool {
    matches!(
        e,
        Error::BadVersion | Error::NoNode | Error::NodeExists | Error::BadArguments
    )
}

/// One lane of a session: one operation at a time until the deadline.
async fn lane_ops(
    process: u32,
    client: &Client,
    keys: usize,
    deadline: Instant,
    recorder: &Recorder,
) {
    let mut counter = 0i64;
    let mut known_versions: BTreeMap<String, i32> = BTreeMap::new();
    while Instant::now() < deadline {
        counter += 1;
        let value = i64::from(process) * 1_000_000 + counter;
        let key = key_path(rand::random_range(0..keys));
        let roll: u32 = rand::random_range(0..100);
        let op = if roll < 10 {
            let outcome = client
                .create(
                    &format!("{SEQ_PARENT}/n-"),
                    value.to_string().as_bytes(),
                    CreateMode::PersistentSequential,
                )
                .await
                .map(|(path, _)| path)
                .map_err(|e| e.code());
            recorder.creates.lock().unwrap().push(SeqCreate { outcome });
            continue;
        } else if roll < 40 {
            write(client, process, &key, value, None, recorder).await
        } else if roll < 65 {
            let expected = known_versions.get(&key).copied().unwrap_or(0);
            write(client, process, &key, value, Some(expected), recorder).await
        } else {
            read(client, process, &key, recorder).await
        };
        match op.result {
            Outcome::Ok(Observed::Written { version })
            | Outcome::Ok(Observed::Read { version, .. }) => {
                known_versions.insert(key.clone(), version);
            }
            _ => {}
        }
        recorder.ops.lock().unwrap().push(op);
    }
}

async fn write(
    client: &Client,
    process: u32,
    key: &str,
    value: i64,
    expected: Option<i32>,
    recorder: &Recorder,
) -> Operation {
    let invoked_ns = recorder.now_ns();
    let outcome = client
        .set_data(key, value.to_string().as_bytes(), expected)
        .await;
    let completed_ns = Some(recorder.now_ns());
    let result = match outcome {
        Ok(stat) => Outcome::Ok(Observed::Written {
            version: stat.version,
        }),
        Err(e) if definite(e.code()) => Outcome::Fail,
        Err(_) => Outcome::Info,
    };
    let call = match expected {
        None => Call::Write { value },
        Some(expected_version) => Call::Cas {
            expected_version,
            value,
        },
    };
    Operation {
        process,
        key: key.to_string(),
        call,
        invoked_ns,
        completed_ns,
        result,
    }
}

async fn read(client: &Client, process: u32, key: &str, recorder: &Recorder) -> Operation {
    let invoked_ns = recorder.now_ns();
    let outcome = match client.sync(key).await {
        Ok(()) => client.get_data(key).await,
        Err(e) => Err(e),
    };
    let completed_ns = Some(recorder.now_ns());
    let result = match outcome {
        Ok((data, stat)) => Outcome::Ok(Observed::Read {
            value: std::str::from_utf8(&data).ok().and_then(|s| s.parse().ok()),
            version: stat.version,
        }),
        // A read changes nothing: an error is just a read that did not happen.
        Err(_) => Outcome::Info,
    };
    Operation {
        process,
        key: key.to_string(),
        call: Call::Read,
        invoked_ns,
        completed_ns,
        result,
    }
}

/// Each key's version counts its writes: no acknowledged write lost, none
/// applied twice (a doubled write moves the version twice).
fn audit_registers(ops: &[Operation], final_versions: &BTreeMap<String, i32>) -> Vec<String> {
    let mut anomalies = Vec::new();
    for (key, version) in final_versions {
        let writes = ops
            .iter()
            .filter(|o| &o.key == key && !matches!(o.call, Call::Read));
        let ok = writes
            .clone()
            .filter(|o| matches!(o.result, Outcome::Ok(_)))
            .count() as i32;
        let info = writes.filter(|o| matches!(o.result, Outcome::Info)).count() as i32;
        if *version < ok || *version > ok + info {
            anomalies.push(format!(
                "{key}: final version {version}, but {ok} writes were acknowledged and {info} are indeterminate"
            ));
        }
    }
    anomalies
}

/// Sequential names: every acknowledged one present, none twice, the
/// children exactly 0..n (only creates happen under the parent), and no
/// more of them than creates that may have taken effect.
fn audit_sequential(creates: &[SeqCreate], children: &[String]) -> Vec<String> {
    let mut anomalies = Vec::new();
    let present: BTreeSet<&str> = children.iter().map(String::as_str).collect();
    let mut acknowledged = BTreeSet::new();
    for create in creates {
        if let Ok(path) = &create.outcome {
            let name = path.rsplit('/').next().unwrap_or_default();
            if !acknowledged.insert(name.to_string()) {
                anomalies.push(format!("sequential name {name} acknowledged twice"));
            }
            if !present.contains(name) {
                anomalies.push(format!("acknowledged sequential node {path} is missing"));
            }
        }
    }
    let possible = creates
        .iter()
        .filter(|c| c.outcome.is_ok() || indeterminate(&c.outcome))
        .count();
    if children.len() > possible {
        anomalies.push(format!(
            "{} sequential nodes, but only {possible} creates may have taken effect",
            children.len()
        ));
    }
    let mut numbers: Vec<u64> = children
        .iter()
        .filter_map(|c| c.strip_prefix("n-").and_then(|n| n.parse().ok()))
        .collect();
    numbers.sort_unstable();
    if numbers.iter().enumerate().any(|(i, n)| *n != i as u64) {
        anomalies.push(format!(
            "sequential names are not 0..{}: {numbers:?}",
            numbers.len()
        ));
    }
    anomalies
}

/// Injects `cfg.fault` every `cfg.fault_every` until `deadline`.
async fn nemesis(stack: &mut Stack, cfg: &RunConfig, deadline: Instant, faults: &AtomicU64) {
    let mut round = 0usize;
    loop {
        let next = Instant::now() + cfg.fault_every;
        if next >= deadline {
            tokio::time::sleep_until(deadline.into()).await;
            return;
        }
        tokio::time::sleep_until(next.into()).await;
        let fault = match cfg.fault {
            Fault::Mixed => Fault::ALL[1 + round % (Fault::ALL.len() - 1)],
            other => other,
        };
        round += 1;
        if inject(stack, fault).await {
            faults.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn inject(stack: &mut Stack, fault: Fault) -> bool {
    match fault {
        Fault::None | Fault::Mixed => false,
        Fault::Kill => {
            let targets = function_processes(&["fk-writer", "fk-distributor", "fk-watch"]);
            match pick(&targets) {
                Some(pid) => signal(pid, libc::SIGKILL),
                None => false,
            }
        }
        Fault::Pause => {
            let targets = function_processes(&["fk-writer", "fk-distributor"]);
            let Some(pid) = pick(&targets) else {
                return false;
            };
            if !signal(pid, libc::SIGSTOP) {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(LOCK_TTL_MS as u64 + 1_000)).await;
            signal(pid, libc::SIGCONT);
            true
        }
        Fault::DuplicateSameId => duplicate(stack, false).await,
        Fault::DuplicateFreshId => duplicate(stack, true).await,
        Fault::Restart => {
            stack.restart().await;
            true
        }
    }
}

fn pick(pids: &[i32]) -> Option<i32> {
    (!pids.is_empty()).then(|| pids[rand::random_range(0..pids.len())])
}

fn signal(pid: i32, sig: libc::c_int) -> bool {
    // SAFETY: kill(2) on a child process of ours; no memory is involved.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// The pids of this process's children running one of `names`.
fn function_processes(names: &[&str]) -> Vec<i32> {
    crate::procs::children()
        .into_iter()
        .filter(|c| names.iter().any(|n| c.runs(n)))
        .map(|c| c.pid)
        .collect()
}

/// Takes one message from the writer or the distributor queue, sends a
/// copy (same group, body and attributes; the same or a fresh
/// deduplication id) and makes the original visible again at once: the
/// service then receives it twice.
async fn duplicate(stack: &Stack, fresh_id: bool) -> bool {
    let sdk = fk_aws::clients::sdk_config(stack.deployment.endpoint.as_deref(), "us-east-1").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queues = [
        stack.deployment.writer_queue_url.clone(),
        stack.provisioned.distributor_queue_url.clone(),
    ];
    let queue = &queues[rand::random_range(0..queues.len())];
    let received = sqs
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(1)
        .wait_time_seconds(1)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .message_system_attribute_names(MessageSystemAttributeName::MessageDeduplicationId)
        .send()
        .await;
    let Ok(received) = received else {
        return false;
    };
    let Some(message) = received.messages().first() else {
        return false;
    };
    let attribute = |name: MessageSystemAttributeName| {
        message
            .attributes()
            .and_then(|a| a.get(&name))
            .cloned()
            .unwrap_or_default()
    };
    let group = attribute(MessageSystemAttributeName::MessageGroupId);
    let dedup = attribute(MessageSystemAttributeName::MessageDeduplicationId);
    let dedup = if fresh_id {
        format!("copy-{}", rand::random::<u64>())
    } else {
        dedup
    };
    let sent = sqs
        .send_message()
        .queue_url(queue)
        .message_group_id(group)
        .message_deduplication_id(dedup)
        .message_body(message.body().unwrap_or_default())
        .set_message_attributes(message.message_attributes().cloned())
        .send()
        .await
        .is_ok();
    if let Some(handle) = message.receipt_handle() {
        let _ = sqs
            .change_message_visibility()
            .queue_url(queue)
            .receipt_handle(handle)
            .visibility_timeout(0)
            .send()
            .await;
    }
    sent
}
