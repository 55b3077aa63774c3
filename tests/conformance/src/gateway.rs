//! The third side: the local stack through the ZooKeeper gateway, talked
//! to with the reference side's client (`zookeeper-client`, through
//! [`ZooKeeperSession`]), so that the gateway's wire protocol is held to
//! what ZooKeeper 3.8 answers.

use std::sync::OnceLock;
use std::time::Duration;

use fk_gateway::{Gateway, GatewayConfig};

use crate::zk::{Code, SessionOptions};
use crate::zookeeper::ZooKeeperSession;

/// The address of the gateway every scenario of this test process shares,
/// in front of [`crate::ours::deployment`]; started on first use.
///
/// It grants the session timeouts the test ZooKeeper does (2 to 20 ticks
/// of 500 ms), and runs on a thread and runtime of its own, as the stack
/// does.
pub fn address() -> &'static str {
    static ADDRESS: OnceLock<String> = OnceLock::new();
    ADDRESS.get_or_init(|| {
        let deployment = crate::ours::deployment().clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("fk-conformance-gateway".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a runtime for the gateway");
                runtime.block_on(async move {
                    let config = GatewayConfig {
                        listen: "127.0.0.1:0".parse().unwrap(),
                        min_session_timeout: Duration::from_secs(1),
                        max_session_timeout: Duration::from_secs(10),
                        ..GatewayConfig::default()
                    };
                    let gateway = Gateway::start(deployment, config)
                        .await
                        .expect("the gateway listens");
                    let _ = tx.send(gateway.local_addr().to_string());
                    std::future::pending::<()>().await;
                    drop(gateway);
                });
            })
            .expect("a thread for the gateway");
        rx.recv().expect("the gateway did not start")
    })
}

/// A session through the gateway.
pub async fn session(options: SessionOptions) -> Result<ZooKeeperSession, Code> {
    ZooKeeperSession::connect_to(address(), options).await
}
