//! Write throughput of the design, without the emulator.
//!
//! On the local stack every call goes to one moto process, which runs at
//! one core's worth of Python and caps the stack whatever the number of
//! sessions. Here the real writer and distributor run in process on the
//! in-memory stores, and each backend call and queue hop waits as long as
//! it takes on AWS (the p50s of `numbers.md`), so the figures show how the
//! design itself scales, in two modes:
//!
//! - [`Mode::OneAtATime`], the design before group commit: one writer
//!   invocation per write (Lambda runs one per busy message group, and
//!   each session is one); one distributor that takes the messages that
//!   have arrived, up to 10, and commits and writes user storage for each
//!   in turn ([`Distributor::handle_overlapped`]).
//! - [`Mode::Batched`]: writer invocations that each take up to 10
//!   arrived messages, of any sessions, lock and validate each and push
//!   them together ([`Writer::handle_batch`], one SendMessageBatch per
//!   10); the distributor commits each batch as a group
//!   ([`Distributor::handle_batch`]).
//!
//! In both, the distributor queue's one message group is held to SQS's
//! quota (300 sends a second), DynamoDB transactions split as the adapter
//! splits them, and every delayed call is counted ([`tally`]).
//!
//! # Layout
//!
//! - `stores`: the in-memory stores behind AWS's delays, counting calls.
//! - `queues`: the queues, the quota, the event source mappings.
//! - [`tally`]: what a run counts.

mod queues;
mod stores;
pub mod tally;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fk_core::distributor::Distributor;
use fk_core::memory::{MemoryCommitQueue, MemoryReplies, MemorySystemStore, MemoryUserStore};
use fk_core::system::{SessionRecord, SystemStore as _, RECENT_COMMITS};
use fk_core::writer::{Writer, WriterConfig};
use fk_core::{CommitRequest, CreateMode, Op, SessionId, SystemClock, WriteRequest};
use tokio::sync::{mpsc, Barrier};

use crate::stats::percentiles;
use queues::{
    event_source, fifo_event_source, Arrival, Channels, Commits, NoWatches, Quota, Replies, BATCH,
};
use stores::{SlowSystem, SlowUser, UserKind};
use tally::{Counts, Role, Tally};

/// Sessions of the model's runs.
pub const SESSIONS: [usize; 5] = [1, 4, 16, 64, 256];

/// The most writes the model's clients on the user store `store` send in
/// one call, as the client's outbox does by default
/// (`fk_client::ConnectOptions::batch_sends`). `FK_BENCH_MODEL_CLIENT_SENDS`
/// (`batch`: 10, `single`: 1, or a number) decides for every store, to
/// compare.
pub fn client_batch(store: &str) -> usize {
    let writes = match std::env::var("FK_BENCH_MODEL_CLIENT_SENDS").as_deref() {
        Ok("batch") => Some(10),
        Ok("single") => Some(1),
        Ok(n) => n.parse::<usize>().ok(),
        Err(_) => None,
    };
    most_a_call(store, writes)
}

/// What the client's outbox sends in one call on `store` when told
/// `writes` (`None`: its default), by the client's own rule.
fn most_a_call(store: &str, writes: Option<usize>) -> usize {
    let options = fk_client::ConnectOptions::default();
    match writes {
        Some(writes) => options.with_batch_sends(writes),
        None => options,
    }
    .max_batch_sends(store)
}

/// The load issue 14's targets are set at.
pub const TARGET_SESSIONS: usize = 64;

/// Writes each session keeps in flight in the pipelined runs: an
/// asynchronous ZooKeeper client's, issuing writes without waiting for
/// each reply (each of its own node).
pub const PIPELINED: usize = 8;

/// The runs at each number of sessions: the design before group commit
/// and after, one write in flight per session, and after with
/// [`PIPELINED`].
pub const RUNS: [(Mode, usize); 3] = [
    (Mode::OneAtATime, 1),
    (Mode::Batched, 1),
    (Mode::Batched, PIPELINED),
];

/// Writes a run counts at least, over all sessions, however long it takes
/// (one session writes about 7 a second): fewer leave its p50 to chance.
pub const MIN_WRITES: u64 = 100;

/// Time before a run starts counting, at least: all sessions start at
/// once, and until each has had its first reply (and the burst of first
/// writes has passed the quota), what happens is not the steady state.
pub const WARM_UP: Duration = Duration::from_secs(1);

/// SQS's quota on one FIFO message group: API calls per second and action
/// (numbers.md §5). Every commit passes through one group.
pub const GROUP_CALLS_PER_S: u32 = 300;

/// Delays, from the original's measurements on AWS (p50).
#[derive(Debug, Clone, Copy)]
pub struct Delays {
    /// A DynamoDB call of system storage (lock, commit, counter).
    pub system: Duration,
    /// A user-storage call (S3 about 20 ms, DynamoDB 5, Redis under 1).
    pub user: Duration,
    /// SendMessage, paid by the sender.
    pub send: Duration,
    /// From SendMessage to the consumer holding the message.
    pub hop: Duration,
}

impl Delays {
    pub fn aws(user_call_ms: u64) -> Self {
        Delays {
            system: Duration::from_millis(5),
            user: Duration::from_millis(user_call_ms),
            send: Duration::from_millis(13),
            hop: Duration::from_millis(24),
        }
    }
}

/// How the functions handle their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One write at a time, as before group commit.
    OneAtATime,
    /// Writer batching and group commit.
    Batched,
}

impl Mode {
    /// Writer invocations at once, and the messages each takes: Lambda
    /// scales a FIFO queue's consumers with its busy message groups (one
    /// per session), and an invocation takes the writes that have arrived,
    /// of any sessions: one before, up to 10 batched.
    pub fn writers(self, sessions: usize) -> (usize, usize) {
        match self {
            Mode::OneAtATime => (sessions, 1),
            Mode::Batched => (sessions, BATCH),
        }
    }
}

/// The one distributor's ceiling in writes/s for a `set`. One at a time:
/// it commits (one system call) and writes user storage (one call) for
/// each write in turn; its replies overlap the next commit. Batched: an
/// invocation of ten bundles of ten writes commits them in groups of at
/// most [`RECENT_COMMITS`], each group in transactions of at most 49 sets
/// (100 items: a node and a session each, and the counter) and one
/// user-storage round, and waits for a group's replies (one send) before
/// the group after the next memory's worth, and for all of them before it
/// acknowledges the batch.
pub fn distributor_ceiling(delays: Delays, mode: Mode) -> f64 {
    match mode {
        Mode::OneAtATime => 1.0 / (delays.system + delays.user).as_secs_f64(),
        Mode::Batched => {
            let writes = BATCH * BATCH;
            let ring = RECENT_COMMITS as usize;
            let groups = writes.div_ceil(ring);
            let transactions = (0..groups)
                .map(|g| (writes - g * ring).min(ring).div_ceil(49))
                .sum::<usize>() as u32;
            let time = delays.system * transactions
                + delays.user * groups as u32
                + delays.send * groups as u32;
            writes as f64 / time.as_secs_f64()
        }
    }
}

/// One run: `sessions` clients, each setting its own node in a loop.
#[derive(Debug, Clone)]
pub struct Point {
    pub mode: Mode,
    pub sessions: usize,
    /// Writes each session keeps in flight.
    pub in_flight: usize,
    pub writes: u64,
    pub writes_per_s: f64,
    /// p50, p95, p99 of a write, client-side (send → reply), ms.
    pub latency_ms: [f64; 3],
    pub counts: Counts,
    /// The window counted.
    pub elapsed: Duration,
    /// The most writes the clients sent in one call ([`client_batch`]
    /// unless the run said).
    pub batch_sends: usize,
}

impl Point {
    /// Every AWS call of the run per write.
    pub fn calls_per_write(&self) -> f64 {
        self.counts.all() as f64 / self.writes.max(1) as f64
    }

    pub fn calls_of(&self, role: Role) -> f64 {
        self.counts.total(role) as f64 / self.writes.max(1) as f64
    }

    /// Sends a second to the distributor queue's one message group.
    pub fn group_sends_per_s(&self) -> f64 {
        self.counts.distributor_queue_sends() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `sessions` clients against the design with the user store `store`
/// for `run`, each setting its own nodes in a loop with `in_flight` writes
/// in flight (one node each, so that they do not wait for each other's
/// locks), as an asynchronous ZooKeeper client pipelines them. The clients
/// send at most `batch_sends` writes a call, or [`client_batch`].
pub async fn run(
    delays: Delays,
    store: &str,
    mode: Mode,
    (sessions, in_flight): (usize, usize),
    batch_sends: Option<usize>,
    run: Duration,
) -> Point {
    let tally = Arc::new(Tally::default());
    let client_batch = match batch_sends {
        Some(writes) => most_a_call(store, Some(writes)),
        None => client_batch(store),
    };
    let memory = Arc::new(MemorySystemStore::new());
    let system = |role| {
        Arc::new(SlowSystem {
            inner: memory.clone(),
            delay: delays.system,
            tally: tally.clone(),
            role,
        })
    };
    let channels = Arc::new(Channels::default());
    let replies = |role| {
        Arc::new(Replies {
            delays,
            channels: channels.clone(),
            tally: tally.clone(),
            role,
        })
    };
    let (commit_tx, commit_rx) = mpsc::unbounded_channel::<Arrival<Vec<CommitRequest>>>();
    let commits = Arc::new(Commits {
        delays,
        quota: Quota::per_second(GROUP_CALLS_PER_S),
        tally: tally.clone(),
        tx: commit_tx,
    });
    let writer = Arc::new(Writer::new(
        system(Role::Writer),
        commits,
        replies(Role::Writer),
        Arc::new(SystemClock),
        WriterConfig {
            lock_ttl_ms: 30_000,
            max_data_len: 1024,
        },
    ));
    let user_memory = Arc::new(MemoryUserStore::with_max_data_len(1024));
    let user = Arc::new(SlowUser {
        inner: user_memory.clone(),
        kind: UserKind::from_name(store),
        delay: delays.user,
        tally: tally.clone(),
    });
    let distributor = Arc::new(Distributor::new(
        system(Role::Distributor),
        user,
        replies(Role::Distributor),
        Arc::new(NoWatches),
    ));

    // One distributor, in queue order: the total order. A message is one
    // commit or a writer batch's bundle.
    let distributing = tokio::spawn(event_source(commit_rx, BATCH, 1, {
        let tally = tally.clone();
        move |messages: Vec<Vec<CommitRequest>>| {
            let (distributor, tally) = (distributor.clone(), tally.clone());
            async move {
                let start = Instant::now();
                let batch: Vec<CommitRequest> = messages.into_iter().flatten().collect();
                match mode {
                    Mode::OneAtATime => {
                        for commit in &batch {
                            distributor
                                .handle_overlapped(commit)
                                .await
                                .expect("in-memory stores");
                        }
                    }
                    Mode::Batched => {
                        let traced: Vec<_> = batch
                            .iter()
                            .map(|commit| (commit, tracing::Span::none()))
                            .collect();
                        distributor
                            .handle_batch(&traced)
                            .await
                            .expect("in-memory stores");
                    }
                }
                let t1 = start.elapsed();
                distributor.flush().await.expect("in-memory stores");
                if std::env::var("FK_DEBUG_MODEL").is_ok() {
                    eprintln!(
                        "DBG {} writes: handle {:?} flush {:?}",
                        batch.len(),
                        t1,
                        start.elapsed() - t1
                    );
                }
                tally.invocation(Role::Distributor, batch.len(), start.elapsed());
            }
        }
    }));
    let (write_tx, write_rx) = mpsc::unbounded_channel::<Arrival<WriteRequest>>();
    let (concurrency, batch) = mode.writers(sessions);
    let writing = tokio::spawn(fifo_event_source(
        write_rx,
        batch,
        concurrency,
        |req: &WriteRequest| req.session,
        {
            let tally = tally.clone();
            move |batch: Vec<WriteRequest>| {
                let (writer, tally) = (writer.clone(), tally.clone());
                async move {
                    let start = Instant::now();
                    match mode {
                        Mode::OneAtATime => {
                            for req in &batch {
                                writer.handle(req, 1).await.expect("in-memory stores");
                            }
                        }
                        Mode::Batched => {
                            let delivered: Vec<_> = batch.iter().map(|req| (req, 1)).collect();
                            writer
                                .handle_batch(&delivered, None)
                                .await
                                .expect("in-memory stores");
                        }
                    }
                    tally.invocation(Role::Writer, batch.len(), start.elapsed());
                }
            }
        },
    ));

    // Every session's nodes are created first, at once and uncounted; then
    // all sessions start writing together.
    let gate = Arc::new(Barrier::new(sessions));
    // Each write's end and latency.
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, Instant, Duration)>();
    let mut clients = Vec::new();
    for i in 0..sessions {
        let id = SessionId::random();
        let reply_to = format!("client-{i}");
        memory
            .create_session(&session(id, &reply_to))
            .await
            .unwrap();
        let paths: Vec<String> = (0..in_flight).map(|j| format!("/tp{i}-{j}")).collect();
        for (seq, path) in (1..).zip(&paths) {
            create(&memory, &user_memory, id, &reply_to, path, seq).await;
        }
        let mut replies = channels.open(&reply_to);
        let (write_tx, tally, gate) = (write_tx.clone(), tally.clone(), gate.clone());
        let done_tx = done_tx.clone();
        clients.push(tokio::spawn(async move {
            // Seqs 1..=in_flight were the creates. A write of seq s sets
            // the node s % in_flight; each reply sends the next write.
            let mut next_seq = in_flight as u64 + 1;
            let mut sent_at = std::collections::HashMap::new();
            // The session's sends leave one after the other, as the
            // client's outbox sends them: the writes due together (the
            // first ones, those a poll's replies free) in one call when
            // the client batches its sends, else one call each.
            let send =
                |seqs: std::ops::Range<u64>,
                 sent_at: &mut std::collections::HashMap<u64, Instant>| {
                    let reqs: Vec<WriteRequest> = seqs
                        .map(|seq| {
                            sent_at.insert(seq, Instant::now());
                            WriteRequest {
                                session: id,
                                seq,
                                reply_to: reply_to.clone(),
                                op: Op::SetData {
                                    path: paths[seq as usize % in_flight].clone(),
                                    data: Bytes::from_static(b"abcd"),
                                    version: None,
                                },
                            }
                        })
                        .collect();
                    let (write_tx, tally) = (write_tx.clone(), tally.clone());
                    async move {
                        let calls: Vec<Vec<WriteRequest>> =
                            reqs.chunks(client_batch).map(<[_]>::to_vec).collect();
                        for call in calls {
                            tally.call(
                                Role::Client,
                                if call.len() == 1 {
                                    "SQS.SendMessage"
                                } else {
                                    "SQS.SendMessageBatch"
                                },
                            );
                            tokio::time::sleep(delays.send).await;
                            let at = Instant::now() + delays.hop;
                            for req in call {
                                let _ = write_tx.send((at, req));
                            }
                        }
                    }
                };
            gate.wait().await;
            send(next_seq..next_seq + in_flight as u64, &mut sent_at).await;
            next_seq += in_flight as u64;
            loop {
                // The client's listener: one long poll takes the replies
                // that have arrived (up to 10), one delete removes them.
                let mut got = vec![replies.recv().await.expect("a reply")];
                while got.len() < 10 {
                    match replies.try_recv() {
                        Ok(reply) => got.push(reply),
                        Err(_) => break,
                    }
                }
                tally.call(Role::Client, "SQS.ReceiveMessage");
                tally.call(Role::Client, "SQS.DeleteMessageBatch");
                for reply in &got {
                    if let Some(sent) = sent_at.remove(&reply.seq) {
                        let _ = done_tx.send((i, Instant::now(), sent.elapsed()));
                    }
                }
                let due = got.len() as u64;
                send(next_seq..next_seq + due, &mut sent_at).await;
                next_seq += due;
            }
        }));
    }

    // Steady state: what happens in a window after a warm-up, when the
    // start (every session's first writes at once) has passed through:
    // every session has had a reply, and WARM_UP is over.
    let started = Instant::now();
    let mut waiting = vec![true; sessions];
    let mut left = sessions;
    while left > 0 {
        let (session, _, _) = done_rx.recv().await.expect("clients run");
        if std::mem::take(&mut waiting[session]) {
            left -= 1;
        }
    }
    tokio::time::sleep_until((started + WARM_UP).into()).await;
    let (from, before) = (Instant::now(), tally.snapshot());
    tokio::time::sleep(run).await;
    let mut latencies = Vec::new();
    let to = loop {
        while let Ok((_, at, latency)) = done_rx.try_recv() {
            if at >= from {
                latencies.push(latency);
            }
        }
        if latencies.len() as u64 >= MIN_WRITES {
            break Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let counts = tally.snapshot().since(&before);
    for task in clients {
        task.abort();
    }
    distributing.abort();
    writing.abort();
    let elapsed = to - from;
    let writes = latencies.len() as u64;
    Point {
        mode,
        sessions,
        in_flight,
        writes,
        writes_per_s: writes as f64 / elapsed.as_secs_f64(),
        latency_ms: percentiles(&mut latencies),
        counts,
        elapsed,
        batch_sends: client_batch,
    }
}

/// Creates `path` for the session `id` (its seq `seq`) through the real writer
/// and distributor on the stores without delays.
async fn create(
    system: &Arc<MemorySystemStore>,
    user: &Arc<MemoryUserStore>,
    id: SessionId,
    reply_to: &str,
    path: &str,
    seq: u64,
) {
    let queue = Arc::new(MemoryCommitQueue::default());
    let replies = Arc::new(MemoryReplies::default());
    let writer = Writer::new(
        system.clone(),
        queue.clone(),
        replies.clone(),
        Arc::new(SystemClock),
        WriterConfig {
            lock_ttl_ms: 30_000,
            max_data_len: 1024,
        },
    );
    let req = WriteRequest {
        session: id,
        seq,
        reply_to: reply_to.to_string(),
        op: Op::Create {
            path: path.to_string(),
            data: Bytes::new(),
            mode: CreateMode::Persistent,
        },
    };
    writer.handle(&req, 1).await.expect("in-memory stores");
    let commit = queue.pop().expect("the create was forwarded");
    let distributor = Distributor::new(system.clone(), user.clone(), replies, Arc::new(NoWatches));
    distributor.handle(&commit).await.expect("in-memory stores");
}

fn session(id: SessionId, reply_to: &str) -> SessionRecord {
    SessionRecord {
        id,
        timeout_ms: 60_000,
        reply_to: reply_to.into(),
        last_seq: 0,
        refused: Vec::new(),
        ephemerals: vec![],
        heartbeat_ms: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_write(p: &Point, role: Role, name: &str) -> f64 {
        p.counts.of(role).get(name).copied().unwrap_or(0) as f64 / p.writes as f64
    }

    /// Counts over a window are the writes that end in it and the calls
    /// made in it: exact only on average.
    fn near(measured: f64, expected: f64) -> bool {
        (measured - expected).abs() <= 0.15 * expected
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_at_a_time_every_write_makes_its_own_calls() {
        let p = run(
            Delays::aws(1),
            "redis",
            Mode::OneAtATime,
            (2, 1),
            None,
            Duration::from_millis(1000),
        )
        .await;
        assert!(p.writes >= MIN_WRITES);
        for (role, name) in [
            (Role::Client, "SQS.SendMessage"),
            (Role::Writer, "DynamoDB.UpdateItem"),
            (Role::Writer, "SQS.SendMessage"),
            (Role::Distributor, "DynamoDB.TransactWriteItems"),
            (Role::Distributor, "Redis.Script"),
            (Role::Distributor, "SQS.SendMessage"),
        ] {
            let n = per_write(&p, role, name);
            assert!(near(n, 1.0), "{role:?} {name}: {n} per write");
        }
        // One transaction per write: the node, the counter, the session.
        assert_eq!(p.counts.transaction_items, 3 * p.counts.transactions());
        assert!(near(p.counts.writer.count as f64, p.writes as f64));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batched_writes_share_sends_transactions_and_invocations() {
        let p = run(
            Delays::aws(5),
            "dynamodb",
            Mode::Batched,
            (40, 1),
            None,
            Duration::from_millis(1500),
        )
        .await;
        // Locks and replies stay one per write.
        for (role, name) in [
            (Role::Writer, "DynamoDB.UpdateItem"),
            (Role::Distributor, "SQS.SendMessage"),
        ] {
            let n = per_write(&p, role, name);
            assert!(near(n, 1.0), "{role:?} {name}: {n} per write");
        }
        assert!(p.counts.writer.batch() > 2.0, "{:?}", p.counts.writer);
        assert!(
            p.counts.distributor.batch() > 2.0,
            "{:?}",
            p.counts.distributor
        );
        assert!(p.counts.distributor_queue_sends() < p.writes / 2);
        // System commits and user writes share transactions.
        assert!(p.counts.transactions() < p.writes / 2);
        assert_eq!(
            p.counts.writer.count + p.counts.distributor.count,
            p.counts.total(Role::Mapping) / 2
        );
    }
}
