//! The model's part of `docs/BENCHMARKS.md`: the table of group commit
//! before and after, its targets (issue 14), and the splice that rewrites
//! only this part of an existing document (`FK_BENCH_MODEL_ONLY=1`).

use std::fmt::Write as _;

use crate::model::tally::Role;
use crate::model::{self, Mode, Point, TARGET_SESSIONS};
use crate::report::Results;

const BEGIN: &str =
    "<!-- model: `make bench`, or alone `FK_BENCH_MODEL_ONLY=1 scripts/bench.sh` -->";
const END: &str = "<!-- end model -->";
/// The row of the issue-6 targets that the model's figures fill.
pub const TARGET_ROW: &str = "| the same, the design in process with AWS's delays (see below) |";

/// The end of the issue-6 "behind" bullet on throughput, which once
/// quoted the model's figures.
pub const BEHIND_TAIL: &str = " Without it (the design in process with AWS's delays, below) \
     throughput grows with sessions up to the one distributor's rate: every commit goes through \
     it, in order.";

/// Targets of issue 14, at 64 sessions with the batched design.
const TARGET_WRITES_PER_S: [(&str, f64); 3] =
    [("s3", 200.0), ("dynamodb", 600.0), ("redis", 1000.0)];
/// p50 at 1 session: no worse than before, within 5 %.
const LATENCY_TOLERANCE: f64 = 0.05;
/// Calls per write at 64 sessions: at most this share of before's.
const CALLS_SHARE: f64 = 0.5;

/// The run of `mode` at `sessions` with one write in flight per session.
fn point<'a>(r: &'a Results, store: &str, mode: Mode, sessions: usize) -> Option<&'a Point> {
    point_in_flight(r, store, mode, sessions, 1)
}

/// The batched run at `sessions` with [`model::PIPELINED`] writes in
/// flight per session.
fn pipelined<'a>(r: &'a Results, store: &str, sessions: usize) -> Option<&'a Point> {
    point_in_flight(r, store, Mode::Batched, sessions, model::PIPELINED)
}

fn point_in_flight<'a>(
    r: &'a Results,
    store: &str,
    mode: Mode,
    sessions: usize,
    in_flight: usize,
) -> Option<&'a Point> {
    let default = model::client_batch(store);
    r.model.get(store)?.iter().find(|p| {
        p.mode == mode
            && p.sessions == sessions
            && p.in_flight == in_flight
            && p.batch_sends == default
    })
}

/// The pipelined runs at the targets' load whose clients sent otherwise
/// than the store's default, by the most writes a send carried.
fn other_sends<'a>(r: &'a Results, store: &str) -> Vec<&'a Point> {
    let default = model::client_batch(store);
    let mut others: Vec<&Point> = r.model.get(store).map_or(Vec::new(), |points| {
        points
            .iter()
            .filter(|p| {
                p.mode == Mode::Batched
                    && p.sessions == TARGET_SESSIONS
                    && p.in_flight == model::PIPELINED
                    && p.batch_sends != default
            })
            .collect()
    });
    others.sort_by_key(|p| p.batch_sends);
    others
}

/// How clients that send at most `writes` a call sent, e.g. `one send per
/// write`, `up to 2 writes a send`.
fn sends_of(writes: usize) -> String {
    match writes {
        1 => "one send per write".into(),
        n => format!("up to {n} writes a send"),
    }
}

/// The batched design's writes/s by sessions, per store.
pub fn growth(r: &Results) -> String {
    r.model
        .iter()
        .map(|(store, points)| {
            let rates: Vec<String> = points
                .iter()
                .filter(|p| p.mode == Mode::Batched && p.in_flight == 1)
                .map(|p| format!("{:.0}", p.writes_per_s))
                .collect();
            format!("{store}: {}", rates.join(" → "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// More than 1.5× from 1 to 4 sessions, with the batched design.
pub fn grows(r: &Results) -> bool {
    !r.model.is_empty()
        && r.model.keys().all(|store| {
            match (
                point(r, store, Mode::Batched, 1),
                point(r, store, Mode::Batched, 4),
            ) {
                (Some(one), Some(four)) => four.writes_per_s > 1.5 * one.writes_per_s,
                _ => false,
            }
        })
}

/// The issue-6 row the model fills.
pub fn target_row(r: &Results) -> String {
    format!(
        "{TARGET_ROW} {} | {} |",
        growth(r),
        if grows(r) {
            "yes, up to the one distributor's rate"
        } else {
            "**no — behind**"
        }
    )
}

fn pair(
    before: Option<&Point>,
    after: Option<&Point>,
    f: impl Fn(&Point) -> String,
) -> [String; 2] {
    [before, after].map(|p| p.map_or("–".into(), &f))
}

pub fn section(o: &mut String, r: &Results) {
    if r.model.is_empty() {
        return;
    }
    let _ = writeln!(o, "{BEGIN}\n");
    let _ = writeln!(o, "### The design without the emulator: group commit\n");
    let _ = writeln!(
        o,
        "The real writer and distributor code (`fk-core`) in one process on the in-memory \
         stores, each backend call and queue hop delayed as on AWS (p50s of the original's \
         measurements: DynamoDB call 5 ms; user-store call S3 20, DynamoDB 5, Redis 1 ms; \
         SendMessage 13 ms for the sender; 24 ms from SendMessage to the consumer). Each session \
         sets its own 4-byte node in a loop, one write in flight, all starting at once; counted over {:.0} s (longer if fewer than {} writes end in it) after a warm-up (until \
         every session has had a reply, {} s at least): the writes that end in that window and \
         the calls made in it. **Before**: one \
         writer invocation per write (`Writer::handle`); one distributor taking what has arrived, \
         up to 10, and committing and writing user storage for each write in turn \
         (`Distributor::handle_overlapped`). **After**: each writer invocation takes the writes \
         that have arrived, up to 10, of any sessions whose messages no other invocation holds \
         (Lambda's rule for FIFO queues; it runs as many at once as message groups have \
         messages: one per session), locks and validates different sessions' writes side by \
         side and pushes the validated ones together as one message, a bundle \
         (`Writer::handle_batch`); the distributor takes up to 10 messages, so up to 100 \
         writes, and commits them as groups (`Distributor::handle_batch`), waiting for the \
         replies of the first {} it answered before it commits more (the counter's memory of \
         recent commits), a session's replies of a group in one SendMessageBatch: DynamoDB \
         transactions split by the adapter's own rule (`fk_aws::system::transaction_len`: ≤ 100 \
         items, no node twice, a session's consecutive writes under one update of its item), user storage written as the adapters do (Redis one MULTI \
         round trip; DynamoDB one TransactWriteItems per ≤ 100 writes; S3 each session's writes \
         in order, different sessions' at once, one PUT each, GET + PUT for a node with \
         children). Both: every reply is out before a batch is acknowledged; the distributor \
         queue's one message group is held to SQS's quota of {} sends a second (a token \
         bucket holding a tenth of a second's worth; a throttled send waits, where on AWS it \
         fails and is retried later). Every \
         delayed call is counted: the client's (SendMessage, and ReceiveMessage + \
         DeleteMessageBatch per poll, which takes the replies that have arrived), the \
         functions' (DynamoDB, user store, SQS sends and replies) and the event source mappings' (one ReceiveMessage and one DeleteMessageBatch \
         per invocation). Cost: `fk cost`'s arithmetic and price table (`crates/cli/src/cost`) \
         on the counted calls per write, the functions' time per invocation in the model at \
         256 MB and the writes per invocation; reads, heartbeats and Redis's monthly minimum \
         left out. It measures how the design scales, not AWS: fixed delays, no cold starts, \
         no throttling but the quota.\n",
        r.model_seconds,
        model::MIN_WRITES,
        model::WARM_UP.as_secs(),
        fk_core::system::RECENT_COMMITS,
        model::GROUP_CALLS_PER_S
    );
    let _ = writeln!(
        o,
        "| store | sessions | writes/s before | writes/s after | write p50 / p99 ms before | \
         after | AWS calls per write before | after | $ per million writes before | after | \
         after: writes per writer / distributor invocation (ms each), sends/s to the distributor group |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for store in ["s3", "dynamodb", "redis"] {
        for sessions in model::SESSIONS {
            let before = point(r, store, Mode::OneAtATime, sessions);
            let after = point(r, store, Mode::Batched, sessions);
            if before.is_none() && after.is_none() {
                continue;
            }
            let [wb, wa] = pair(before, after, |p| format!("{:.0}", p.writes_per_s));
            let [lb, la] = pair(before, after, |p| {
                format!("{:.0} / {:.0}", p.latency_ms[0], p.latency_ms[2])
            });
            let [cb, ca] = pair(before, after, |p| format!("{:.2}", p.calls_per_write()));
            let [db, da] = pair(before, after, |p| {
                format!("{:.2}", crate::cost::per_million_writes(p))
            });
            let detail = after.map_or("–".into(), |p| {
                let (w, d) = (&p.counts.writer, &p.counts.distributor);
                format!(
                    "{:.1} ({:.0}) / {:.1} ({:.0}), {:.0}",
                    w.batch(),
                    w.mean_ms(),
                    d.batch(),
                    d.mean_ms(),
                    p.group_sends_per_s()
                )
            });
            let _ = writeln!(
                o,
                "| {store} | {sessions} | {wb} | {wa} | {lb} | {la} | {cb} | {ca} | {db} | {da} | {detail} |"
            );
        }
    }
    let _ = writeln!(o);
    pipelined_table(o, r);
    ceilings(o, r);
    parts(o, r);
    targets(o, r);
    behind(o, r);
    let _ = writeln!(o, "{END}\n");
}

/// How the model's clients send by default, store by store: `up to 10
/// writes a send on dynamodb and redis, up to 2 on s3`.
fn default_sends() -> String {
    let mut by: Vec<(usize, Vec<&str>)> = Vec::new();
    for store in ["s3", "dynamodb", "redis"] {
        let writes = model::client_batch(store);
        match by.iter_mut().find(|(w, _)| *w == writes) {
            Some((_, stores)) => stores.push(store),
            None => by.push((writes, vec![store])),
        }
    }
    by.sort_by_key(|(writes, _)| std::cmp::Reverse(*writes));
    by.iter()
        .map(|(writes, stores)| format!("{} on {}", sends_of(*writes), stores.join(" and ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The batched design with writes pipelined: what the one total order
/// carries when the clients do not wait for each reply.
fn pipelined_table(o: &mut String, r: &Results) {
    if !r.model.values().flatten().any(|p| p.in_flight > 1) {
        return;
    }
    let _ = writeln!(
        o,
        "With {} writes in flight per session (an asynchronous client's pipelining, each \
         write to its own node so that none waits for another's lock; ZooKeeper's own \
         throughput figures are measured with many requests outstanding per client), the \
         batched design; each client sends the writes due together (its first ones, and those \
         a poll's replies free) as its outbox does by default, one call after another: {} \
         (`ConnectOptions::batch_sends`; a SendMessageBatch, or a SendMessage for one write). \
         At {TARGET_SESSIONS} sessions each store also runs with its clients sending otherwise \
         (the rows that say how):\n",
        model::PIPELINED,
        default_sends(),
    );
    let _ = writeln!(
        o,
        "| store | sessions | writes/s | write p50 / p99 ms | AWS calls per write | \
         $ per million writes | writes per writer / distributor invocation (ms each), sends/s \
         to the distributor group |\n|---|---:|---:|---:|---:|---:|---|"
    );
    for store in ["s3", "dynamodb", "redis"] {
        let runs = model::SESSIONS
            .iter()
            .filter_map(|&n| pipelined(r, store, n).map(|p| (store.to_string(), p)))
            .chain(
                other_sends(r, store)
                    .into_iter()
                    .map(|p| (format!("{store}, {}", sends_of(p.batch_sends)), p)),
            );
        for (store, p) in runs {
            let sessions = p.sessions;
            let (w, d) = (&p.counts.writer, &p.counts.distributor);
            let _ = writeln!(
                o,
                "| {store} | {sessions} | {:.0} | {:.0} / {:.0} | {:.2} | {:.2} | {:.1} ({:.0}) / {:.1} ({:.0}), {:.0} |",
                p.writes_per_s,
                p.latency_ms[0],
                p.latency_ms[2],
                p.calls_per_write(),
                crate::cost::per_million_writes(p),
                w.batch(),
                w.mean_ms(),
                d.batch(),
                d.mean_ms(),
                p.group_sends_per_s()
            );
        }
    }
    let _ = writeln!(o);
}

/// What bounds the rates, computed from the delays.
fn ceilings(o: &mut String, r: &Results) {
    let of = |mode: Mode| -> String {
        crate::MODEL_USER_CALL_MS
            .iter()
            .filter(|(store, _)| r.model.contains_key(*store))
            .map(|&(store, ms)| {
                let ceiling = model::distributor_ceiling(model::Delays::aws(ms), mode);
                format!("{store} {ceiling:.0}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let bound: Vec<String> = r
        .model
        .keys()
        .filter_map(|store| {
            let one = point(r, store, Mode::Batched, 1)?;
            Some(format!(
                "{store} {:.0}",
                TARGET_SESSIONS as f64 * 1e3 / one.latency_ms[0]
            ))
        })
        .collect();
    let _ = writeln!(
        o,
        "What bounds these rates (computed from the delays, not measured). The one distributor \
         before: one commit and one user-storage call per write, {} writes/s. After, for an \
         invocation of 10 bundles of 10 writes (the most an SQS FIFO event source mapping \
         hands over, and the most a writer batch holds): groups of at most {} (the counter's \
         memory of recent commits), each in transactions of at most 49 writes and one \
         user-storage round, and each group's replies out before the group after it commits \
         beyond that memory and before the batch is acknowledged: {} writes/s. With one write \
         in flight per session, {} sessions write at most {} ÷ the latency of one write alone: \
         {} writes/s; pipelined clients lift that bound, and the distributor's invocations \
         then hold as many writes as the writer's bundles carry.\n",
        of(Mode::OneAtATime),
        fk_core::system::RECENT_COMMITS,
        of(Mode::Batched),
        TARGET_SESSIONS,
        TARGET_SESSIONS,
        bound.join(", ")
    );
}

/// Calls per write by who makes them, at the targets' load.
fn parts(o: &mut String, r: &Results) {
    let _ = writeln!(
        o,
        "AWS calls per write by who makes them, {TARGET_SESSIONS} sessions:\n"
    );
    let mut header = String::from("| store | design |");
    let mut rule = String::from("|---|---|");
    for role in Role::ALL {
        let _ = write!(header, " {} |", role.name());
        rule.push_str("---:|");
    }
    let _ = writeln!(
        o,
        "{header} total | DynamoDB transactions per write (items each) |\n{rule}---:|---|"
    );
    for store in ["s3", "dynamodb", "redis"] {
        let rows = [
            (
                "before".to_string(),
                point(r, store, Mode::OneAtATime, TARGET_SESSIONS),
            ),
            (
                "after".into(),
                point(r, store, Mode::Batched, TARGET_SESSIONS),
            ),
            (
                "after, pipelined".into(),
                pipelined(r, store, TARGET_SESSIONS),
            ),
        ]
        .into_iter()
        .chain(other_sends(r, store).into_iter().map(|p| {
            (
                format!("after, pipelined, {}", sends_of(p.batch_sends)),
                Some(p),
            )
        }));
        for (name, p) in rows {
            let Some(p) = p else {
                continue;
            };
            let mut row = format!("| {store} | {name} |");
            for role in Role::ALL {
                let _ = write!(row, " {:.2} |", p.calls_of(role));
            }
            let transactions = p.counts.transactions();
            let _ = writeln!(
                o,
                "{row} {:.2} | {:.2} ({:.1}) |",
                p.calls_per_write(),
                transactions as f64 / p.writes.max(1) as f64,
                p.counts.transaction_items as f64 / transactions.max(1) as f64
            );
        }
    }
    let _ = writeln!(o);
}

fn targets(o: &mut String, r: &Results) {
    let _ = writeln!(o, "#### Targets (issue 14)\n");
    let _ = writeln!(o, "| target | measured | met? |\n|---|---|---|");
    let yes = |met: bool| if met { "yes" } else { "**no — behind**" };
    for (store, target) in TARGET_WRITES_PER_S {
        let (one, many) = (
            point(r, store, Mode::Batched, TARGET_SESSIONS),
            pipelined(r, store, TARGET_SESSIONS),
        );
        let Some(best) = [one, many]
            .into_iter()
            .flatten()
            .max_by(|a, b| a.writes_per_s.total_cmp(&b.writes_per_s))
        else {
            continue;
        };
        let rate = |p: Option<&Point>| p.map_or("–".into(), |p| format!("{:.0}", p.writes_per_s));
        let other: String = other_sends(r, store)
            .into_iter()
            .map(|p| format!("; {} with {}", rate(Some(p)), sends_of(p.batch_sends)))
            .collect();
        let _ = writeln!(
            o,
            "| {store}: ≥ {target:.0} writes/s at {TARGET_SESSIONS} sessions | {} writes/s with {} writes in flight per session ({} with one){other} | {} |",
            rate(many),
            model::PIPELINED,
            rate(one),
            yes(best.writes_per_s >= target)
        );
    }
    for store in ["s3", "dynamodb", "redis"] {
        let (Some(before), Some(after)) = (
            point(r, store, Mode::OneAtATime, 1),
            point(r, store, Mode::Batched, 1),
        ) else {
            continue;
        };
        let change = after.latency_ms[0] / before.latency_ms[0] - 1.0;
        let _ = writeln!(
            o,
            "| {store}: write p50 at 1 session no worse than before (± {:.0} %) | {:.1} → {:.1} ms ({:+.1} %) | {} |",
            LATENCY_TOLERANCE * 100.0,
            before.latency_ms[0],
            after.latency_ms[0],
            change * 100.0,
            yes(change <= LATENCY_TOLERANCE)
        );
    }
    for store in ["s3", "dynamodb", "redis"] {
        let (Some(before), Some(after)) = (
            point(r, store, Mode::OneAtATime, TARGET_SESSIONS),
            point(r, store, Mode::Batched, TARGET_SESSIONS),
        ) else {
            continue;
        };
        let (b, a) = (before.calls_per_write(), after.calls_per_write());
        let functions = |p: &Point| p.calls_per_write() - p.calls_of(Role::Client);
        let best = pipelined(r, store, TARGET_SESSIONS).map_or(a, |p| p.calls_per_write().min(a));
        let mut piped = pipelined(r, store, TARGET_SESSIONS).map_or(String::new(), |p| {
            format!(
                "; pipelined ({} in flight) {:.2} ({:.0} %)",
                model::PIPELINED,
                p.calls_per_write(),
                p.calls_per_write() / b * 100.0
            )
        });
        // Another way of sending, when the default misses: met only so.
        let other = other_sends(r, store)
            .into_iter()
            .filter(|p| best > CALLS_SHARE * b && p.calls_per_write() <= CALLS_SHARE * b)
            .max_by(|p, q| p.writes_per_s.total_cmp(&q.writes_per_s));
        for p in other_sends(r, store) {
            let _ = write!(
                piped,
                "; pipelined with {} (not the default) {:.2} ({:.0} %) at {:.0} writes/s",
                sends_of(p.batch_sends),
                p.calls_per_write(),
                p.calls_per_write() / b * 100.0,
                p.writes_per_s
            );
        }
        let verdict = match other {
            Some(p) => format!("with {} only", sends_of(p.batch_sends)),
            None => yes(best <= CALLS_SHARE * b).to_string(),
        };
        let _ = writeln!(
            o,
            "| {store}: AWS calls per write at {TARGET_SESSIONS} sessions ≤ half of before's | {b:.2} → {a:.2} ({:.0} %), one write in flight; without the client's calls: {:.2} → {:.2} ({:.0} %){piped} | {} |",
            a / b * 100.0,
            functions(before),
            functions(after),
            functions(after) / functions(before) * 100.0,
            verdict
        );
    }
    let _ = writeln!(o);
}

/// Why the targets above are missed, from the figures.
fn behind(o: &mut String, r: &Results) {
    let mut lines = Vec::new();
    for (store, target) in TARGET_WRITES_PER_S {
        let Some(after) = pipelined(r, store, TARGET_SESSIONS)
            .or_else(|| point(r, store, Mode::Batched, TARGET_SESSIONS))
        else {
            continue;
        };
        if after.writes_per_s >= target {
            continue;
        }
        let d = &after.counts.distributor;
        let ms = crate::MODEL_USER_CALL_MS
            .iter()
            .find(|(s, _)| *s == store)
            .map_or(0, |(_, ms)| *ms);
        let ceiling = model::distributor_ceiling(model::Delays::aws(ms), Mode::Batched);
        lines.push(format!(
            "- **{store}: {:.0} writes/s at {TARGET_SESSIONS} sessions ({} in flight each), for a \
             target of {target:.0}.** The one distributor took {:.1} writes per invocation and \
             {:.0} ms per invocation (groups committed, user storage written, replies out; the \
             model's timers add about a millisecond per delay): {:.0} writes/s at most. At \
             the exact delays a full invocation (100 writes) would carry {ceiling:.0}; its \
             invocations hold what ten of the writer's bundles carry, {:.1} writes each here.",
            after.writes_per_s,
            after.in_flight,
            d.batch(),
            d.mean_ms(),
            d.batch() * 1e3 / d.mean_ms().max(f64::MIN_POSITIVE),
            after.counts.writer.batch(),
        ));
    }
    let slower: Vec<String> =
        r.model
            .iter()
            .flat_map(|(store, points)| {
                points
                    .iter()
                    .filter(|p| p.mode == Mode::Batched && p.in_flight == 1 && p.sessions > 1)
                    .filter_map(move |after| {
                        let before = point(r, store, Mode::OneAtATime, after.sessions)?;
                        (after.latency_ms[0] > before.latency_ms[0] * (1.0 + LATENCY_TOLERANCE))
                            .then(|| {
                                format!(
                                "{store} at {} sessions {:.0} → {:.0} ms (writer: {:.1} writes, \
                                 {:.0} ms per invocation)",
                                after.sessions,
                                before.latency_ms[0],
                                after.latency_ms[0],
                                after.counts.writer.batch(),
                                after.counts.writer.mean_ms()
                            )
                            })
                    })
            })
            .collect();
    if !slower.is_empty() {
        lines.push(format!(
            "- **Slower writes at light load.** Where the distributor is not yet the limit, a \
             batched write waits for its batch: the writer locks the batch's writes one after \
             another (`Writer::handle_batch`) and pushes them at the end. p50 before → after: {}.",
            slower.join("; ")
        ));
    }
    let calls_missed: Vec<(&str, &Point, &Point)> = ["s3", "dynamodb", "redis"]
        .iter()
        .filter_map(|store| {
            let before = point(r, store, Mode::OneAtATime, TARGET_SESSIONS)?;
            let after = [
                point(r, store, Mode::Batched, TARGET_SESSIONS),
                pipelined(r, store, TARGET_SESSIONS),
            ]
            .into_iter()
            .flatten()
            .min_by(|a, b| a.calls_per_write().total_cmp(&b.calls_per_write()))?;
            (after.calls_per_write() > CALLS_SHARE * before.calls_per_write())
                .then_some((*store, before, after))
        })
        .collect();
    for (store, before, after) in calls_missed {
        let per = |role: Role, name: &str| {
            after.counts.of(role).get(name).copied().unwrap_or(0) as f64 / after.writes as f64
        };
        let objects = ["S3.PutObject", "S3.GetObject"]
            .iter()
            .map(|name| per(Role::Distributor, name))
            .sum::<f64>();
        let objects = if objects > 0.0 {
            format!(", S3's one call per object ({objects:.2} per write; Redis and DynamoDB write a group in one)")
        } else {
            String::new()
        };
        let sends = match model::client_batch(store) {
            1 => "a SendMessage per write: on this store the client does not batch its sends \
                  by default, as a session's writes that arrive together wait for each other \
                  there"
                .to_string(),
            n => format!("a call for each {n} writes due together at most"),
        };
        lines.push(format!(
            "- **Calls per write, {store} store: {:.2} at best ({} in flight), half of before's \
             is {:.2}.** The client's share is {:.2} ({sends}, and the \
             ReceiveMessage and DeleteMessageBatch of its replies, shared by the replies a poll \
             takes); what the functions' batching cannot share: the writer's lock ({:.2} per \
             write){objects} and the replies ({:.2} sends per write; a session's replies of a \
             group share one).",
            after.calls_per_write(),
            after.in_flight,
            CALLS_SHARE * before.calls_per_write(),
            after.calls_of(Role::Client),
            per(Role::Writer, "DynamoDB.UpdateItem"),
            per(Role::Distributor, "SQS.SendMessage")
                + per(Role::Distributor, "SQS.SendMessageBatch"),
        ));
        for p in other_sends(r, store) {
            let line = lines.last_mut().expect("just pushed");
            let _ = write!(
                line,
                " With {} (`ConnectOptions::batch_sends`, not this store's default) the same \
                 clients make {:.2} calls per write{} at {:.0} writes/s, p50 {:.0} ms (against \
                 {:.0} writes/s, p50 {:.0} ms).",
                sends_of(p.batch_sends),
                p.calls_per_write(),
                if p.calls_per_write() <= CALLS_SHARE * before.calls_per_write() {
                    ", within the target,"
                } else {
                    ""
                },
                p.writes_per_s,
                p.latency_ms[0],
                after.writes_per_s,
                after.latency_ms[0],
            );
        }
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(o, "Where the batched design is behind:\n");
    for line in lines {
        let _ = writeln!(o, "{line}");
    }
    let _ = writeln!(o);
}

/// `doc` with the model's part and its issue-6 row rewritten from `r`; the
/// rest (the local stack's figures) as it was.
pub fn splice(doc: &str, r: &Results) -> Result<String, String> {
    let mut section_text = String::new();
    section(&mut section_text, r);
    let (start, end) = match (doc.find(BEGIN), doc.find(END)) {
        (Some(start), Some(end)) => (start, end + END.len() + 2),
        // A document from before the markers: from the model's heading to
        // the next section.
        _ => {
            let start = doc
                .find("### The design without the emulator")
                .ok_or("no model section in the document")?;
            let end = doc[start..]
                .find("\n## ")
                .map(|i| start + i + 1)
                .ok_or("no section after the model's")?;
            (start, end)
        }
    };
    let mut out = format!(
        "{}{section_text}{}",
        &doc[..start],
        &doc[end.min(doc.len())..]
    );
    if let Some(at) = out.find(&BEHIND_TAIL[..BEHIND_TAIL.find(')').unwrap_or(0) + 1]) {
        let line_end = out[at..].find('\n').map_or(out.len(), |i| at + i);
        out.replace_range(at..line_end, BEHIND_TAIL);
    }
    if let Some(at) = out.find(TARGET_ROW) {
        let line_end = out[at..].find('\n').map_or(out.len(), |i| at + i);
        out.replace_range(at..line_end, &target_row(r));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of the model with `calls` client calls per write (100 writes).
    fn point(mode: Mode, in_flight: usize, batch_sends: usize, calls: u64, rate: f64) -> Point {
        Point {
            mode,
            sessions: TARGET_SESSIONS,
            in_flight,
            writes: 100,
            writes_per_s: rate,
            latency_ms: [100.0, 150.0, 200.0],
            counts: model::tally::Counts {
                calls: [((Role::Client, "SQS.SendMessage"), calls * 100)].into(),
                ..Default::default()
            },
            elapsed: std::time::Duration::from_secs(1),
            batch_sends,
        }
    }

    #[test]
    fn a_target_met_only_another_way_of_sending_says_so() {
        // Given an S3 model whose default clients make 6 calls per write
        // against 10 before, clients sending ten writes a call 4 (at 240
        // writes/s) and clients sending each alone 7
        let default = model::client_batch("s3");
        let mut r = Results::default();
        r.model.insert(
            "s3".into(),
            vec![
                point(Mode::OneAtATime, 1, default, 10, 40.0),
                point(Mode::Batched, 1, default, 7, 380.0),
                point(Mode::Batched, model::PIPELINED, default, 6, 650.0),
                point(Mode::Batched, model::PIPELINED, 10, 4, 240.0),
                point(Mode::Batched, model::PIPELINED, 1, 7, 700.0),
            ],
        );

        // Then the calls target is met with ten writes a send only, the
        // throughput target either way, and the tables show every run
        let mut o = String::new();
        targets(&mut o, &r);
        let calls = o
            .lines()
            .find(|l| l.contains("AWS calls per write"))
            .unwrap();
        assert!(
            calls.ends_with("| with up to 10 writes a send only |"),
            "{calls}"
        );
        assert!(
            calls.contains(
                "with up to 10 writes a send (not the default) 4.00 (40 %) at 240 writes/s"
            ),
            "{calls}"
        );
        assert!(
            calls.contains("with one send per write (not the default) 7.00 (70 %) at 700 writes/s"),
            "{calls}"
        );
        let rate = o.lines().find(|l| l.contains("≥ 200 writes/s")).unwrap();
        assert!(
            rate.contains("650 writes/s with 8")
                && rate.contains("; 240 with up to 10 writes a send")
                && rate.contains("; 700 with one send per write"),
            "{rate}"
        );
        let mut o = String::new();
        pipelined_table(&mut o, &r);
        assert!(
            o.contains("| s3, up to 10 writes a send | 64 | 240 |"),
            "{o}"
        );
        assert!(o.contains("| s3, one send per write | 64 | 700 |"), "{o}");
        let mut o = String::new();
        behind(&mut o, &r);
        assert!(
            o.contains("make 4.00 calls per write, within the target, at 240"),
            "{o}"
        );
        assert!(o.contains("make 7.00 calls per write at 700"), "{o}");
    }

    #[test]
    fn a_stores_default_sends_are_named_with_the_stores_that_share_them() {
        let line = default_sends();
        for store in ["s3", "dynamodb", "redis"] {
            let how = sends_of(model::client_batch(store));
            let clause = line
                .split(", ")
                .find(|clause| clause.contains(store))
                .unwrap_or_else(|| panic!("{store} in {line}"));
            assert!(clause.starts_with(&how), "{store}: {how} in {line}");
        }
    }

    #[test]
    fn splicing_rewrites_only_the_models_part() {
        let doc = format!(
            "# Benchmarks\n\n{TARGET_ROW} old | yes |\n\n- moto.{} 7 → 29.\n\n## Throughput\n\nstack rows\n\n### The design without the emulator\n\nold model\n\n## Cold start\n\ncold rows\n",
            &BEHIND_TAIL[..BEHIND_TAIL.find(')').unwrap() + 1]
        );
        let r = Results::default();
        let once = splice(&doc, &r).unwrap();
        assert!(
            once.contains("stack rows") && once.contains("cold rows"),
            "{once}"
        );
        assert!(
            !once.contains("old model") && !once.contains("7 → 29"),
            "{once}"
        );
        assert!(once.contains(BEHIND_TAIL), "{once}");
        assert!(!once.contains("old | yes"), "{once}");
    }
}
