//! The session's watches as the client holds them, and the events it
//! hands to the application.
//!
//! As in ZooKeeper's own client, the registry decides what the application
//! sees: a notification from the deployment becomes an event only if a
//! watch here matches it, and a one-shot watch is gone once it has fired.
//! A watch removed here but still on a node's record (the server side of
//! a `removeWatches` races with a write) therefore fires into nothing.
//!
//! Each watch goes to one receiver: its own handle
//! ([`OneshotWatcher`](crate::OneshotWatcher),
//! [`PersistentWatcher`](crate::PersistentWatcher), in `handles.rs`) or the session's default watcher (every stream
//! from [`Client::subscribe`](crate::Client::subscribe), ZooKeeper's
//! `watch = true`). Every channel is unbounded: an application that reads
//! slowly holds its events in memory, and never loses one.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use fk_core::watch::{AddWatchMode, Event, EventType, Notification, WatcherType};
use fk_core::{path, Stat};
use tokio::sync::{mpsc, oneshot, watch};

use crate::{Code, Error};

/// A node event, as ZooKeeper's `WatchedEvent` carries it, plus the zxid
/// of the commit that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WatchedEvent {
    pub event_type: EventType,
    pub path: String,
    pub zxid: i64,
}

/// What a watch handle receives: the event, or why none will come.
pub(crate) type Delivery = Result<WatchedEvent, Error>;

/// One-shot watch kinds as ZooKeeper's client keeps them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum OneShot {
    Data,
    Exist,
    Child,
}

impl OneShot {
    fn fires_on(self, event_type: EventType) -> bool {
        match self {
            OneShot::Data | OneShot::Exist => event_type != EventType::NodeChildrenChanged,
            OneShot::Child => matches!(
                event_type,
                EventType::NodeChildrenChanged | EventType::NodeDeleted
            ),
        }
    }
}

/// The one-shot watches on one path and kind: the default watcher's, and
/// each handle's.
struct OneShotEntry {
    /// The zxid the latest registration saw: `mzxid` for a data watch,
    /// `pzxid` for a child watch (unused for an exists watch on a missing
    /// node).
    zxid: i64,
    default: bool,
    handles: Vec<oneshot::Sender<Delivery>>,
}

enum PersistentTo {
    Default,
    Handle(u64, mpsc::UnboundedSender<Delivery>),
}

struct PersistentEntry {
    mode: AddWatchMode,
    to: PersistentTo,
}

#[derive(Default)]
struct State {
    one_shot: BTreeMap<(String, OneShot), OneShotEntry>,
    persistent: BTreeMap<String, Vec<PersistentEntry>>,
    /// The default watcher's streams.
    defaults: Vec<mpsc::UnboundedSender<WatchedEvent>>,
    next_handle: u64,
    /// Why no event will come any more, once the session has ended.
    ended: Option<Error>,
}

/// What `remove_watches` took away, for the server side.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Removed {
    pub data: bool,
    pub child: bool,
    pub persistent: bool,
}

pub(crate) struct Registry {
    state: Mutex<State>,
    /// The zxid of the last notification received (they arrive in order).
    seen: watch::Sender<i64>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            state: Mutex::default(),
            seen: watch::channel(0).0,
        }
    }

    /// A new stream of the default watcher's events.
    pub(crate) fn subscribe(&self) -> mpsc::UnboundedReceiver<WatchedEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.state.lock().unwrap();
        if state.ended.is_none() {
            state.defaults.push(tx);
        }
        rx
    }

    /// Registers a one-shot watch, for the default watcher (`to: None`) or
    /// a handle. Returns whether it set the default watcher's watch, for
    /// [`Registry::forget_one_shot`].
    pub(crate) fn add_one_shot(
        &self,
        path: &str,
        kind: OneShot,
        zxid: i64,
        to: Option<oneshot::Sender<Delivery>>,
    ) -> bool {
        let mut state = self.state.lock().unwrap();
        let entry = state
            .one_shot
            .entry((path.to_string(), kind))
            .or_insert(OneShotEntry {
                zxid,
                default: false,
                handles: Vec::new(),
            });
        entry.zxid = zxid;
        match to {
            Some(tx) => {
                entry.handles.push(tx);
                false
            }
            None => !std::mem::replace(&mut entry.default, true),
        }
    }

    /// Takes back a registration that did not happen: the default
    /// watcher's if `set_default` (what `add_one_shot` returned), and any
    /// handle whose receiver is gone (the caller drops it first).
    pub(crate) fn forget_one_shot(&self, path: &str, kind: OneShot, set_default: bool) {
        let mut state = self.state.lock().unwrap();
        let key = (path.to_string(), kind);
        if let Some(entry) = state.one_shot.get_mut(&key) {
            if set_default {
                entry.default = false;
            }
            entry.handles.retain(|tx| !tx.is_closed());
            if !entry.default && entry.handles.is_empty() {
                state.one_shot.remove(&key);
            }
        }
    }

    /// Waits (at most `timeout`) until the notification of `zxid` (or a
    /// later one) has arrived.
    pub(crate) async fn catch_up_to(&self, zxid: i64, timeout: Duration) {
        let mut seen = self.seen.subscribe();
        let arrived = tokio::time::timeout(timeout, seen.wait_for(|z| *z >= zxid)).await;
        if !matches!(arrived, Ok(Ok(_))) {
            tracing::warn!(zxid, "a notification in flight did not come in time");
        }
    }

    /// Whether `node`, just read at `path`, shows a change that one of our
    /// one-shot watches there has not yet been notified of.
    pub(crate) fn behind(&self, path: &str, node: Option<&Stat>) -> bool {
        let state = self.state.lock().unwrap();
        let watch = |kind| {
            state
                .one_shot
                .get(&(path.to_string(), kind))
                .map(|e| e.zxid)
        };
        let data_moved = watch(OneShot::Data).is_some_and(|m| node.is_none_or(|s| s.mzxid != m));
        let child_moved = watch(OneShot::Child).is_some_and(|p| node.is_none_or(|s| s.pzxid != p));
        let created = watch(OneShot::Exist).is_some() && node.is_some();
        data_moved || child_moved || created
    }

    /// Waits (at most `timeout`) until [`Registry::behind`] no longer
    /// holds: the notification that the read's state implies has come.
    pub(crate) async fn catch_up(&self, path: &str, node: Option<&Stat>, timeout: Duration) {
        let mut seen = self.seen.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        while self.behind(path, node) {
            match tokio::time::timeout_at(deadline, seen.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    tracing::warn!(
                        path,
                        "the notification for a watched change did not come in time"
                    );
                    return;
                }
            }
        }
    }

    /// Registers a persistent watch for the default watcher (`None`) or a
    /// new handle (its id and stream).
    pub(crate) fn add_persistent(
        &self,
        path: &str,
        mode: AddWatchMode,
        handle: bool,
    ) -> Option<(u64, mpsc::UnboundedReceiver<Delivery>)> {
        let mut state = self.state.lock().unwrap();
        let (to, out) = if handle {
            let (tx, rx) = mpsc::unbounded_channel();
            state.next_handle += 1;
            let id = state.next_handle;
            (PersistentTo::Handle(id, tx), Some((id, rx)))
        } else {
            (PersistentTo::Default, None)
        };
        state
            .persistent
            .entry(path.to_string())
            .or_default()
            .push(PersistentEntry { mode, to });
        out
    }

    /// Removes one handle's persistent watch; returns whether any
    /// persistent watch is left on `path`.
    pub(crate) fn remove_persistent_handle(&self, path: &str, id: u64) -> bool {
        let mut state = self.state.lock().unwrap();
        let Some(entries) = state.persistent.get_mut(path) else {
            return false;
        };
        entries.retain(|e| !matches!(e.to, PersistentTo::Handle(i, _) if i == id));
        let left = !entries.is_empty();
        if !left {
            state.persistent.remove(path);
        }
        left
    }

    /// Removes the watches of `watcher_type` on `path`, and every
    /// persistent one there; `NoWatcher` if there is none (ZooKeeper's
    /// client checks its own table first too). Their handles hear
    /// `NoWatcher`.
    pub(crate) fn remove(&self, path: &str, watcher_type: WatcherType) -> Result<Removed, Error> {
        let mut state = self.state.lock().unwrap();
        let mut removed = Removed::default();
        let data = matches!(watcher_type, WatcherType::Data | WatcherType::Any);
        let child = matches!(watcher_type, WatcherType::Children | WatcherType::Any);
        let gone = || Error::because(Code::NoWatcher, format!("the watch on {path} was removed"));
        let mut kinds = Vec::new();
        if data {
            kinds.extend([OneShot::Data, OneShot::Exist]);
        }
        if child {
            kinds.push(OneShot::Child);
        }
        for kind in kinds {
            if let Some(entry) = state.one_shot.remove(&(path.to_string(), kind)) {
                match kind {
                    OneShot::Child => removed.child = true,
                    _ => removed.data = true,
                }
                for tx in entry.handles {
                    let _ = tx.send(Err(gone()));
                }
            }
        }
        // A persistent watch is a data and a child watch at once.
        if let Some(entries) = state.persistent.remove(path) {
            removed.persistent = true;
            for entry in entries {
                if let PersistentTo::Handle(_, tx) = entry.to {
                    let _ = tx.send(Err(gone()));
                }
            }
        }
        if removed == Removed::default() {
            return Err(Code::NoWatcher.into());
        }
        Ok(removed)
    }

    /// Turns a notification into the application's events: each event
    /// goes once to each handle whose watch matches it, and once to the
    /// default watcher if any of its watches does; fired one-shot watches
    /// go.
    pub(crate) fn dispatch(&self, notification: &Notification) {
        {
            let mut state = self.state.lock().unwrap();
            for event in &notification.events {
                state.fire(event, notification.zxid);
            }
        }
        self.seen.send_if_modified(|seen| {
            let newer = notification.zxid > *seen;
            if newer {
                *seen = notification.zxid;
            }
            newer
        });
    }

    /// The session ended: every handle hears `why`, the default watcher's
    /// streams end, and nothing is delivered any more.
    pub(crate) fn end(&self, why: Error) {
        let mut state = self.state.lock().unwrap();
        for (_, entry) in std::mem::take(&mut state.one_shot) {
            for tx in entry.handles {
                let _ = tx.send(Err(why.clone()));
            }
        }
        for (_, entries) in std::mem::take(&mut state.persistent) {
            for entry in entries {
                if let PersistentTo::Handle(_, tx) = entry.to {
                    let _ = tx.send(Err(why.clone()));
                }
            }
        }
        state.defaults.clear();
        state.ended = Some(why);
    }
}

impl State {
    fn fire(&mut self, event: &Event, zxid: i64) {
        let watched = WatchedEvent {
            event_type: event.event_type,
            path: event.path.clone(),
            zxid,
        };
        let mut to_default = false;
        for kind in [OneShot::Data, OneShot::Exist, OneShot::Child] {
            if !kind.fires_on(event.event_type) {
                continue;
            }
            if let Some(entry) = self.one_shot.remove(&(event.path.clone(), kind)) {
                to_default |= entry.default;
                for tx in entry.handles {
                    let _ = tx.send(Ok(watched.clone()));
                }
            }
        }
        for (path, entries) in self.persistent.iter_mut() {
            entries.retain(|entry| {
                let matches = match entry.mode {
                    AddWatchMode::Persistent => *path == event.path,
                    AddWatchMode::PersistentRecursive => {
                        event.event_type != EventType::NodeChildrenChanged
                            && path::is_within(&event.path, path)
                    }
                };
                match (&entry.to, matches) {
                    (_, false) => true,
                    (PersistentTo::Default, true) => {
                        to_default = true;
                        true
                    }
                    // A handle dropped without `remove`: its watch goes here.
                    (PersistentTo::Handle(_, tx), true) => tx.send(Ok(watched.clone())).is_ok(),
                }
            });
        }
        self.persistent.retain(|_, entries| !entries.is_empty());
        if to_default {
            // A stream dropped by the application is forgotten.
            self.defaults.retain(|tx| tx.send(watched.clone()).is_ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use fk_core::SessionId;

    use super::*;

    fn notification(zxid: i64, events: &[(EventType, &str)]) -> Notification {
        Notification {
            session: SessionId::from_raw(1).unwrap(),
            zxid,
            events: events
                .iter()
                .map(|(t, p)| Event {
                    event_type: *t,
                    path: p.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_one_shot_watch_delivers_once_and_unmatched_events_are_dropped() {
        let registry = Registry::new();
        let mut events = registry.subscribe();
        registry.add_one_shot("/a", OneShot::Data, 1, None);
        registry.add_one_shot("/a", OneShot::Child, 1, None);

        registry.dispatch(&notification(5, &[(EventType::NodeDeleted, "/a")]));
        registry.dispatch(&notification(6, &[(EventType::NodeCreated, "/a")]));

        let first = events.try_recv().unwrap();
        assert_eq!((first.event_type, first.zxid), (EventType::NodeDeleted, 5));
        assert!(events.try_recv().is_err(), "one event for two watches");
    }

    #[test]
    fn each_handle_receives_exactly_the_events_of_its_own_watch() {
        // given two handles on two paths, and the default watcher on a third
        let registry = Registry::new();
        let mut defaults = registry.subscribe();
        let (a_tx, mut a_rx) = oneshot::channel();
        let (b_tx, mut b_rx) = oneshot::channel();
        registry.add_one_shot("/a", OneShot::Data, 1, Some(a_tx));
        registry.add_one_shot("/b", OneShot::Data, 1, Some(b_tx));
        registry.add_one_shot("/c", OneShot::Data, 1, None);

        // when /a and /c change
        registry.dispatch(&notification(
            7,
            &[
                (EventType::NodeDataChanged, "/a"),
                (EventType::NodeDataChanged, "/c"),
            ],
        ));

        // then /a's handle has its event, /b's none, the default watcher /c's
        assert_eq!(a_rx.try_recv().unwrap().unwrap().path, "/a");
        assert!(b_rx.try_recv().is_err());
        assert_eq!(defaults.try_recv().unwrap().path, "/c");
        assert!(
            defaults.try_recv().is_err(),
            "the handles' events are theirs"
        );
    }

    #[test]
    fn two_handles_on_one_path_each_receive_the_event() {
        let registry = Registry::new();
        let (first_tx, mut first) = oneshot::channel();
        let (second_tx, mut second) = oneshot::channel();
        registry.add_one_shot("/a", OneShot::Data, 1, Some(first_tx));
        registry.add_one_shot("/a", OneShot::Data, 1, Some(second_tx));
        registry.dispatch(&notification(2, &[(EventType::NodeDeleted, "/a")]));
        assert_eq!(first.try_recv().unwrap().unwrap().zxid, 2);
        assert_eq!(second.try_recv().unwrap().unwrap().zxid, 2);
    }

    #[test]
    fn a_slow_reader_of_a_persistent_watch_loses_no_event() {
        // given a persistent handle nobody reads
        let registry = Registry::new();
        let (_, mut events) = registry
            .add_persistent("/a", AddWatchMode::PersistentRecursive, true)
            .unwrap();
        // when far more events come than the old shared buffer held (4,096)
        for zxid in 1..=10_000 {
            registry.dispatch(&notification(zxid, &[(EventType::NodeDataChanged, "/a/b")]));
        }
        // then every one is there, in order
        for zxid in 1..=10_000 {
            assert_eq!(events.try_recv().unwrap().unwrap().zxid, zxid);
        }
        assert!(events.try_recv().is_err());
    }

    #[test]
    fn a_slow_default_watcher_loses_no_event() {
        let registry = Registry::new();
        let events = registry.subscribe();
        registry.add_persistent("/a", AddWatchMode::Persistent, false);
        for zxid in 1..=10_000 {
            registry.dispatch(&notification(zxid, &[(EventType::NodeDataChanged, "/a")]));
        }
        assert_eq!(events.len(), 10_000);
    }

    #[test]
    fn a_removed_watch_tells_its_handle_and_the_end_tells_the_rest() {
        let registry = Registry::new();
        let (removed_tx, mut removed) = oneshot::channel();
        let (kept_tx, mut kept) = oneshot::channel();
        registry.add_one_shot("/a", OneShot::Child, 1, Some(removed_tx));
        registry.add_one_shot("/b", OneShot::Data, 1, Some(kept_tx));
        let (_, mut persistent) = registry
            .add_persistent("/p", AddWatchMode::Persistent, true)
            .unwrap();
        let mut defaults = registry.subscribe();

        registry.remove("/a", WatcherType::Any).unwrap();
        assert_eq!(removed.try_recv().unwrap().unwrap_err(), Code::NoWatcher);

        registry.end(Code::SessionExpired.into());
        assert_eq!(kept.try_recv().unwrap().unwrap_err(), Code::SessionExpired);
        assert_eq!(
            persistent.try_recv().unwrap().unwrap_err(),
            Code::SessionExpired
        );
        assert!(matches!(
            defaults.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
    }

    #[test]
    fn removing_a_watch_that_is_not_there_is_no_watcher() {
        let registry = Registry::new();
        registry.add_one_shot("/a", OneShot::Child, 1, None);
        assert_eq!(
            registry.remove("/a", WatcherType::Data).unwrap_err(),
            Code::NoWatcher
        );
        let removed = registry.remove("/a", WatcherType::Any).unwrap();
        assert!(removed.child && !removed.data);
        assert_eq!(
            registry.remove("/a", WatcherType::Any).unwrap_err(),
            Code::NoWatcher
        );
    }

    #[test]
    fn a_failed_registration_is_taken_back_without_touching_the_others() {
        let registry = Registry::new();
        let (kept_tx, _kept) = oneshot::channel();
        registry.add_one_shot("/a", OneShot::Data, 1, Some(kept_tx));
        let set = registry.add_one_shot("/a", OneShot::Data, 1, None);
        assert!(set);
        registry.forget_one_shot("/a", OneShot::Data, set);
        assert!(registry.behind("/a", None), "the handle's watch stays");
        let removed = registry.remove("/a", WatcherType::Data).unwrap();
        assert!(removed.data);
    }

    #[test]
    fn a_read_past_a_watched_change_is_behind_until_its_notification() {
        let registry = Registry::new();
        registry.add_one_shot("/a", OneShot::Data, 4, None);
        let unchanged = Stat {
            mzxid: 4,
            ..Stat::default()
        };
        let changed = Stat {
            mzxid: 9,
            ..Stat::default()
        };
        assert!(!registry.behind("/a", Some(&unchanged)));
        assert!(registry.behind("/a", Some(&changed)));
        assert!(registry.behind("/a", None), "deleted");

        registry.dispatch(&notification(9, &[(EventType::NodeDataChanged, "/a")]));

        assert!(!registry.behind("/a", Some(&changed)));
    }

    #[test]
    fn a_recursive_watch_ignores_child_events_below_it() {
        let registry = Registry::new();
        let mut events = registry.subscribe();
        registry.add_persistent("/a", AddWatchMode::PersistentRecursive, false);
        registry.dispatch(&notification(
            3,
            &[
                (EventType::NodeCreated, "/a/b"),
                (EventType::NodeChildrenChanged, "/a"),
            ],
        ));
        assert_eq!(events.try_recv().unwrap().path, "/a/b");
        assert!(events.try_recv().is_err());
    }
}
