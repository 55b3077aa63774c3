//! ZooKeeper's recipes over a FaaSKeeper deployment: the coordination
//! patterns of ZooKeeper's "Recipes and Solutions" page, built only on the
//! public client API, so they behave as they would on ZooKeeper.
//!
//! # Layout
//!
//! - [`Lock`]: an exclusive lock (ephemeral sequential nodes, each waiting
//!   on its predecessor only: no herd effect).
//! - [`RwLock`]: a shared/exclusive lock on the same principle.
//! - [`LeaderElection`]: the lowest candidate leads; the next one takes over
//!   when it goes.
//! - [`Barrier`] and [`DoubleBarrier`]: wait for a node to go; enter and
//!   leave together.
//! - [`Counter`]: an integer updated by versioned `set_data`.
//! - [`Queue`]: a FIFO of sequential nodes; each item is taken once.
//! - `wait`: the waits they share (a node gone, created, its children
//!   changed), each a one-shot watch re-armed until its condition holds.
//!
//! Every recipe's nodes live under a directory node the caller names; the
//! recipes create it (and its parents) when missing. A recipe that holds
//! ephemeral nodes holds them in its client's session: if the session
//! expires, the lock, leadership or barrier membership is gone with it.

mod barrier;
mod counter;
mod election;
mod lock;
mod queue;
mod rwlock;
mod sequence;
mod wait;

pub use barrier::{Barrier, DoubleBarrier};
pub use counter::Counter;
pub use election::LeaderElection;
pub use lock::{Lock, LockGuard};
pub use queue::Queue;
pub use rwlock::{RwLock, RwLockGuard};
