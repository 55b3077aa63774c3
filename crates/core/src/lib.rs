//! ZooKeeper's data model and the FaaSKeeper write algorithm, with no AWS in
//! sight.
//!
//! # Layout
//!
//! - [`path`], [`Stat`], [`CreateMode`], [`Error`], [`SessionId`]: the model
//!   and vocabulary users know from ZooKeeper.
//! - [`Op`], [`message`]: writes and the messages that carry them across the
//!   writer queue, the distributor queue and the client channel.
//! - [`system`], [`user`], [`queue`]: the narrow ports the functions need
//!   (system storage, user storage, queues), and [`memory`], a complete
//!   in-memory implementation of each.
//! - [`transition`]: validation and the state change of a write, as pure
//!   functions of the locked pre-state.
//! - [`writer`] and [`distributor`]: the two halves of the write path.
//! - [`heartbeat`]: expiry of sessions that stopped answering.
//! - [`watch`]: which events a commit fires, and their delivery.
//!
//! # The write path
//!
//! A write is locked and validated by the writer, which hands it, still
//! locked, to a single FIFO queue; the distributor commits writes in that
//! queue's order (that order defines the zxid), releases the locks, applies
//! the change to user storage and replies. Every step can be repeated after a
//! crash: locks are re-entrant for the same request token, pushes are
//! deduplicated by token, and the commit counter remembers recent tokens.

pub mod clock;
pub mod distributor;
pub mod error;
pub mod heartbeat;
pub mod memory;
pub mod message;
pub mod mode;
pub mod op;
pub mod path;
pub mod queue;
pub mod session;
pub mod spans;
pub mod stat;
pub mod system;
pub mod transition;
pub mod user;
pub mod watch;
pub mod writer;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, FailureKind, StoreError};
pub use message::{
    Bundled, CommitBundle, CommitRequest, DecodeError, Envelope, Message, Outcome, PreState, Reply,
    WriteRequest,
};
pub use mode::CreateMode;
pub use op::{Op, OpResult};
pub use queue::{CommitQueue, Outgoing, ReplySink, WriteQueue};
pub use session::SessionId;
pub use stat::Stat;
pub use user::{UserNode, UserStore};
