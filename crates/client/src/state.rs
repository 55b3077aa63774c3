//! The session's state, as the application watches it.
//!
//! Two things can suspend a live session, and each clears by itself: the
//! backend failing to answer (the reply queue's long poll or the
//! keep-alive fails) and a write's reply not arriving in time. The session
//! is `Suspended` while either holds, `Connected` once neither does.
//! `Expired` and `Closed` are final.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

/// The session's state, as ZooKeeper's `KeeperState` names it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// The session is alive and the backend answers (ZooKeeper's
    /// `SyncConnected`).
    Connected,
    /// The session may be alive, but the backend does not answer or a
    /// write's reply is overdue (ZooKeeper's `Disconnected`): operations
    /// may fail with `ConnectionLoss` until it is `Connected` again.
    Suspended,
    /// The deployment expired the session: every further operation
    /// answers `SessionExpired`.
    Expired,
    /// The client closed the session: every further operation answers
    /// `SessionExpired`.
    Closed,
    /// A read-only client: it has no session.
    ReadOnly,
}

impl SessionState {
    /// Whether the session has ended, for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, SessionState::Expired | SessionState::Closed)
    }
}

/// The state and the two conditions that suspend it.
pub(crate) struct Status {
    state: watch::Sender<SessionState>,
    unreachable: AtomicBool,
    reply_overdue: AtomicBool,
    /// The application is closing the session: the session record going
    /// away is the close's doing, and the session ends `Closed`.
    closing: AtomicBool,
}

impl Status {
    pub(crate) fn new(initial: SessionState) -> Self {
        Status {
            state: watch::channel(initial).0,
            unreachable: AtomicBool::new(false),
            reply_overdue: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        }
    }

    pub(crate) fn get(&self) -> SessionState {
        *self.state.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<SessionState> {
        self.state.subscribe()
    }

    /// Whether the session has ended (expired or closed).
    pub(crate) fn ended(&self) -> bool {
        self.get().is_terminal()
    }

    /// The backend answered (`true`) or failed to (`false`).
    pub(crate) fn reachable(&self, yes: bool) {
        self.unreachable.store(!yes, Ordering::SeqCst);
        self.settle();
    }

    /// A write's reply is overdue (`true`), or a reply came (`false`).
    pub(crate) fn reply_overdue(&self, yes: bool) {
        self.reply_overdue.store(yes, Ordering::SeqCst);
        self.settle();
    }

    /// The session expired, unless the application is closing it (its
    /// record is then gone because of the close, which ends it `Closed`).
    pub(crate) fn expire(&self) {
        if !self.closing() {
            self.end(SessionState::Expired);
        }
    }

    /// The application started closing the session.
    pub(crate) fn begin_close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    pub(crate) fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    pub(crate) fn close(&self) {
        self.end(SessionState::Closed);
    }

    fn end(&self, state: SessionState) {
        self.state.send_if_modified(|current| {
            let change = !current.is_terminal();
            if change {
                *current = state;
            }
            change
        });
    }

    /// Connected or Suspended, from the two conditions; a final state stays.
    fn settle(&self) {
        let suspended =
            self.unreachable.load(Ordering::SeqCst) || self.reply_overdue.load(Ordering::SeqCst);
        self.state.send_if_modified(|current| {
            let next = match *current {
                SessionState::Connected | SessionState::Suspended if suspended => {
                    SessionState::Suspended
                }
                SessionState::Connected | SessionState::Suspended => SessionState::Connected,
                other => other,
            };
            let change = next != *current;
            *current = next;
            change
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_suspended_while_either_condition_holds() {
        let status = Status::new(SessionState::Connected);
        status.reachable(false);
        status.reply_overdue(true);
        assert_eq!(status.get(), SessionState::Suspended);
        status.reachable(true);
        assert_eq!(
            status.get(),
            SessionState::Suspended,
            "a reply is still overdue"
        );
        status.reply_overdue(false);
        assert_eq!(status.get(), SessionState::Connected);
    }

    #[test]
    fn a_session_being_closed_ends_closed_not_expired() {
        let status = Status::new(SessionState::Connected);
        status.begin_close();
        // The close deleted the session record before its reply came.
        status.expire();
        assert_eq!(status.get(), SessionState::Connected);
        status.close();
        assert_eq!(status.get(), SessionState::Closed);
    }

    #[test]
    fn an_ended_session_stays_ended() {
        let status = Status::new(SessionState::Connected);
        let mut watcher = status.subscribe();
        status.close();
        status.expire();
        status.reachable(false);
        assert_eq!(status.get(), SessionState::Closed);
        assert!(watcher.has_changed().unwrap());
        assert_eq!(*watcher.borrow_and_update(), SessionState::Closed);
    }
}
