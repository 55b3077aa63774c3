//! A ZooKeeper wire-protocol gateway in front of a FaaSKeeper
//! deployment: ZooKeeper's own clients (the Java client and `zkCli.sh`,
//! kazoo, the `zookeeper-client` crate) talk to the service unchanged.
//! `fk gateway` runs it; docs/gateway.md lists each opcode and its limits.
//!
//! Each ZooKeeper session is one FaaSKeeper session, held by an
//! [`fk_client::Client`]: requests become the client's calls, its errors
//! ZooKeeper's codes, its default watcher's events notifications.
//!
//! # Layout
//!
//! - `proto`: the jute codec: [`proto::jute`] (primitives),
//!   [`proto::request`], [`proto::response`], headers and the handshake.
//! - `server.rs`: [`Gateway`] (the listener) and [`GatewayConfig`].
//! - `connection.rs`: one TCP connection: handshake, the reader (answers
//!   pings), the processor (one request at a time, a span each), the
//!   writer (notifications before the replies that show their change).
//! - `sessions.rs`: ZooKeeper sessions over fk clients, kept for their
//!   timeout after a disconnect so that a client can resume them.
//! - `ops.rs`: each opcode as fk client calls, and what is refused
//!   ([`UNSUPPORTED`]); `rewatch.rs`: setWatches after a reconnect;
//!   `mirror.rs`: the watches the client was told it holds.
//! - `oracle.rs`: `--oracle`, every request also sent to a real ZooKeeper
//!   and each differing answer logged ([`Mismatch`]).

mod connection;
mod mirror;
mod ops;
mod oracle;
pub mod proto;
mod rewatch;
mod server;
mod sessions;

pub use ops::UNSUPPORTED;
pub use oracle::Mismatch;
pub use server::{Gateway, GatewayConfig};
