//! The FaaSKeeper client: ZooKeeper's operations over a serverless
//! deployment.
//!
//! Reads go straight to user storage (S3, DynamoDB or Redis) with strong
//! consistency; no function runs on the read path. Writes go to the writer
//! FIFO queue in the session's own message group, and their replies come
//! back on the session's reply queue, which the client long-polls: that
//! works from behind NAT, with no listening socket.
//!
//! # Layout
//!
//! - [`Client`]: connect, the operations, close.
//! - `session`: the session's reply queue, its listener task, and the
//!   bookkeeping that matches replies to requests.
//! - `watches`: the session's watches, which turn notifications into
//!   [`WatchedEvent`]s ([`Client::subscribe`]).
//!
//! ```no_run
//! # async fn demo(deployment: fk_aws::deployment::Deployment) -> Result<(), fk_core::Error> {
//! use fk_client::Client;
//! use fk_core::CreateMode;
//! let zk = Client::connect(&deployment).await?;
//! let (path, _stat) = zk.create("/app", b"hello", CreateMode::Persistent).await?;
//! let (data, stat) = zk.get_data(&path).await?;
//! zk.set_data(&path, b"v2", Some(stat.version)).await?;
//! zk.close().await?;
//! # Ok(()) }
//! ```

mod client;
mod session;
mod watches;

pub use client::{Client, ConnectOptions, SessionState};
pub use fk_core::watch::{AddWatchMode, EventType, WatcherType};
pub use fk_core::{CreateMode, Error, SessionId, Stat};
pub use watches::WatchedEvent;
