//! The FaaSKeeper client: ZooKeeper's operations over a serverless
//! deployment.
//!
//! Reads go straight to user storage (S3, DynamoDB or Redis) with strong
//! consistency; no function runs on the read path. Writes go to the writer
//! FIFO queue in the session's own message group, and their replies come
//! back on the session's reply queue, which the client long-polls: that
//! works from behind NAT, with no listening socket.
//!
//! The API follows the Rust ZooKeeper clients (the `zookeeper-client`
//! crate; docs/client.md compares the two call by call), with ZooKeeper's
//! names: [`CreateMode`], [`Stat`], [`Code`] (`KeeperException.Code`),
//! [`EventType`], [`WatchedEvent`].
//!
//! # Layout
//!
//! - [`Client`] (`client.rs`): reads, writes, `create_all`, close;
//!   [`ClientBuilder`] and [`ConnectOptions`] (`options.rs`).
//! - `connect.rs`: opening a session, and what connecting checks: each
//!   resource of the deployment exists and may be used, or the error
//!   names it.
//! - `send.rs`: the write path: seq order, replies, safe retries.
//! - `watching.rs`: watched reads and persistent watches, with a handle per
//!   watch ([`OneshotWatcher`], [`PersistentWatcher`]) or for the session's
//!   default watcher ([`Client::subscribe`]); `watches.rs`: the registry
//!   that routes the deployment's notifications to them.
//! - [`MultiBuilder`] and [`MultiFailure`] (`multi.rs`): atomic multi-op
//!   writes and ZooKeeper's per-op report.
//! - [`Error`] and [`Code`] (`error.rs`): ZooKeeper's codes, with the
//!   backend failure underneath as the error's `source()`.
//! - [`RetryPolicy`] (`retry.rs`): what is retried, and when it is safe.
//! - [`SessionState`] (`state.rs`), watched with [`Client::state_watcher`];
//!   `session.rs`: the reply queue's listener (stopped between two long
//!   polls when the session is handed on), the requests waiting for a
//!   reply, the keep-alive.
//! - [`DetachedSession`] (`detach.rs`): [`Client::detach`] and
//!   [`Client::resume`] carry a session from one process to the next.
//!
//! # Connect, read, write
//!
//! ```no_run
//! # async fn demo(deployment: fk_client::Deployment) -> Result<(), fk_client::Error> {
//! use std::time::Duration;
//! use fk_client::{Client, Code, CreateMode, RetryPolicy};
//!
//! let zk = Client::builder(&deployment)
//!     .session_timeout(Duration::from_secs(10))
//!     .retry_policy(RetryPolicy::exponential(
//!         Duration::from_millis(50),
//!         Duration::from_secs(2),
//!         5,
//!     ))
//!     .connect()
//!     .await?;
//! let (path, _stat) = zk.create_all("/app/config", b"v1", CreateMode::Persistent).await?;
//! let (data, stat) = zk.get_data(&path).await?;
//! assert_eq!(data, b"v1");
//! zk.set_data(&path, b"v2", Some(stat.version)).await?;
//! match zk.delete("/app/missing", None).await {
//!     Err(e) if e == Code::NoNode => {}
//!     other => other?,
//! }
//! zk.close().await?;
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every error has a ZooKeeper [`Code`] ([`Error::code`], or compare
//! directly: `err == Code::NoNode`). A failure of AWS or Redis keeps its
//! cause: [`Error::kind`] tells "cannot reach" (`ConnectionLoss`,
//! retryable) from "not allowed" (`NoAuth`) from "a queue, table or bucket
//! that does not exist" (`SystemError`), [`Error::resource`] names the
//! resource, and [`std::error::Error::source`] is the backend's error.
//! Connecting checks every resource the client will use, so a wrong
//! deployment document fails there.
//!
//! # Watches
//!
//! ```no_run
//! # async fn demo(zk: fk_client::Client) -> Result<(), fk_client::Error> {
//! use fk_client::{AddWatchMode, EventType};
//!
//! // One-shot: the handle yields the one event of this watch.
//! let (_data, _stat, watcher) = zk.get_and_watch_data("/app/config").await?;
//! let event = watcher.changed().await?;
//! assert_eq!(event.path, "/app/config");
//!
//! // Persistent: every change below /app, in commit order, until removed.
//! let mut changes = zk.watch("/app", AddWatchMode::PersistentRecursive).await?;
//! while let Ok(event) = changes.changed().await {
//!     if event.event_type == EventType::NodeDeleted {
//!         break;
//!     }
//! }
//! changes.remove().await?;
//! # Ok(()) }
//! ```
//!
//! No channel drops events: each handle's and each default-watcher
//! stream's is unbounded, so a slow reader holds its backlog in memory.
//!
//! # Multi
//!
//! ```no_run
//! # async fn demo(zk: fk_client::Client) -> Result<(), fk_client::Error> {
//! use fk_client::{Code, CreateMode, OpResult};
//!
//! let outcome = zk
//!     .new_multi()
//!     .check("/app", None)
//!     .create("/app/lock", b"", CreateMode::Ephemeral)
//!     .set_data("/app/config", b"v3", None)
//!     .commit()
//!     .await;
//! match outcome {
//!     Ok(results) => assert!(matches!(results[1], OpResult::Created { .. })),
//!     Err(failure) => {
//!         // ZooKeeper's report: Ok before the failing op, its code, then
//!         // RuntimeInconsistency.
//!         assert_eq!(failure.index(), Some(1));
//!         assert_eq!(failure.results[1], Err(Code::NodeExists));
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Retries
//!
//! With a [`RetryPolicy`], reads are retried after a transient failure,
//! and writes only where that cannot apply them twice (see
//! [`RetryPolicy`]). Without one (the default) every error reaches the
//! caller.

mod client;
mod connect;
mod detach;
mod error;
mod handles;
mod multi;
mod options;
mod outbox;
mod retry;
mod send;
mod session;
mod state;
mod watches;
mod watching;

pub use client::Client;
pub use detach::DetachedSession;
pub use error::{Code, Error};
pub use fk_aws::calls::CallCounter;
pub use fk_aws::deployment::{Deployment, UserStoreConfig};
pub use fk_core::watch::{AddWatchMode, EventType, WatcherType};
pub use fk_core::{CreateMode, FailureKind, Op, OpResult, SessionId, Stat};
pub use handles::{OneshotWatcher, PersistentWatcher};
pub use multi::{MultiBuilder, MultiFailure};
pub use options::{default_batch_sends, ClientBuilder, ConnectOptions, S3_BATCH_SENDS};
pub use retry::RetryPolicy;
pub use state::SessionState;
pub use watches::WatchedEvent;
