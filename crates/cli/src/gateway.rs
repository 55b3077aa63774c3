//! `fk gateway`: ZooKeeper's wire protocol for this deployment, so that
//! ZooKeeper's own clients (zkCli.sh, kazoo, Curator, …) can use it.
//! Prints `gateway: HOST:PORT` on standard output once it listens (what
//! `fk-local up` reads), then serves until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use fk_client::Deployment;
use fk_gateway::{Gateway, GatewayConfig};

#[derive(Debug, Clone, clap::Args)]
pub struct GatewayArgs {
    /// Where ZooKeeper clients connect (port 0: a free one, printed).
    #[arg(long, default_value = "127.0.0.1:2181")]
    listen: SocketAddr,
    /// Also send every request to this ZooKeeper (HOST:PORT) and log each
    /// answer that differs from ours (target fk_gateway::oracle).
    #[arg(long, value_name = "HOST:PORT")]
    oracle: Option<String>,
    /// The shortest session timeout granted, in ms (ZooKeeper's
    /// minSessionTimeout).
    #[arg(long, default_value_t = 4_000)]
    min_session_timeout_ms: u64,
    /// The longest session timeout granted, in ms (ZooKeeper's
    /// maxSessionTimeout).
    #[arg(long, default_value_t = 40_000)]
    max_session_timeout_ms: u64,
}

pub async fn run(args: GatewayArgs, deployment: Deployment) -> ExitCode {
    let config = GatewayConfig {
        listen: args.listen,
        min_session_timeout: Duration::from_millis(args.min_session_timeout_ms),
        max_session_timeout: Duration::from_millis(args.max_session_timeout_ms),
        oracle: args.oracle,
        ..GatewayConfig::default()
    };
    let gateway = match Gateway::start(deployment, config).await {
        Ok(gateway) => gateway,
        Err(e) => {
            eprintln!("fk gateway: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let address = gateway.local_addr();
    println!("gateway: {address}  (zkCli.sh -server {address})");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(e) => {
                eprintln!("fk gateway: {e}");
                return ExitCode::FAILURE;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    ExitCode::SUCCESS
}
