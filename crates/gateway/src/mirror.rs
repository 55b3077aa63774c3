//! The watches a ZooKeeper client has been told it holds, as the gateway
//! keeps track of them: what `checkWatches` answers from, and what
//! `setWatches` after a reconnect compares with.
//!
//! The fk client's registry decides which notifications reach the
//! session; this mirror follows what the *connection* has delivered: a
//! watch enters it when the reply that set it is written, and leaves it
//! when the event that fires it is written, so the two never disagree
//! about order.

use std::collections::{BTreeMap, BTreeSet};

use fk_client::{AddWatchMode, EventType, WatcherType};

/// A one-shot watch's kind, as ZooKeeper's client keeps them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Data,
    Exist,
    Child,
}

impl Kind {
    fn fires_on(self, event_type: EventType) -> bool {
        match self {
            Kind::Data | Kind::Exist => event_type != EventType::NodeChildrenChanged,
            Kind::Child => matches!(
                event_type,
                EventType::NodeChildrenChanged | EventType::NodeDeleted
            ),
        }
    }
}

/// A watch a reply sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    OneShot(String, Kind),
    Persistent(String, AddWatchMode),
}

#[derive(Debug, Default)]
pub struct Mirror {
    one_shot: BTreeSet<(String, Kind)>,
    persistent: BTreeMap<String, AddWatchMode>,
}

impl Mirror {
    pub fn add(&mut self, added: Added) {
        match added {
            Added::OneShot(path, kind) => {
                self.one_shot.insert((path, kind));
            }
            Added::Persistent(path, mode) => {
                self.persistent.insert(path, mode);
            }
        }
    }

    /// An event was delivered: the one-shot watches it fires are gone.
    pub fn fire(&mut self, event_type: EventType, path: &str) {
        self.one_shot
            .retain(|(p, kind)| p != path || !kind.fires_on(event_type));
    }

    /// Whether a one-shot watch of `kind` is held on `path`.
    pub fn has(&self, path: &str, kind: Kind) -> bool {
        self.one_shot.contains(&(path.to_string(), kind))
    }

    pub fn has_persistent(&self, path: &str, mode: AddWatchMode) -> bool {
        self.persistent.get(path) == Some(&mode)
    }

    /// `checkWatches`: whether any watch of `watcher_type` is held on
    /// `path` (a persistent one counts as both).
    pub fn holds(&self, path: &str, watcher_type: WatcherType) -> bool {
        let data = self.has(path, Kind::Data) || self.has(path, Kind::Exist);
        let child = self.has(path, Kind::Child);
        self.persistent.contains_key(path)
            || match watcher_type {
                WatcherType::Data => data,
                WatcherType::Children => child,
                WatcherType::Any => data || child,
            }
    }

    /// `removeWatches` succeeded: forget what it removed (persistent
    /// watches with any type, as the fk client does).
    pub fn remove(&mut self, path: &str, watcher_type: WatcherType) {
        let kinds: &[Kind] = match watcher_type {
            WatcherType::Data => &[Kind::Data, Kind::Exist],
            WatcherType::Children => &[Kind::Child],
            WatcherType::Any => &[Kind::Data, Kind::Exist, Kind::Child],
        };
        for kind in kinds {
            self.one_shot.remove(&(path.to_string(), *kind));
        }
        self.persistent.remove(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_watch_survives_a_data_change_and_fires_on_delete() {
        let mut mirror = Mirror::default();
        mirror.add(Added::OneShot("/a".into(), Kind::Data));
        mirror.add(Added::OneShot("/a".into(), Kind::Child));

        mirror.fire(EventType::NodeDataChanged, "/a");
        assert!(!mirror.holds("/a", WatcherType::Data));
        assert!(mirror.holds("/a", WatcherType::Children));

        mirror.fire(EventType::NodeDeleted, "/a");
        assert!(!mirror.holds("/a", WatcherType::Any));
    }

    #[test]
    fn a_persistent_watch_counts_as_either_type_until_removed() {
        let mut mirror = Mirror::default();
        mirror.add(Added::Persistent("/p".into(), AddWatchMode::Persistent));
        mirror.fire(EventType::NodeDeleted, "/p");
        assert!(mirror.holds("/p", WatcherType::Children));
        mirror.remove("/p", WatcherType::Data);
        assert!(!mirror.holds("/p", WatcherType::Any));
    }
}
