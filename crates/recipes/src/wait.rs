//! Waiting on the tree: each wait reads with a one-shot watch of its own
//! (a handle, so no other wait or default watcher shares its event),
//! checks its condition, and waits for that watch before checking again.

use std::time::Duration;

use fk_client::{Client, Error, OneshotWatcher};

/// Returns once `path` does not exist.
pub(crate) async fn until_deleted(client: &Client, path: &str) -> Result<(), Error> {
    loop {
        let (stat, watcher) = client.check_and_watch_stat(path).await?;
        if stat.is_none() {
            return Ok(());
        }
        fired(watcher).await?;
    }
}

/// Returns once `path` exists.
pub(crate) async fn until_exists(client: &Client, path: &str) -> Result<(), Error> {
    loop {
        let (stat, watcher) = client.check_and_watch_stat(path).await?;
        if stat.is_some() {
            return Ok(());
        }
        fired(watcher).await?;
    }
}

/// Returns the children of `dir` once `done` holds for them.
pub(crate) async fn until_children(
    client: &Client,
    dir: &str,
    done: impl Fn(&[String]) -> bool,
) -> Result<Vec<String>, Error> {
    loop {
        let (children, _, watcher) = client.get_and_watch_children(dir).await?;
        if done(&children) {
            return Ok(children);
        }
        fired(watcher).await?;
    }
}

/// How long a wait trusts its watch before it checks again anyway: the
/// check after it answers `SessionExpired` if the session went meanwhile.
const RECHECK: Duration = Duration::from_secs(5);

/// Waits for the watch's event, or [`RECHECK`].
async fn fired(watcher: OneshotWatcher) -> Result<(), Error> {
    match tokio::time::timeout(RECHECK, watcher.changed()).await {
        Ok(Ok(_)) | Err(_) => Ok(()),
        Ok(Err(e)) => Err(e),
    }
}
