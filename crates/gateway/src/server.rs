//! The listening socket and what every connection shares.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fk_client::{ConnectOptions, Deployment};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::oracle::{Mismatch, Oracle};
use crate::sessions::Sessions;

/// How the gateway listens and negotiates.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Where to listen (port 0: a free one; [`Gateway::local_addr`] says
    /// which).
    pub listen: SocketAddr,
    /// The session timeouts granted: a client's request is clamped into
    /// this range, as ZooKeeper's `minSessionTimeout` and
    /// `maxSessionTimeout` do (defaults: 2 and 20 ticks of 2 s).
    pub min_session_timeout: Duration,
    pub max_session_timeout: Duration,
    /// A real ZooKeeper (`host:port`) to send every request to as well,
    /// logging each answer that differs from ours.
    pub oracle: Option<String>,
    /// How each session's fk client connects (its session timeout is the
    /// negotiated one).
    pub connect: ConnectOptions,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 2181)),
            min_session_timeout: Duration::from_secs(4),
            max_session_timeout: Duration::from_secs(40),
            oracle: None,
            connect: ConnectOptions::default(),
        }
    }
}

/// What every connection of a gateway shares.
pub struct Shared {
    pub deployment: Deployment,
    pub connect: ConnectOptions,
    pub sessions: Arc<Sessions>,
    pub oracle: Option<Oracle>,
    min_timeout: Duration,
    max_timeout: Duration,
}

impl Shared {
    /// The session timeout granted for a request of `asked_ms`.
    pub fn negotiate(&self, asked_ms: i32) -> Duration {
        Duration::from_millis(asked_ms.max(0) as u64).clamp(self.min_timeout, self.max_timeout)
    }
}

/// A running gateway: accepts connections until dropped.
pub struct Gateway {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Gateway {
    /// Binds `config.listen` and starts accepting ZooKeeper clients for
    /// `deployment`.
    pub async fn start(deployment: Deployment, config: GatewayConfig) -> std::io::Result<Gateway> {
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            deployment,
            connect: config.connect,
            sessions: Arc::default(),
            oracle: config.oracle.map(Oracle::new),
            min_timeout: config.min_session_timeout,
            max_timeout: config.max_session_timeout.max(config.min_session_timeout),
        });
        let accepting = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(crate::connection::serve(stream, accepting.clone()));
                    }
                    Err(e) => {
                        // Out of file descriptors, most likely: wait, go on.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(Gateway {
            local_addr,
            shared,
            accept,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many ZooKeeper sessions are open (connected, or within their
    /// timeout after a disconnect).
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }

    /// The answers that differed from the oracle's so far (empty without
    /// `--oracle`).
    pub fn mismatches(&self) -> Vec<Mismatch> {
        self.shared
            .oracle
            .as_ref()
            .map(Oracle::mismatches)
            .unwrap_or_default()
    }
}

impl Gateway {
    /// How many answers the oracle has compared so far (0 without one).
    pub fn oracle_compared(&self) -> u64 {
        self.shared.oracle.as_ref().map_or(0, Oracle::compared)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
