//! Collecting and recording the watch events each session receives (see
//! the parent module for what is recorded).

use std::time::{Duration, Instant};

use super::{Entry, Scenario, Side, S};
use crate::zk::Event;

/// How long [`Scenario::events`] waits for the events it expects.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long [`Scenario::no_events`] (and the end of a scenario that set
/// watches) waits for events that should not come.
pub const QUIET_PERIOD: Duration = Duration::from_millis(500);

impl Scenario {
    /// Moves the events session `s` received into its list.
    pub(super) async fn collect(&mut self, s: S) {
        let Some(zk) = self.sessions[s.0].zk.as_deref() else {
            return;
        };
        let events: Vec<Event> = zk
            .take_events()
            .await
            .into_iter()
            .map(|e| Event {
                path: self.unmap_path(&e.path),
                event_type: e.event_type,
            })
            .collect();
        self.sessions[s.0].events.extend(events);
    }

    /// Waits until session `s` has received `n` events not yet recorded
    /// (at most [`EVENT_TIMEOUT`]), and records them, sorted: for the
    /// events of one write. More than `n` are all recorded.
    pub async fn events(&mut self, s: S, n: usize) {
        self.wait_for_events(s, n, true).await;
    }

    /// Like [`Scenario::events`], in the order received: for events that
    /// come through one watch.
    pub async fn events_in_order(&mut self, s: S, n: usize) {
        self.wait_for_events(s, n, false).await;
    }

    async fn wait_for_events(&mut self, s: S, n: usize, sorted: bool) {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        loop {
            self.collect(s).await;
            if self.sessions[s.0].events.len() >= n || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let events = std::mem::take(&mut self.sessions[s.0].events);
        let expected = (events.len() != n).then_some(n);
        self.log.push(Entry::Events {
            session: s.0,
            events,
            expected,
            sorted,
            deliberate: None,
        });
    }

    /// The events session `s` receives next differ from ZooKeeper's on
    /// purpose: each side must receive as many as said (waiting as
    /// [`Scenario::events`] does, or [`QUIET_PERIOD`] for none), and the
    /// transcript then shows the reason instead of the events.
    pub async fn events_differ(&mut self, s: S, reason: &str, zookeeper: usize, ours: usize) {
        let n = match self.side {
            Side::ZooKeeper => zookeeper,
            // The service decides which watches fire, not the client.
            Side::Ours | Side::Gateway => ours,
        };
        if n == 0 {
            tokio::time::sleep(QUIET_PERIOD).await;
        }
        self.wait_for_events(s, n, true).await;
        if let Some(Entry::Events {
            deliberate,
            expected,
            ..
        }) = self.log.last_mut()
        {
            *deliberate = Some((reason.to_string(), n));
            *expected = None;
        }
    }

    /// Records the events session `s` has received so far, without
    /// waiting: after a read that sees a change, its event must be among
    /// them (ZooKeeper's ordered notifications).
    pub async fn events_received(&mut self, s: S) {
        self.collect(s).await;
        let events = std::mem::take(&mut self.sessions[s.0].events);
        self.log.push(Entry::Events {
            session: s.0,
            events,
            expected: None,
            sorted: true,
            deliberate: None,
        });
    }

    /// Waits [`QUIET_PERIOD`] and records the events session `s` received
    /// meanwhile (and before), which should be none.
    pub async fn no_events(&mut self, s: S) {
        tokio::time::sleep(QUIET_PERIOD).await;
        self.collect(s).await;
        let events = std::mem::take(&mut self.sessions[s.0].events);
        self.log.push(Entry::Events {
            session: s.0,
            events,
            expected: None,
            sorted: true,
            deliberate: None,
        });
    }
}
