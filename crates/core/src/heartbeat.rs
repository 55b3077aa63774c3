//! The heartbeat function's logic: expire the sessions that stopped
//! answering.
//!
//! Clients keep their session alive by touching its record; the heartbeat,
//! on a schedule, scans the sessions and sends a `CloseSession` write for
//! each one silent for longer than its timeout. The close is an ordinary
//! write in the session's own FIFO group, so it takes effect after every
//! write the session sent, and deletes the session's ephemeral nodes in one
//! ordered commit.

use std::sync::Arc;

use crate::queue::WriteQueue;
use crate::system::SystemStore;
use crate::{Clock, Op, SessionId, StoreError, WriteRequest};

/// The request number of a close sent by the heartbeat: outside any
/// client's range, so its token never collides with a client's write.
pub const EXPIRY_SEQ: u64 = u64::MAX;

/// Whether refusing the session's request `seq` decides it for good.
///
/// A client's request is answered once: its refusal is recorded so that no
/// copy commits later. The heartbeat's close is different: every run sends
/// it again until it takes effect (a close refused because a lock stayed
/// held must be tried again, or the session would never expire), and
/// closing a session twice is harmless: the second finds it gone.
pub fn refusal_is_final(seq: u64) -> bool {
    seq != EXPIRY_SEQ
}

pub struct Heartbeat {
    system: Arc<dyn SystemStore>,
    writes: Arc<dyn WriteQueue>,
    clock: Arc<dyn Clock>,
}

/// What one run found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub sessions: usize,
    pub expired: Vec<SessionId>,
}

impl Heartbeat {
    pub fn new(
        system: Arc<dyn SystemStore>,
        writes: Arc<dyn WriteQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Heartbeat {
            system,
            writes,
            clock,
        }
    }

    /// Scans the sessions and sends a close for each expired one. Sending
    /// the same close again (a later run before it took effect) is
    /// deduplicated by the writer queue.
    pub async fn run(&self) -> Result<Report, StoreError> {
        let now = self.clock.now_ms();
        let sessions = self.system.sessions().await?;
        let mut report = Report {
            sessions: sessions.len(),
            expired: Vec::new(),
        };
        for session in sessions {
            if session.heartbeat_ms + session.timeout_ms >= now {
                continue;
            }
            let close = WriteRequest {
                session: session.id,
                seq: EXPIRY_SEQ,
                reply_to: session.reply_to.clone(),
                op: Op::CloseSession,
            };
            self.writes.send(&close).await?;
            tracing::info!(session = %session.id, silent_ms = now - session.heartbeat_ms, "session expired");
            report.expired.push(session.id);
        }
        Ok(report)
    }
}
