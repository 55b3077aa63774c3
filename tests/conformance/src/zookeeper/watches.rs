//! The watch events a ZooKeeper session receives, rebuilt from the crate's
//! watchers.
//!
//! On the wire a session receives one notification per write and
//! (path, event type), however many of its watches that write triggers:
//! the server keeps one watch per session, path and kind, and sends one
//! notification per session (`WatchManager.triggerWatch`; `NodeDeleted`
//! once for data and child watches together). zookeeper-client hands every
//! notification to each of its watchers that wants it, each through a
//! channel of its own, so one notification may reach several of them.
//! [`Watches::drain`] puts them back together: it runs after every
//! operation (the crate hands a notification to the watchers before the
//! answer to any later request of the session), takes what each watcher
//! holds, and counts an event that several watchers hold once — as many
//! times as the one that holds it most.
//!
//! # `removeWatches`
//!
//! The crate has no `removeWatches`; removing a watcher removes the watch
//! on the server once no other watcher of the session needs it, and
//! answers what the server answered. A one-shot watcher that is waited on
//! cannot be removed (waiting consumes it), so each one-shot watch is set
//! twice — the server keeps one watch either way — and the second watcher
//! is the handle that removes it. With no watcher of the kind on the path
//! the crate sends nothing; this adapter then answers `NOWATCHER`, as
//! Java's client does for a watcher it does not hold
//! (`ZKWatchManager.removeWatcher`).

use std::future::Future;
use std::pin::Pin;

use futures::FutureExt as _;
use zookeeper_client as zkc;

use crate::zk::{Event, EventType, WatcherType};

/// A one-shot watch's kind, as the server keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `getData` and `exists` watches.
    Data,
    /// `getChildren` watches.
    Child,
}

type Poller = Pin<Box<dyn Future<Output = zkc::WatchedEvent> + Send>>;

struct Oneshot {
    path: String,
    class: Class,
    poller: Poller,
    handle: zkc::OneshotWatcher,
}

struct Persistent {
    path: String,
    watcher: zkc::PersistentWatcher,
}

/// A session's watchers and the events they delivered.
#[derive(Default)]
pub struct Watches {
    oneshots: Vec<Oneshot>,
    persistents: Vec<Persistent>,
    events: Vec<Event>,
}

/// Watchers taken out of [`Watches`] to be removed.
pub struct Removal {
    handles: Vec<zkc::OneshotWatcher>,
    persistents: Vec<zkc::PersistentWatcher>,
}

impl Watches {
    pub fn add_oneshot(
        &mut self,
        path: &str,
        class: Class,
        poller: zkc::OneshotWatcher,
        handle: zkc::OneshotWatcher,
    ) {
        self.oneshots.push(Oneshot {
            path: path.to_string(),
            class,
            poller: Box::pin(poller.changed()),
            handle,
        });
    }

    pub fn add_persistent(&mut self, path: &str, watcher: zkc::PersistentWatcher) {
        self.persistents.push(Persistent {
            path: path.to_string(),
            watcher,
        });
    }

    /// Takes the events the watchers hold into the session's list.
    pub fn drain(&mut self) {
        let mut sources: Vec<Vec<Event>> = Vec::new();
        self.oneshots
            .retain_mut(|o| match (&mut o.poller).now_or_never() {
                // Fired: the crate has dropped the handle's watch too.
                Some(event) => {
                    sources.push(node_event(event).into_iter().collect());
                    false
                }
                None => true,
            });
        for p in &mut self.persistents {
            let mut events = Vec::new();
            while let Some(event) = p.watcher.changed().now_or_never() {
                events.extend(node_event(event));
            }
            sources.push(events);
        }
        self.events.extend(merge(sources));
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Takes out the watchers `removeWatches(path, kind)` removes. Call
    /// [`Watches::drain`] first: a watcher that has fired is not removed.
    pub fn take_for_removal(&mut self, path: &str, kind: WatcherType) -> Removal {
        self.drain();
        let wanted = |class: Class| match kind {
            WatcherType::Data => class == Class::Data,
            WatcherType::Children => class == Class::Child,
            WatcherType::Any => true,
        };
        let mut handles = Vec::new();
        let mut kept = Vec::new();
        for o in std::mem::take(&mut self.oneshots) {
            if o.path == path && wanted(o.class) {
                // The poller goes first: the handle still holds the watch,
                // so the crate sends nothing for it.
                drop(o.poller);
                handles.push(o.handle);
            } else {
                kept.push(o);
            }
        }
        self.oneshots = kept;
        let mut persistents = Vec::new();
        if kind == WatcherType::Any {
            let (taken, kept) = std::mem::take(&mut self.persistents)
                .into_iter()
                .partition(|p| p.path == path);
            self.persistents = kept;
            persistents = taken.into_iter().map(|p: Persistent| p.watcher).collect();
        }
        Removal {
            handles,
            persistents,
        }
    }
}

/// Removes the watchers; the last of them removes the server's watch and
/// answers what the server answered.
pub async fn remove(removal: Removal) -> Result<(), zkc::Error> {
    if removal.handles.is_empty() && removal.persistents.is_empty() {
        return Err(zkc::Error::NoWatcher);
    }
    let mut result = Ok(());
    for handle in removal.handles {
        #[allow(deprecated)] // "Rust has Drop": dropping does not answer
        let removed = handle.remove().await;
        result = result.and(removed);
    }
    for watcher in removal.persistents {
        #[allow(deprecated)]
        let removed = watcher.remove().await;
        result = result.and(removed);
    }
    result
}

fn node_event(event: zkc::WatchedEvent) -> Option<Event> {
    let event_type = match event.event_type {
        zkc::EventType::NodeCreated => EventType::NodeCreated,
        zkc::EventType::NodeDeleted => EventType::NodeDeleted,
        zkc::EventType::NodeDataChanged => EventType::NodeDataChanged,
        zkc::EventType::NodeChildrenChanged => EventType::NodeChildrenChanged,
        zkc::EventType::Session => return None,
    };
    Some(Event {
        path: event.path,
        event_type,
    })
}

/// The events of several watchers as the notifications they came from: an
/// event in several watchers' lists counts once, in each watcher's order.
fn merge(sources: Vec<Vec<Event>>) -> Vec<Event> {
    let mut merged: Vec<Event> = Vec::new();
    for source in sources {
        let mut cursor = 0;
        for event in source {
            match merged[cursor..].iter().position(|e| *e == event) {
                Some(i) => cursor += i + 1,
                None => {
                    merged.push(event);
                    cursor = merged.len();
                }
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, event_type: EventType) -> Event {
        Event {
            path: path.into(),
            event_type,
        }
    }

    #[test]
    fn one_notification_held_by_two_watchers_counts_once() {
        let deleted = e("/a", EventType::NodeDeleted);
        let merged = merge(vec![vec![deleted.clone()], vec![deleted.clone()]]);
        assert_eq!(merged, vec![deleted]);
    }

    #[test]
    fn a_watcher_holding_an_event_twice_counts_twice() {
        let changed = e("/a", EventType::NodeDataChanged);
        let merged = merge(vec![
            vec![changed.clone()],
            vec![changed.clone(), changed.clone()],
        ]);
        assert_eq!(merged, vec![changed.clone(), changed]);
    }

    #[test]
    fn different_events_keep_each_watchers_order() {
        let a = e("/a", EventType::NodeDataChanged);
        let b = e("/b", EventType::NodeCreated);
        let merged = merge(vec![vec![a.clone(), b.clone()], vec![b.clone()]]);
        assert_eq!(merged, vec![a, b]);
    }
}
