//! The watch commands: addWatch, removewatches, and `wait` (fk's own: a
//! script's way to wait for the events its watches will get).

use std::time::Duration;

use fk_client::{AddWatchMode, Client, Code, WatcherType};

use super::{Failure, Output};

/// `addWatch`'s modes, named as zkCli names them (any case).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum WatchMode {
    #[value(name = "PERSISTENT", alias = "persistent", alias = "Persistent")]
    Persistent,
    #[value(
        name = "PERSISTENT_RECURSIVE",
        alias = "persistent_recursive",
        alias = "persistent-recursive",
        alias = "Persistent_Recursive"
    )]
    PersistentRecursive,
}

pub async fn add(zk: &Client, path: String, mode: WatchMode) -> Result<Output, Failure> {
    let mode = match mode {
        WatchMode::Persistent => AddWatchMode::Persistent,
        WatchMode::PersistentRecursive => AddWatchMode::PersistentRecursive,
    };
    zk.add_watch(&path, mode)
        .await
        .map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Done)
}

/// `removewatches path [-c|-d|-a]`: child, data, or (the default) every
/// kind.
pub async fn remove(
    zk: &Client,
    path: String,
    children: bool,
    data: bool,
) -> Result<Output, Failure> {
    let kind = match (children, data) {
        (true, _) => WatcherType::Children,
        (_, true) => WatcherType::Data,
        _ => WatcherType::Any,
    };
    zk.remove_watches(&path, kind)
        .await
        .map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Done)
}

pub async fn wait(events: &EventCount, count: usize, timeout: u64) -> Result<Output, Failure> {
    if events
        .wait_for_total(count, Some(Duration::from_secs(timeout)))
        .await
    {
        Ok(Output::Done)
    } else {
        Err(Failure::keeper("", Code::OperationTimeout.into()))
    }
}

/// How many watch events have arrived since `fk` started, for `wait`
/// (counted whether `printwatches` prints them or not).
#[derive(Clone)]
pub struct EventCount(tokio::sync::watch::Sender<usize>);

impl Default for EventCount {
    fn default() -> Self {
        EventCount(tokio::sync::watch::channel(0).0)
    }
}

impl EventCount {
    pub fn arrived(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    /// Waits until `total` events in all have arrived; `false` on timeout
    /// (`None`: no timeout).
    pub async fn wait_for_total(&self, total: usize, timeout: Option<Duration>) -> bool {
        let mut count = self.0.subscribe();
        let reached = count.wait_for(|n| *n >= total);
        match timeout {
            Some(t) => tokio::time::timeout(t, reached)
                .await
                .is_ok_and(|r| r.is_ok()),
            None => reached.await.is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_once_the_total_has_arrived_and_times_out_before() {
        let events = EventCount::default();
        events.arrived();

        let one = events
            .wait_for_total(1, Some(Duration::from_millis(10)))
            .await;
        let two = events
            .wait_for_total(2, Some(Duration::from_millis(10)))
            .await;

        assert!(one);
        assert!(!two);
    }
}
