//! Waiting on the tree: each wait leaves a one-shot watch, checks its
//! condition, and waits for the watch's event before checking again. The
//! session's event stream is subscribed to *before* the watch is left, so
//! no event can fall between the two.

use std::time::Duration;

use fk_client::{Client, Error, WatchedEvent};
use tokio::sync::broadcast::{self, error::RecvError};

/// Returns once `path` does not exist.
pub(crate) async fn until_deleted(client: &Client, path: &str) -> Result<(), Error> {
    loop {
        let mut events = client.subscribe()?;
        if client.exists_and_watch(path).await?.is_none() {
            return Ok(());
        }
        next_event_on(&mut events, path).await?;
    }
}

/// Returns once `path` exists.
pub(crate) async fn until_exists(client: &Client, path: &str) -> Result<(), Error> {
    loop {
        let mut events = client.subscribe()?;
        if client.exists_and_watch(path).await?.is_some() {
            return Ok(());
        }
        next_event_on(&mut events, path).await?;
    }
}

/// Returns the children of `dir` once `done` holds for them.
pub(crate) async fn until_children(
    client: &Client,
    dir: &str,
    done: impl Fn(&[String]) -> bool,
) -> Result<Vec<String>, Error> {
    loop {
        let mut events = client.subscribe()?;
        let (children, _) = client.get_children_and_watch(dir).await?;
        if done(&children) {
            return Ok(children);
        }
        next_event_on(&mut events, dir).await?;
    }
}

/// How long a wait trusts its watch before it checks again anyway: a
/// session that expired sends no event, and the next check answers
/// `SessionExpired` instead of waiting for ever.
const RECHECK: Duration = Duration::from_secs(5);

/// Waits for the next event on `path`, or [`RECHECK`]. A lagging
/// subscriber may have missed the event: it returns too, and the caller
/// checks again.
async fn next_event_on(
    events: &mut broadcast::Receiver<WatchedEvent>,
    path: &str,
) -> Result<(), Error> {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(event) if event.path == path => return Ok(()),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => return Ok(()),
                Err(RecvError::Closed) => return Err(Error::ConnectionLoss),
            }
        }
    };
    tokio::time::timeout(RECHECK, wait).await.unwrap_or(Ok(()))
}
