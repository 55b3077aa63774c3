//! Watches: which events a commit fires, to whom, and how they travel.
//!
//! One-shot watches (set by `get_data`, `exists` and `get_children`) live
//! on the watched node's system record, so the writer's lock hands them to
//! the commit with the pre-state ([`crate::PreState::watches`]): firing
//! them needs no query. Persistent and persistent-recursive watches
//! (`addWatch`) are registered through the write path, in commit order,
//! and kept with the commit counter ([`crate::system::Counter`]), which the
//! distributor reads whenever its view of the counter is stale.
//!
//! [`fire`] turns a commit's user-storage changes into ZooKeeper's events
//! (`NodeCreated`, `NodeDeleted`, `NodeDataChanged`, `NodeChildrenChanged`)
//! for each watching session, in the order ZooKeeper's `DataTree` triggers
//! them; the distributor pushes them as one [`WatchBatch`] to the watch
//! queue, and the watch function ([`deliver`]) sends each session its
//! [`Notification`] on the session's channel.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::message::{Envelope, Message};
use crate::user::UserWrite;
use crate::{path, DecodeError, PreState, SessionId, StoreError};

/// ZooKeeper's `Watcher.Event.EventType` of a node event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    NodeCreated,
    NodeDeleted,
    NodeDataChanged,
    NodeChildrenChanged,
}

impl EventType {
    /// ZooKeeper's numeric code of the event type.
    pub fn code(self) -> i32 {
        match self {
            EventType::NodeCreated => 1,
            EventType::NodeDeleted => 2,
            EventType::NodeDataChanged => 3,
            EventType::NodeChildrenChanged => 4,
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// One event on one node.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub path: String,
}

/// The kinds of one-shot watch a node's system record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchKind {
    /// Set by `get_data`, or by `exists` (also on a missing node): fires
    /// on `NodeCreated`, `NodeDataChanged` and `NodeDeleted`.
    Data,
    /// Set by `get_children`: fires on `NodeChildrenChanged` and
    /// `NodeDeleted`.
    Children,
}

impl WatchKind {
    /// Whether an event of `event_type` on the watched node fires it.
    pub fn fires_on(self, event_type: EventType) -> bool {
        match self {
            WatchKind::Data => event_type != EventType::NodeChildrenChanged,
            WatchKind::Children => matches!(
                event_type,
                EventType::NodeChildrenChanged | EventType::NodeDeleted
            ),
        }
    }

    /// The one-letter tag in attribute names.
    pub fn tag(self) -> &'static str {
        match self {
            WatchKind::Data => "d",
            WatchKind::Children => "c",
        }
    }
}

/// A session watching a node, and where its events go.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Watcher {
    pub session: SessionId,
    pub reply_to: String,
}

/// The one-shot watches a node's system record holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NodeWatches {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<Watcher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Watcher>,
}

impl NodeWatches {
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.children.is_empty()
    }

    /// Adds a watch (once per session and kind).
    pub fn add(&mut self, kind: WatchKind, watcher: Watcher) {
        let list = self.list_mut(kind);
        if !list.iter().any(|w| w.session == watcher.session) {
            list.push(watcher);
        }
    }

    /// Removes a session's watch of `kind`, if there.
    pub fn remove(&mut self, kind: WatchKind, session: SessionId) {
        self.list_mut(kind).retain(|w| w.session != session);
    }

    pub fn list(&self, kind: WatchKind) -> &[Watcher] {
        match kind {
            WatchKind::Data => &self.data,
            WatchKind::Children => &self.children,
        }
    }

    fn list_mut(&mut self, kind: WatchKind) -> &mut Vec<Watcher> {
        match kind {
            WatchKind::Data => &mut self.data,
            WatchKind::Children => &mut self.children,
        }
    }
}

/// ZooKeeper's `AddWatchMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddWatchMode {
    /// Every event on the node, until removed.
    Persistent,
    /// Every event on the node and its descendants except
    /// `NodeChildrenChanged`, until removed.
    PersistentRecursive,
}

/// ZooKeeper's `WatcherType` of `removeWatches`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatcherType {
    Children,
    Data,
    Any,
}

/// A persistent or persistent-recursive watch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PersistentWatch {
    pub session: SessionId,
    pub path: String,
    pub mode: AddWatchMode,
    pub reply_to: String,
}

impl PersistentWatch {
    /// Whether an event fires this watch.
    pub fn fires_on(&self, event: &Event) -> bool {
        match self.mode {
            AddWatchMode::Persistent => event.path == self.path,
            AddWatchMode::PersistentRecursive => {
                event.event_type != EventType::NodeChildrenChanged
                    && path::is_within(&event.path, &self.path)
            }
        }
    }
}

/// Notifications pushed and perhaps not yet delivered: per session, the
/// zxid of its latest one. User-store records carry it, and the commit
/// counter keeps it with each entry's time (see [`InFlightEntry`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InFlight(pub BTreeMap<SessionId, i64>);

impl InFlight {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The zxid of `session`'s latest notification in flight.
    pub fn of(&self, session: SessionId) -> Option<i64> {
        self.0.get(&session).copied()
    }
}

/// How long a pushed notification counts as in flight. Far longer than
/// the watch function takes (tens of milliseconds); a notification later
/// than this may be overtaken by the state that follows it.
pub const IN_FLIGHT_MS: i64 = 5_000;

/// One session's latest notification, and when it was pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlightEntry {
    pub session: SessionId,
    pub zxid: i64,
    pub at_ms: i64,
}

/// The in-flight list after a commit at `now_ms` that pushed `fired`:
/// older entries expire, each session keeps its latest.
pub fn in_flight_after(
    before: &[InFlightEntry],
    fired: &Fired,
    zxid: i64,
    now_ms: i64,
) -> Vec<InFlightEntry> {
    let mut after: Vec<InFlightEntry> = before
        .iter()
        .filter(|e| e.at_ms >= now_ms - IN_FLIGHT_MS)
        .filter(|e| !fired.deliveries.iter().any(|d| d.session == e.session))
        .copied()
        .collect();
    after.extend(fired.deliveries.iter().map(|d| InFlightEntry {
        session: d.session,
        zxid,
        at_ms: now_ms,
    }));
    after.sort_by_key(|e| e.session);
    after
}

/// What records carry of the in-flight list.
pub fn in_flight_map(entries: &[InFlightEntry]) -> InFlight {
    InFlight(entries.iter().map(|e| (e.session, e.zxid)).collect())
}

/// The events of one commit for one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub session: SessionId,
    pub reply_to: String,
    pub events: Vec<Event>,
}

/// What one commit fires: the deliveries, and the one-shot watches that
/// fired (removed from their nodes by the same commit).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fired {
    pub deliveries: Vec<Delivery>,
    /// Per node: the one-shot watches that fired.
    pub removed: BTreeMap<String, Vec<(WatchKind, SessionId)>>,
    /// Per node: whether one-shot watches remain after the commit.
    pub remaining: BTreeMap<String, bool>,
}

impl Fired {
    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty()
    }
}

/// The event a user-storage change is, as ZooKeeper's `DataTree` names it.
pub fn event_of(write: &UserWrite) -> Event {
    let (event_type, path) = match write {
        UserWrite::Create { path, .. } => (EventType::NodeCreated, path),
        UserWrite::SetData { path, .. } => (EventType::NodeDataChanged, path),
        UserWrite::Delete { path } => (EventType::NodeDeleted, path),
        UserWrite::Children { path, .. } => (EventType::NodeChildrenChanged, path),
    };
    Event {
        event_type,
        path: path.clone(),
    }
}

/// The events a commit fires, given its user-storage changes in order, the
/// one-shot watches its locked nodes held, and the persistent watches.
///
/// Each one-shot watch fires at most once; a session hears an event once
/// however many of its watches it fires (as ZooKeeper's server sends one
/// notification per connection).
pub fn fire(writes: &[UserWrite], pre: &[PreState], persistent: &[PersistentWatch]) -> Fired {
    let mut one_shot: BTreeMap<&str, NodeWatches> = pre
        .iter()
        .filter(|p| !p.watches.is_empty())
        .map(|p| (p.path.as_str(), p.watches.clone()))
        .collect();
    let mut fired = Fired::default();
    // Deliveries by session, in first-event order.
    let mut by_session: Vec<Delivery> = Vec::new();
    for write in writes {
        let event = event_of(write);
        let mut recipients: Vec<Watcher> = Vec::new();
        if let Some(watches) = one_shot.get_mut(event.path.as_str()) {
            for kind in [WatchKind::Data, WatchKind::Children] {
                if !kind.fires_on(event.event_type) {
                    continue;
                }
                for watcher in std::mem::take(watches.list_mut(kind)) {
                    fired
                        .removed
                        .entry(event.path.clone())
                        .or_default()
                        .push((kind, watcher.session));
                    recipients.push(watcher);
                }
            }
        }
        for watch in persistent.iter().filter(|w| w.fires_on(&event)) {
            recipients.push(Watcher {
                session: watch.session,
                reply_to: watch.reply_to.clone(),
            });
        }
        let mut told: Vec<SessionId> = Vec::new();
        for watcher in recipients {
            if told.contains(&watcher.session) {
                continue;
            }
            told.push(watcher.session);
            match by_session.iter_mut().find(|d| d.session == watcher.session) {
                Some(delivery) => delivery.events.push(event.clone()),
                None => by_session.push(Delivery {
                    session: watcher.session,
                    reply_to: watcher.reply_to,
                    events: vec![event.clone()],
                }),
            }
        }
    }
    for (path, watches) in one_shot {
        if fired.removed.contains_key(path) {
            fired
                .remaining
                .insert(path.to_string(), !watches.is_empty());
        }
    }
    fired.deliveries = by_session;
    fired
}

/// A commit's events, from the distributor to the watch queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchBatch {
    pub zxid: i64,
    pub deliveries: Vec<Delivery>,
}

/// A session's events of one commit, on the session's channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub session: SessionId,
    pub zxid: i64,
    pub events: Vec<Event>,
}

impl Message for WatchBatch {
    fn encode(&self) -> Envelope {
        Envelope {
            body: serde_json::to_string(self).expect("message types serialise"),
            payload: None,
        }
    }

    fn decode(envelope: Envelope) -> Result<Self, DecodeError> {
        Ok(serde_json::from_str(&envelope.body)?)
    }
}

impl Message for Notification {
    fn encode(&self) -> Envelope {
        Envelope {
            body: serde_json::to_string(self).expect("message types serialise"),
            payload: None,
        }
    }

    fn decode(envelope: Envelope) -> Result<Self, DecodeError> {
        Ok(serde_json::from_str(&envelope.body)?)
    }
}

/// The watch queue: one total order of commits' events.
#[async_trait]
pub trait WatchQueue: Send + Sync {
    /// Appends a batch; the same zxid twice within the deduplication
    /// window is delivered once.
    async fn push(&self, batch: &WatchBatch) -> Result<(), StoreError>;
}

/// Where the watch function sends notifications: the sessions' channels.
#[async_trait]
pub trait NotificationSink: Send + Sync {
    async fn notify(&self, reply_to: &str, notification: &Notification) -> Result<(), StoreError>;
}

/// The watch function's work for one batch: each session's events, in
/// order, on its channel. A channel that is gone (the session ended) is
/// skipped; a transient failure is returned for the queue to retry the
/// batch (deliveries are deduplicated by session and zxid).
pub async fn deliver(sink: &dyn NotificationSink, batch: &WatchBatch) -> Result<usize, StoreError> {
    let mut delivered = 0;
    for delivery in &batch.deliveries {
        let notification = Notification {
            session: delivery.session,
            zxid: batch.zxid,
            events: delivery.events.clone(),
        };
        let span = tracing::info_span!(
            "deliver",
            zk.session = %delivery.session,
            zk.zxid = batch.zxid,
            zk.events = delivery.events.len(),
        );
        match sink
            .notify(&delivery.reply_to, &notification)
            .instrument(span)
            .await
        {
            Ok(()) => delivered += 1,
            Err(e) if !e.retryable => {
                tracing::info!(error = %e, session = %delivery.session, zxid = batch.zxid,
                    "notification dropped: the session's channel is gone");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::user::ChildChange;
    use crate::Stat;

    fn session(n: i64) -> SessionId {
        SessionId::from_raw(n).unwrap()
    }

    fn watcher(n: i64) -> Watcher {
        Watcher {
            session: session(n),
            reply_to: format!("q{n}"),
        }
    }

    fn pre(path: &str, data: &[i64], children: &[i64]) -> PreState {
        PreState {
            path: path.into(),
            stat: Some(Stat::default()),
            watches: NodeWatches {
                data: data.iter().map(|n| watcher(*n)).collect(),
                children: children.iter().map(|n| watcher(*n)).collect(),
            },
        }
    }

    fn delete(path: &str, parent: &str, name: &str) -> Vec<UserWrite> {
        vec![
            UserWrite::Delete { path: path.into() },
            UserWrite::Children {
                path: parent.into(),
                stat: Stat::default(),
                change: ChildChange::Removed(name.into()),
                in_flight: Default::default(),
            },
        ]
    }

    fn ev(event_type: EventType, path: &str) -> Event {
        Event {
            event_type,
            path: path.into(),
        }
    }

    #[test]
    fn a_delete_fires_data_and_child_watches_of_the_node_once_then_the_parents() {
        // Session 1 watches /a/b's data and children, and /a's children
        let pre = [pre("/a", &[], &[1]), pre("/a/b", &[1], &[1])];
        let fired = fire(&delete("/a/b", "/a", "b"), &pre, &[]);
        assert_eq!(
            fired.deliveries,
            vec![Delivery {
                session: session(1),
                reply_to: "q1".into(),
                events: vec![
                    ev(EventType::NodeDeleted, "/a/b"),
                    ev(EventType::NodeChildrenChanged, "/a")
                ],
            }]
        );
        assert_eq!(fired.removed["/a/b"].len(), 2);
        assert!(!fired.remaining["/a"]);
    }

    #[test]
    fn a_set_fires_data_watches_and_leaves_child_watches() {
        let pre = [pre("/a", &[1, 2], &[3])];
        let writes = [UserWrite::SetData {
            path: "/a".into(),
            data: Bytes::new(),
            stat: Stat::default(),
            in_flight: Default::default(),
        }];
        let fired = fire(&writes, &pre, &[]);
        let sessions: Vec<_> = fired.deliveries.iter().map(|d| d.session).collect();
        assert_eq!(sessions, vec![session(1), session(2)]);
        assert!(fired.remaining["/a"], "the child watch stays");
    }

    #[test]
    fn recursive_watches_skip_child_events_and_persistent_ones_do_not() {
        let persistent = [
            PersistentWatch {
                session: session(1),
                path: "/a".into(),
                mode: AddWatchMode::PersistentRecursive,
                reply_to: "q1".into(),
            },
            PersistentWatch {
                session: session(2),
                path: "/a".into(),
                mode: AddWatchMode::Persistent,
                reply_to: "q2".into(),
            },
        ];
        let fired = fire(&delete("/a/b", "/a", "b"), &[], &persistent);
        assert_eq!(
            fired.deliveries[0].events,
            vec![ev(EventType::NodeDeleted, "/a/b")]
        );
        assert_eq!(
            fired.deliveries[1].events,
            vec![ev(EventType::NodeChildrenChanged, "/a")]
        );
        assert!(fired.removed.is_empty());
    }

    #[test]
    fn a_recursive_watch_on_the_root_sees_everything_below() {
        let watch = PersistentWatch {
            session: session(1),
            path: "/".into(),
            mode: AddWatchMode::PersistentRecursive,
            reply_to: "q1".into(),
        };
        assert!(watch.fires_on(&ev(EventType::NodeCreated, "/x/y")));
        assert!(!watch.fires_on(&ev(EventType::NodeChildrenChanged, "/x")));
        let prefix = PersistentWatch {
            path: "/a".into(),
            ..watch
        };
        assert!(!prefix.fires_on(&ev(EventType::NodeCreated, "/ab")));
    }

    #[test]
    fn in_flight_entries_expire_and_keep_each_sessions_latest() {
        let entry = |n, zxid, at_ms| InFlightEntry {
            session: session(n),
            zxid,
            at_ms,
        };
        let before = [entry(1, 3, 0), entry(2, 4, 9_000)];
        let fired = Fired {
            deliveries: vec![Delivery {
                session: session(2),
                reply_to: "q2".into(),
                events: vec![ev(EventType::NodeDataChanged, "/a")],
            }],
            ..Fired::default()
        };
        let after = in_flight_after(&before, &fired, 8, 10_000);
        assert_eq!(after, vec![entry(2, 8, 10_000)], "session 1's expired");
        assert_eq!(in_flight_map(&after).of(session(2)), Some(8));
        assert_eq!(in_flight_map(&after).of(session(1)), None);
    }

    #[test]
    fn batches_round_trip_as_json() {
        let batch = WatchBatch {
            zxid: 7,
            deliveries: vec![Delivery {
                session: session(1),
                reply_to: "q".into(),
                events: vec![ev(EventType::NodeDataChanged, "/a")],
            }],
        };
        let env = batch.encode();
        assert!(env.body.contains("\"type\":\"NodeDataChanged\""));
        assert_eq!(WatchBatch::decode(env).unwrap(), batch);
    }
}
