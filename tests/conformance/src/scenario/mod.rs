//! The scenario DSL: a [`Scenario`] runs operations on one side's sessions
//! and records what they answered, as a transcript both sides can be
//! compared on.
//!
//! # What a transcript shows
//!
//! One line per operation: the session (`s0`, `s1`, …), the call with the
//! scenario's own paths, and the normalised reply: the value, or the
//! `KeeperException.Code` name. A `Stat` shows only what is comparable
//! between two servers:
//!
//! ```text
//! {v0 cv0 av0 len1 nc0 eph:- cz:1 mz:1 pz:1}
//! ```
//!
//! `v`, `cv`, `av`: version, cversion, aversion; `len`: dataLength; `nc`:
//! numChildren; `eph`: whose ephemeral node it is (`-` for none, `s0`,
//! `s1`, … for the scenario's sessions, `other` for anyone else); `cz`,
//! `mz`, `pz`: czxid, mzxid and pzxid as *ranks* among all zxids the
//! transcript shows (1 is the oldest), so only their relative order counts.
//! Times are not compared. Child lists are sorted (ZooKeeper gives them in
//! no particular order). A create inside a multi shows its path and no
//! `Stat`: ZooKeeper 3.8 answers it without one (ZOOKEEPER-4026).
//!
//! A failed multi shows the index and error of the op that failed; the
//! rest of ZooKeeper's per-op report follows from it (see
//! [`crate::zk::MultiError`]).
//!
//! # Watch events
//!
//! Each session collects the watch events it receives. [`Scenario::events`]
//! waits until a session has received a number of events and records them
//! as one line, sorted: it is meant for the events of one write, whose
//! order ZooKeeper 3.8 does not make observable to the reference side (it
//! sends no zxid with an event, and zookeeper-client hands each watcher its
//! own channel). [`Scenario::events_in_order`] keeps the order received,
//! for events that come through one watch (a persistent one) across
//! writes. [`Scenario::no_events`] checks that none arrived. When the
//! scenario ends, an event that a session received and the scenario did not
//! record is a line of its own, so an extra event fails the comparison.
//!
//! # Namespaces
//!
//! Each scenario works under a fresh parent node on each side, made before
//! it starts; its paths are written from the root (`/a/b`) and mapped under
//! that node, which stands for `/`. [`Scenario::real_root`] turns the
//! mapping off for scenarios about the real root (creating or deleting
//! `/`). A path that does not start with `/` is sent as it is.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::call::{Call, Reply};
use crate::transcript::{show_call, show_events, show_reply, ShowStat};
use crate::zk::{Code, Event, SessionOptions, Stat, Zk};

mod events;
mod ops;

pub use events::{EVENT_TIMEOUT, QUIET_PERIOD};
pub use ops::On;

/// Which server a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Apache ZooKeeper 3.8, the reference.
    ZooKeeper,
    /// The local stack, through `fk_client`.
    Ours,
    /// The local stack through the ZooKeeper gateway (`fk-gateway`), with
    /// the reference side's client. At a deliberate difference it may
    /// answer as either side: the difference is the client's (it is
    /// ZooKeeper's), or the service's (it is ours).
    Gateway,
}

/// A session of the scenario: `S(0)` is opened before it starts, more with
/// [`Scenario::session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S(pub usize);

/// What one side is expected to answer at a deliberate difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Any success.
    Ok,
    /// This error code (by name, e.g. `"UNIMPLEMENTED"`).
    Err(&'static str),
}

impl Expect {
    fn matches(&self, reply: &Reply) -> bool {
        match (self, reply.err()) {
            (Expect::Ok, None) => true,
            (Expect::Err(name), Some(code)) => code.0 == *name,
            _ => false,
        }
    }
}

struct Deliberate {
    reason: String,
    zookeeper: Expect,
    ours: Expect,
}

struct Step {
    session: usize,
    call: Call,
    reply: Reply,
    deliberate: Option<Deliberate>,
}

enum Entry {
    Op(Box<Step>),
    Events {
        session: usize,
        events: Vec<Event>,
        expected: Option<usize>,
        sorted: bool,
        /// A deliberate difference: why, and how many events this side
        /// must receive.
        deliberate: Option<(String, usize)>,
    },
    Note(String),
}

/// Opens sessions for one side.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    async fn session(&self, options: SessionOptions) -> Result<Box<dyn Zk>, Code>;
}

struct Session {
    /// `None` once crashed.
    zk: Option<Box<dyn Zk>>,
    id: i64,
    closed: bool,
    /// Whether it ever set a watch.
    watched: bool,
    /// Events received and not yet recorded.
    events: Vec<Event>,
}

/// One side's run of a scenario.
pub struct Scenario {
    side: Side,
    backend: Box<dyn Backend>,
    /// The parent node that stands for `/`.
    ns: String,
    scoped: bool,
    sessions: Vec<Session>,
    log: Vec<Entry>,
    deliberate: Option<Deliberate>,
}

impl Scenario {
    /// A scenario on `side` whose root is the (existing) node `ns`, with
    /// `s0` open.
    pub fn new(side: Side, backend: Box<dyn Backend>, ns: String, s0: Box<dyn Zk>) -> Scenario {
        let mut t = Scenario {
            side,
            backend,
            ns,
            scoped: true,
            sessions: Vec::new(),
            log: Vec::new(),
            deliberate: None,
        };
        t.add_session(s0);
        t
    }

    fn add_session(&mut self, zk: Box<dyn Zk>) -> S {
        self.sessions.push(Session {
            id: zk.session_id(),
            zk: Some(zk),
            closed: false,
            watched: false,
            events: Vec::new(),
        });
        S(self.sessions.len() - 1)
    }

    /// Which server this run is against. Scenarios should not need it: a
    /// difference is written with [`Scenario::deliberate`].
    pub fn side(&self) -> Side {
        self.side
    }

    /// Opens another session.
    pub async fn session(&mut self) -> S {
        self.session_with(SessionOptions::default()).await
    }

    /// Opens another session with these options.
    pub async fn session_with(&mut self, options: SessionOptions) -> S {
        let zk = self
            .backend
            .session(options)
            .await
            .unwrap_or_else(|e| panic!("cannot open a session: {e}"));
        let s = self.add_session(zk);
        self.note(format!("s{} opened", s.0));
        s
    }

    /// A session's id (what `ephemeralOwner` shows for its nodes).
    pub fn session_id(&self, s: S) -> i64 {
        self.sessions[s.0].id
    }

    /// Closes a session and waits until it is closed. Its handle stays, so
    /// that the scenario can show what a closed session answers.
    pub async fn close(&mut self, s: S) {
        self.collect(s).await;
        let result = self.zk(s).close().await;
        self.sessions[s.0].closed = true;
        self.note(format!(
            "s{} close => {}",
            s.0,
            result.map_or_else(|e| e.0, |()| "ok".into())
        ));
    }

    /// Stops a session opened with [`SessionOptions::crashable`] without
    /// closing it: the server expires it after its timeout.
    pub fn crash(&mut self, s: S) {
        let zk = self.sessions[s.0]
            .zk
            .take()
            .unwrap_or_else(|| panic!("s{} is already gone", s.0));
        zk.crash();
        self.note(format!("s{} crashed", s.0));
    }

    /// Records the session's state (`KeeperState`).
    pub fn state(&mut self, s: S) {
        let state = self.zk(s).state();
        self.note(format!("s{} state => {state}", s.0));
    }

    /// Paths from now on are the real ones, not mapped into the
    /// scenario's namespace (for scenarios about `/` itself; such a
    /// scenario must change nothing outside its namespace).
    pub fn real_root(&mut self) {
        self.scoped = false;
        self.note("(paths below are not in the scenario's namespace)");
    }

    /// A line of the scenario's own in the transcript: it must come out the
    /// same on both sides.
    pub fn note(&mut self, line: impl Into<String>) {
        self.log.push(Entry::Note(line.into()));
    }

    /// The next operation differs from ZooKeeper on purpose: each side must
    /// answer as said, and the transcript then shows the reason instead of
    /// the replies.
    pub fn deliberate(&mut self, reason: &str, zookeeper: Expect, ours: Expect) {
        self.deliberate = Some(Deliberate {
            reason: reason.into(),
            zookeeper,
            ours,
        });
    }

    /// Runs `call` on session `s` and records it.
    pub async fn call(&mut self, s: S, call: Call) -> Reply {
        if is_watching(&call) {
            self.sessions[s.0].watched = true;
        }
        let reply = self.send(s, &call).await;
        self.collect(s).await;
        let deliberate = self.deliberate.take();
        self.log.push(Entry::Op(Box::new(Step {
            session: s.0,
            call,
            reply: reply.clone(),
            deliberate,
        })));
        reply
    }

    /// Repeats `call` on session `s` (unrecorded) until its reply
    /// satisfies `done` or `timeout` passes, and records the last reply:
    /// for what a server does in its own time (expiring a session).
    pub async fn eventually(
        &mut self,
        s: S,
        call: Call,
        done: impl Fn(&Reply) -> bool,
        timeout: Duration,
    ) -> Reply {
        let deadline = Instant::now() + timeout;
        let reply = loop {
            let reply = self.send(s, &call).await;
            if done(&reply) || Instant::now() >= deadline {
                break reply;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        self.collect(s).await;
        self.log.push(Entry::Op(Box::new(Step {
            session: s.0,
            call,
            reply: reply.clone(),
            deliberate: self.deliberate.take(),
        })));
        reply
    }

    /// Runs the calls at the same time, each on its session, and returns
    /// their replies in the same order. Nothing is recorded: which one
    /// wins a race may differ, so the scenario notes what must not.
    pub async fn concurrently(&mut self, calls: &[(S, Call)]) -> Vec<Reply> {
        let futures = calls.iter().map(|(s, call)| {
            let zk = self.zk(*s);
            let call = self.map_call(call);
            async move { call.send(zk).await }
        });
        let replies = futures::future::join_all(futures).await;
        let mut sessions: Vec<S> = calls.iter().map(|(s, _)| *s).collect();
        sessions.dedup();
        for s in sessions {
            self.collect(s).await;
        }
        replies.into_iter().map(|r| self.unmap_reply(r)).collect()
    }

    async fn send(&self, s: S, call: &Call) -> Reply {
        let reply = self.map_call(call).send(self.zk(s)).await;
        self.unmap_reply(reply)
    }

    fn zk(&self, s: S) -> &dyn Zk {
        self.sessions
            .get(s.0)
            .and_then(|session| session.zk.as_deref())
            .unwrap_or_else(|| panic!("s{} is not open", s.0))
    }

    fn map_call(&self, call: &Call) -> Call {
        call.map_paths(&|path, sequential| self.map_path(path, sequential))
    }

    /// The path on the server of a scenario path.
    fn map_path(&self, path: &str, sequential: bool) -> String {
        if !self.scoped || !path.starts_with('/') {
            path.to_string()
        } else if path == "/" && !sequential {
            self.ns.clone()
        } else {
            format!("{}{path}", self.ns)
        }
    }

    /// The scenario path of a path on the server.
    fn unmap_path(&self, path: &str) -> String {
        if !self.scoped {
            return path.to_string();
        }
        match path.strip_prefix(&self.ns) {
            Some("") => "/".to_string(),
            Some(rest) if rest.starts_with('/') => rest.to_string(),
            _ => format!("(outside the namespace) {path}"),
        }
    }

    fn unmap_reply(&self, reply: Reply) -> Reply {
        reply.map_paths(&|path| self.unmap_path(path))
    }

    // ---- the transcript ---------------------------------------------------

    /// The transcript: what both sides must agree on.
    pub fn transcript(&self) -> Vec<String> {
        let ranks = self.zxid_ranks();
        let show = StatShower {
            ranks: &ranks,
            session_ids: self.sessions.iter().map(|s| s.id).collect(),
        };
        let mut lines = Vec::new();
        for entry in &self.log {
            match entry {
                Entry::Note(line) => lines.push(format!("# {line}")),
                Entry::Events {
                    session,
                    events,
                    expected,
                    sorted,
                    deliberate,
                } => {
                    let shown = show_events(events, *sorted);
                    let mut line = format!("s{session} events => ");
                    match deliberate {
                        Some((reason, n)) if events.len() == *n => {
                            let _ = write!(line, "(deliberate difference: {reason})");
                        }
                        Some((reason, n)) => {
                            let _ = write!(
                                line,
                                "UNEXPECTED {shown} (this side should receive {n}: {reason})"
                            );
                        }
                        None => line += &shown,
                    }
                    if let Some(n) = expected {
                        let _ = write!(line, " (expected {n} within {EVENT_TIMEOUT:?})");
                    }
                    lines.push(line);
                }
                Entry::Op(step) => lines.push(self.show_step(step, &show)),
            }
        }
        lines
    }

    fn show_step(&self, step: &Step, show: &StatShower) -> String {
        let mut line = format!("s{} {} => ", step.session, show_call(&step.call));
        match &step.deliberate {
            None => line += &show_reply(&step.reply, show),
            Some(d) => {
                let expect = match self.side {
                    Side::ZooKeeper => &d.zookeeper,
                    Side::Ours => &d.ours,
                    Side::Gateway if d.zookeeper.matches(&step.reply) => &d.zookeeper,
                    Side::Gateway => &d.ours,
                };
                if expect.matches(&step.reply) {
                    let _ = write!(line, "(deliberate difference: {})", d.reason);
                } else {
                    let _ = write!(
                        line,
                        "UNEXPECTED {} (this side should answer {expect:?}: {})",
                        show_reply(&step.reply, show),
                        d.reason
                    );
                }
            }
        }
        line
    }

    /// Every zxid the transcript shows, oldest first.
    fn zxid_ranks(&self) -> Vec<i64> {
        let mut zxids = BTreeSet::new();
        for entry in &self.log {
            if let Entry::Op(step) = entry {
                if step.deliberate.is_some() {
                    continue;
                }
                for s in step.reply.stats() {
                    zxids.extend([s.czxid, s.mzxid, s.pzxid]);
                }
            }
        }
        zxids.into_iter().collect()
    }

    /// Records the events sessions that set watches received and the
    /// scenario did not record (after [`QUIET_PERIOD`]), then closes the
    /// sessions still open (the harness does this after the body).
    pub async fn finish(&mut self) {
        if self.sessions.iter().any(|s| s.watched && s.zk.is_some()) {
            tokio::time::sleep(QUIET_PERIOD).await;
        }
        for i in 0..self.sessions.len() {
            if !self.sessions[i].watched {
                continue;
            }
            self.collect(S(i)).await;
            let left = std::mem::take(&mut self.sessions[i].events);
            if !left.is_empty() {
                self.note(format!(
                    "s{i} received events the scenario did not wait for: {}",
                    show_events(&left, true)
                ));
            }
        }
        for session in &mut self.sessions {
            if let Some(zk) = session.zk.take() {
                if !session.closed {
                    let _ = zk.close().await;
                }
            }
        }
    }
}

fn is_watching(call: &Call) -> bool {
    matches!(
        call,
        Call::GetData { watch: true, .. }
            | Call::Exists { watch: true, .. }
            | Call::GetChildren { watch: true, .. }
            | Call::AddWatch { .. }
    )
}

struct StatShower<'a> {
    ranks: &'a [i64],
    session_ids: Vec<i64>,
}

impl ShowStat for StatShower<'_> {
    fn stat(&self, s: &Stat) -> String {
        let rank = |z: i64| self.ranks.iter().position(|r| *r == z).map_or(0, |i| i + 1);
        let owner = if s.ephemeral_owner == 0 {
            "-".to_string()
        } else {
            match self
                .session_ids
                .iter()
                .position(|id| *id == s.ephemeral_owner)
            {
                Some(i) => format!("s{i}"),
                None => "other".to_string(),
            }
        };
        format!(
            "{{v{} cv{} av{} len{} nc{} eph:{owner} cz:{} mz:{} pz:{}}}",
            s.version,
            s.cversion,
            s.aversion,
            s.data_length,
            s.num_children,
            rank(s.czxid),
            rank(s.mzxid),
            rank(s.pzxid),
        )
    }
}
