//! The handles of watches with a receiver of their own: what
//! `get_and_watch_*`, `check_and_watch_stat` and `watch` return.

use std::sync::Weak;

use fk_core::watch::AddWatchMode;
use tokio::sync::{mpsc, oneshot};

use crate::client::Inner;
use crate::watches::{Delivery, WatchedEvent};
use crate::{Client, Code, Error};

/// The handle of one one-shot watch, from a `get_and_watch_*` or
/// `check_and_watch_stat` call: [`changed`](OneshotWatcher::changed)
/// yields its one event.
#[derive(Debug)]
#[must_use = "the watch's event comes through `changed`"]
pub struct OneshotWatcher {
    path: String,
    receiver: oneshot::Receiver<Delivery>,
}

impl OneshotWatcher {
    pub(crate) fn new(path: &str, receiver: oneshot::Receiver<Delivery>) -> Self {
        OneshotWatcher {
            path: path.to_string(),
            receiver,
        }
    }

    /// The watched path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Waits for the watch's event. Fails with `NoWatcher` if the watch
    /// was removed (`remove_watches`), `SessionExpired` if the session
    /// ended first.
    pub async fn changed(self) -> Result<WatchedEvent, Error> {
        match self.receiver.await {
            Ok(delivery) => delivery,
            Err(_) => Err(Error::because(
                Code::SessionExpired,
                "the client was dropped before the watch fired",
            )),
        }
    }
}

/// The handle of one persistent (or persistent-recursive) watch, from
/// [`Client::watch`]: every event it matches, in commit order, until
/// [`remove`](PersistentWatcher::remove) or the session's end.
///
/// Events queue without bound until read: a slow reader loses none.
/// Dropping the handle stops delivery to it; the deployment keeps sending
/// the path's notifications (into nothing) until `remove` or
/// `remove_watches`.
#[derive(Debug)]
pub struct PersistentWatcher {
    path: String,
    mode: AddWatchMode,
    id: u64,
    receiver: mpsc::UnboundedReceiver<Delivery>,
    client: Weak<Inner>,
    /// Why it ended, once it has.
    ended: Option<Error>,
}

impl PersistentWatcher {
    pub(crate) fn new(
        path: &str,
        mode: AddWatchMode,
        id: u64,
        receiver: mpsc::UnboundedReceiver<Delivery>,
        client: Weak<Inner>,
    ) -> Self {
        PersistentWatcher {
            path: path.to_string(),
            mode,
            id,
            receiver,
            client,
            ended: None,
        }
    }

    /// The watched path.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn mode(&self) -> AddWatchMode {
        self.mode
    }

    /// The next event. Once the watch is removed or the session has ended,
    /// every call fails with why (`NoWatcher`, `SessionExpired`).
    pub async fn changed(&mut self) -> Result<WatchedEvent, Error> {
        if let Some(why) = &self.ended {
            return Err(why.clone());
        }
        let delivery = match self.receiver.recv().await {
            Some(delivery) => delivery,
            None => Err(Error::because(
                Code::SessionExpired,
                "the client was dropped",
            )),
        };
        if let Err(why) = &delivery {
            self.ended = Some(why.clone());
        }
        delivery
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_changed(&mut self) -> Option<Result<WatchedEvent, Error>> {
        if let Some(why) = &self.ended {
            return Some(Err(why.clone()));
        }
        let delivery = self.receiver.try_recv().ok()?;
        if let Err(why) = &delivery {
            self.ended = Some(why.clone());
        }
        Some(delivery)
    }

    /// Removes this watch; the deployment's persistent watch on the path
    /// goes with the session's last one there.
    pub async fn remove(mut self) -> Result<(), Error> {
        let Some(inner) = self.client.upgrade() else {
            return Ok(());
        };
        self.ended = Some(Code::NoWatcher.into());
        let client = Client::from_inner(inner);
        client.remove_persistent_handle(&self.path, self.id).await
    }
}

impl Drop for PersistentWatcher {
    fn drop(&mut self) {
        if self.ended.is_some() {
            return;
        }
        if let Some(inner) = self.client.upgrade() {
            Client::from_inner(inner).forget_persistent_handle(&self.path, self.id);
        }
    }
}
