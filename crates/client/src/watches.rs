//! The session's watches as the client holds them, and the events it
//! hands to the application.
//!
//! As in ZooKeeper's own client, the registry decides what the application
//! sees: a notification from the deployment becomes an event only if a
//! watch here matches it, and a one-shot watch is gone once it has fired.
//! A watch removed here but still on a node's record (the server side of
//! a `removeWatches` races with a write) therefore fires into nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use fk_core::watch::{AddWatchMode, Event, EventType, Notification, WatcherType};
use std::time::Duration;

use fk_core::{path, Error, Stat};
use tokio::sync::{broadcast, watch};

/// A node event, as ZooKeeper's `WatchedEvent` carries it, plus the zxid
/// of the commit that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WatchedEvent {
    pub event_type: EventType,
    pub path: String,
    pub zxid: i64,
}

/// How many events a subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 4096;

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

#[derive(Default)]
struct State {
    /// Each one-shot watch, with the zxid its registration saw: `mzxid`
    /// for a data watch, `pzxid` for a child watch (unused for an exists
    /// watch on a missing node).
    one_shot: BTreeMap<(String, OneShot), i64>,
    persistent: BTreeMap<String, BTreeSet<AddWatchMode>>,
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
    events: broadcast::Sender<WatchedEvent>,
    /// The zxid of the last notification received (they arrive in order).
    seen: watch::Sender<i64>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            state: Mutex::default(),
            events: broadcast::channel(EVENT_BUFFER).0,
            seen: watch::channel(0).0,
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<WatchedEvent> {
        self.events.subscribe()
    }

    pub(crate) fn add_one_shot(&self, path: &str, kind: OneShot, zxid: i64) {
        let mut state = self.state.lock().unwrap();
        state.one_shot.insert((path.to_string(), kind), zxid);
    }

    /// Takes back a watch whose registration did not happen.
    pub(crate) fn forget_one_shot(&self, path: &str, kind: OneShot) {
        let mut state = self.state.lock().unwrap();
        state.one_shot.remove(&(path.to_string(), kind));
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
        let watch = |kind| state.one_shot.get(&(path.to_string(), kind)).copied();
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

    pub(crate) fn add_persistent(&self, path: &str, mode: AddWatchMode) {
        let mut state = self.state.lock().unwrap();
        state
            .persistent
            .entry(path.to_string())
            .or_default()
            .insert(mode);
    }

    /// Removes the watches of `watcher_type` on `path`; `NoWatcher` if
    /// there is none (ZooKeeper's client checks its own table first too).
    pub(crate) fn remove(&self, path: &str, watcher_type: WatcherType) -> Result<Removed, Error> {
        let mut state = self.state.lock().unwrap();
        let mut removed = Removed::default();
        let data = matches!(watcher_type, WatcherType::Data | WatcherType::Any);
        let child = matches!(watcher_type, WatcherType::Children | WatcherType::Any);
        for kind in [OneShot::Data, OneShot::Exist] {
            if data && state.one_shot.remove(&(path.to_string(), kind)).is_some() {
                removed.data = true;
            }
        }
        if child
            && state
                .one_shot
                .remove(&(path.to_string(), OneShot::Child))
                .is_some()
        {
            removed.child = true;
        }
        // A persistent watch is a data and a child watch at once.
        if state.persistent.remove(path).is_some() {
            removed.persistent = true;
        }
        if removed == Removed::default() {
            return Err(Error::NoWatcher);
        }
        Ok(removed)
    }

    /// Turns a notification into the application's events: each event
    /// that some watch here matches, once; fired one-shot watches go.
    pub(crate) fn dispatch(&self, notification: &Notification) {
        let mut out = Vec::new();
        {
            let mut state = self.state.lock().unwrap();
            for event in &notification.events {
                if state.fire(event) {
                    out.push(WatchedEvent {
                        event_type: event.event_type,
                        path: event.path.clone(),
                        zxid: notification.zxid,
                    });
                }
            }
        }
        for event in out {
            // No subscriber is not an error: nobody asked to hear it.
            let _ = self.events.send(event);
        }
        self.seen.send_if_modified(|seen| {
            let newer = notification.zxid > *seen;
            if newer {
                *seen = notification.zxid;
            }
            newer
        });
    }
}

impl State {
    fn fire(&mut self, event: &Event) -> bool {
        let mut matched = false;
        for kind in [OneShot::Data, OneShot::Exist, OneShot::Child] {
            if kind.fires_on(event.event_type)
                && self.one_shot.remove(&(event.path.clone(), kind)).is_some()
            {
                matched = true;
            }
        }
        for (watched, modes) in &self.persistent {
            for mode in modes {
                matched |= match mode {
                    AddWatchMode::Persistent => *watched == event.path,
                    AddWatchMode::PersistentRecursive => {
                        event.event_type != EventType::NodeChildrenChanged
                            && path::is_within(&event.path, watched)
                    }
                };
            }
        }
        matched
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
        registry.add_one_shot("/a", OneShot::Data, 1);
        registry.add_one_shot("/a", OneShot::Child, 1);

        registry.dispatch(&notification(5, &[(EventType::NodeDeleted, "/a")]));
        registry.dispatch(&notification(6, &[(EventType::NodeCreated, "/a")]));

        let first = events.try_recv().unwrap();
        assert_eq!((first.event_type, first.zxid), (EventType::NodeDeleted, 5));
        assert!(events.try_recv().is_err(), "one event for two watches");
    }

    #[test]
    fn removing_a_watch_that_is_not_there_is_no_watcher() {
        let registry = Registry::new();
        registry.add_one_shot("/a", OneShot::Child, 1);
        assert_eq!(
            registry.remove("/a", WatcherType::Data),
            Err(Error::NoWatcher)
        );
        let removed = registry.remove("/a", WatcherType::Any).unwrap();
        assert!(removed.child && !removed.data);
        assert_eq!(
            registry.remove("/a", WatcherType::Any),
            Err(Error::NoWatcher)
        );
    }

    #[test]
    fn a_read_past_a_watched_change_is_behind_until_its_notification() {
        let registry = Registry::new();
        registry.add_one_shot("/a", OneShot::Data, 4);
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
        registry.add_persistent("/a", AddWatchMode::PersistentRecursive);
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
