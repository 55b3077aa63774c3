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
//! no particular order).
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

use crate::zk::{Call, Code, Mode, Reply, Stat, Zk};

/// Which server a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Apache ZooKeeper 3.8, the reference.
    ZooKeeper,
    /// The local stack, through `fk_client`.
    Ours,
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
        match (self, reply) {
            (Expect::Ok, reply) => reply.is_ok(),
            (Expect::Err(name), Reply::Err(code)) => code.0 == *name,
            (Expect::Err(_), _) => false,
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
    Note(String),
}

/// Opens sessions for one side.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    async fn session(&self) -> Result<Box<dyn Zk>, Code>;
}

/// One side's run of a scenario.
pub struct Scenario {
    side: Side,
    backend: Box<dyn Backend>,
    /// The parent node that stands for `/`.
    ns: String,
    scoped: bool,
    sessions: Vec<Option<Box<dyn Zk>>>,
    session_ids: Vec<i64>,
    log: Vec<Entry>,
    deliberate: Option<Deliberate>,
}

impl Scenario {
    /// A scenario on `side` whose root is the (existing) node `ns`, with
    /// `s0` open.
    pub fn new(side: Side, backend: Box<dyn Backend>, ns: String, s0: Box<dyn Zk>) -> Scenario {
        let id = s0.session_id();
        Scenario {
            side,
            backend,
            ns,
            scoped: true,
            sessions: vec![Some(s0)],
            session_ids: vec![id],
            log: Vec::new(),
            deliberate: None,
        }
    }

    /// Which server this run is against. Scenarios should not need it: a
    /// difference is written with [`Scenario::deliberate`].
    pub fn side(&self) -> Side {
        self.side
    }

    /// Opens another session.
    pub async fn session(&mut self) -> S {
        let zk = self
            .backend
            .session()
            .await
            .unwrap_or_else(|e| panic!("cannot open a session: {e}"));
        self.session_ids.push(zk.session_id());
        self.sessions.push(Some(zk));
        let s = S(self.sessions.len() - 1);
        self.note(format!("s{} opened", s.0));
        s
    }

    /// A session's id (what `ephemeralOwner` shows for its nodes).
    pub fn session_id(&self, s: S) -> i64 {
        self.session_ids[s.0]
    }

    /// Closes a session and waits until it is closed.
    pub async fn close(&mut self, s: S) {
        let zk = self.sessions[s.0]
            .take()
            .unwrap_or_else(|| panic!("s{} is already closed", s.0));
        let result = zk.close().await;
        self.note(format!(
            "s{} close => {}",
            s.0,
            result.map_or_else(|e| e.0, |()| "ok".into())
        ));
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
        let reply = self.send(s, &call).await;
        let deliberate = self.deliberate.take();
        self.log.push(Entry::Op(Box::new(Step {
            session: s.0,
            call,
            reply: reply.clone(),
            deliberate,
        })));
        reply
    }

    /// Runs the calls at the same time, each on its session, and returns
    /// their replies in the same order. Nothing is recorded: which one
    /// wins a race may differ, so the scenario notes what must not.
    pub async fn concurrently(&mut self, calls: &[(S, Call)]) -> Vec<Reply> {
        let futures = calls.iter().map(|(s, call)| {
            let zk = self.session_ref(*s);
            let call = self.map_call(call);
            async move { call.send(zk).await }
        });
        let replies = futures::future::join_all(futures).await;
        replies.into_iter().map(|r| self.unmap_reply(r)).collect()
    }

    async fn send(&self, s: S, call: &Call) -> Reply {
        let zk = self.session_ref(s);
        let reply = self.map_call(call).send(zk).await;
        self.unmap_reply(reply)
    }

    fn session_ref(&self, s: S) -> &dyn Zk {
        self.sessions
            .get(s.0)
            .and_then(Option::as_deref)
            .unwrap_or_else(|| panic!("s{} is not open", s.0))
    }

    fn map_call(&self, call: &Call) -> Call {
        call.with_path(self.map_path(call.path(), call.is_sequential()))
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

    fn unmap_reply(&self, reply: Reply) -> Reply {
        match reply {
            Reply::Created { path, stat } if self.scoped => {
                let path = match path.strip_prefix(&self.ns) {
                    Some("") => "/".to_string(),
                    Some(rest) if rest.starts_with('/') => rest.to_string(),
                    _ => format!("(outside the namespace) {path}"),
                };
                Reply::Created { path, stat }
            }
            other => other,
        }
    }

    // ---- the operations, on s0 and on any session ------------------------

    pub async fn create(&mut self, path: &str, data: impl AsRef<[u8]>, mode: Mode) -> Reply {
        self.on(S(0)).create(path, data, mode).await
    }
    pub async fn get_data(&mut self, path: &str) -> Reply {
        self.on(S(0)).get_data(path).await
    }
    pub async fn set_data(
        &mut self,
        path: &str,
        data: impl AsRef<[u8]>,
        version: Option<i32>,
    ) -> Reply {
        self.on(S(0)).set_data(path, data, version).await
    }
    pub async fn delete(&mut self, path: &str, version: Option<i32>) -> Reply {
        self.on(S(0)).delete(path, version).await
    }
    pub async fn exists(&mut self, path: &str) -> Reply {
        self.on(S(0)).exists(path).await
    }
    pub async fn get_children(&mut self, path: &str) -> Reply {
        self.on(S(0)).get_children(path).await
    }
    pub async fn get_children2(&mut self, path: &str) -> Reply {
        self.on(S(0)).get_children2(path).await
    }

    /// The operations on session `s`: `t.on(s1).create(…)`.
    pub fn on(&mut self, s: S) -> On<'_> {
        On { t: self, s }
    }

    // ---- the transcript ---------------------------------------------------

    /// The transcript: what both sides must agree on.
    pub fn transcript(&self) -> Vec<String> {
        let ranks = self.zxid_ranks();
        let rank = |z: i64| ranks.iter().position(|r| *r == z).map_or(0, |i| i + 1);
        let mut lines = Vec::new();
        for entry in &self.log {
            match entry {
                Entry::Note(line) => lines.push(format!("# {line}")),
                Entry::Op(step) => {
                    let Step {
                        session,
                        call,
                        reply,
                        deliberate,
                    } = &**step;
                    let mut line = format!("s{session} {} => ", show_call(call));
                    match deliberate {
                        None => line += &self.show_reply(reply, &rank),
                        Some(d) => {
                            let expect = match self.side {
                                Side::ZooKeeper => &d.zookeeper,
                                Side::Ours => &d.ours,
                            };
                            if expect.matches(reply) {
                                let _ = write!(line, "(deliberate difference: {})", d.reason);
                            } else {
                                let _ = write!(
                                    line,
                                    "UNEXPECTED {} (this side should answer {expect:?}: {})",
                                    self.show_reply(reply, &rank),
                                    d.reason
                                );
                            }
                        }
                    }
                    lines.push(line);
                }
            }
        }
        lines
    }

    /// Every zxid the transcript shows, oldest first.
    fn zxid_ranks(&self) -> Vec<i64> {
        let mut zxids = BTreeSet::new();
        for entry in &self.log {
            if let Entry::Op(step) = entry {
                if step.deliberate.is_some() {
                    continue;
                }
                if let Some(s) = step.reply.stat() {
                    zxids.extend([s.czxid, s.mzxid, s.pzxid]);
                }
            }
        }
        zxids.into_iter().collect()
    }

    fn show_reply(&self, reply: &Reply, rank: &dyn Fn(i64) -> usize) -> String {
        let stat = |s: &Stat| self.show_stat(s, rank);
        match reply {
            Reply::Created { path, stat: s } => format!("{path} {}", stat(s)),
            Reply::Data { data, stat: s } => format!("{} {}", show_data(data), stat(s)),
            Reply::Stat(s) => stat(s),
            Reply::Done => "ok".into(),
            Reply::Exists(None) => "none".into(),
            Reply::Exists(Some(s)) => stat(s),
            Reply::Children(children) => show_children(children),
            Reply::Children2 { children, stat: s } => {
                format!("{} {}", show_children(children), stat(s))
            }
            Reply::Err(code) => code.0.clone(),
        }
    }

    fn show_stat(&self, s: &Stat, rank: &dyn Fn(i64) -> usize) -> String {
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

    /// Closes the sessions still open (the harness does, after the body).
    pub async fn finish(&mut self) {
        for zk in self.sessions.iter_mut().filter_map(Option::take) {
            let _ = zk.close().await;
        }
    }
}

/// The operations on one session; see [`Scenario::on`].
pub struct On<'a> {
    t: &'a mut Scenario,
    s: S,
}

impl On<'_> {
    pub async fn create(self, path: &str, data: impl AsRef<[u8]>, mode: Mode) -> Reply {
        self.t.call(self.s, Call::create(path, data, mode)).await
    }
    pub async fn get_data(self, path: &str) -> Reply {
        self.t.call(self.s, Call::get_data(path)).await
    }
    pub async fn set_data(self, path: &str, data: impl AsRef<[u8]>, version: Option<i32>) -> Reply {
        self.t
            .call(self.s, Call::set_data(path, data, version))
            .await
    }
    pub async fn delete(self, path: &str, version: Option<i32>) -> Reply {
        self.t.call(self.s, Call::delete(path, version)).await
    }
    pub async fn exists(self, path: &str) -> Reply {
        self.t.call(self.s, Call::exists(path)).await
    }
    pub async fn get_children(self, path: &str) -> Reply {
        self.t.call(self.s, Call::get_children(path)).await
    }
    pub async fn get_children2(self, path: &str) -> Reply {
        self.t.call(self.s, Call::get_children2(path)).await
    }
}

fn show_call(call: &Call) -> String {
    let version = |v: &Option<i32>| match v {
        None => "any".to_string(),
        Some(v) => v.to_string(),
    };
    match call {
        Call::Create { path, data, mode } => {
            format!("create {} {} {mode}", show_path(path), show_data(data))
        }
        Call::GetData { path } => format!("get_data {}", show_path(path)),
        Call::SetData {
            path,
            data,
            version: v,
        } => format!(
            "set_data {} {} version={}",
            show_path(path),
            show_data(data),
            version(v)
        ),
        Call::Delete { path, version: v } => {
            format!("delete {} version={}", show_path(path), version(v))
        }
        Call::Exists { path } => format!("exists {}", show_path(path)),
        Call::GetChildren { path } => format!("get_children {}", show_path(path)),
        Call::GetChildren2 { path } => format!("get_children2 {}", show_path(path)),
    }
}

/// Child names, sorted: ZooKeeper gives them in no particular order.
fn show_children(children: &[String]) -> String {
    let mut sorted = children.to_vec();
    sorted.sort();
    format!("{sorted:?}")
}

/// A path, quoted (with escapes) when it holds anything unusual.
fn show_path(path: &str) -> String {
    if !path.is_empty() && path.chars().all(|c| c.is_ascii_graphic()) {
        path.to_string()
    } else {
        format!("{path:?}")
    }
}

/// Data as a quoted string when it is printable text, else as hex.
fn show_data(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) if !text.chars().any(char::is_control) => format!("{text:?}"),
        _ => {
            let mut hex = String::from("0x");
            for b in data {
                let _ = write!(hex, "{b:02x}");
            }
            hex
        }
    }
}
