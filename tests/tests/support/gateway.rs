//! A local stack with a gateway in front of it, and a TCP proxy whose
//! connections a test can cut (a network failure between a ZooKeeper
//! client and the gateway).

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;
use std::time::Duration;

use fk_e2e::{Stack, StackOptions};
use fk_gateway::{Gateway, GatewayConfig};
use fk_local::StoreKind;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use zookeeper_client as zkc;

/// A stack and its gateway, which grants session timeouts from 1 s (the
/// tests' short sessions) to 40 s.
pub struct GatewayStack {
    pub stack: Stack,
    pub gateway: Gateway,
}

impl GatewayStack {
    pub async fn start(store: StoreKind) -> GatewayStack {
        Self::start_with(store, None).await
    }

    /// With `--oracle` pointing at `oracle`.
    pub async fn start_with(store: StoreKind, oracle: Option<String>) -> GatewayStack {
        let stack = Stack::start(StackOptions::new(store)).await;
        let config = GatewayConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            min_session_timeout: Duration::from_secs(1),
            oracle,
            ..GatewayConfig::default()
        };
        let gateway = Gateway::start(stack.deployment.clone(), config)
            .await
            .unwrap();
        GatewayStack { stack, gateway }
    }

    pub fn address(&self) -> String {
        self.gateway.local_addr().to_string()
    }

    /// A zookeeper-client session through the gateway.
    pub async fn client(&self) -> zkc::Client {
        connect(&self.address()).await
    }
}

pub async fn connect(address: &str) -> zkc::Client {
    zkc::Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(address)
        .await
        .unwrap()
}

/// ZooKeeper's open ACL, as zookeeper-client creates nodes with it.
pub fn open(mode: zkc::CreateMode) -> zkc::CreateOptions<'static> {
    mode.with_acls(zkc::Acls::anyone_all())
}

/// Forwards connections to an upstream address until told to cut them.
pub struct CuttableProxy {
    address: String,
    cut: watch::Sender<u64>,
    /// While set, new connections are closed as soon as they are accepted.
    refusing: std::sync::atomic::AtomicBool,
}

impl CuttableProxy {
    pub async fn start(upstream: String) -> Arc<CuttableProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (cut, _) = watch::channel(0);
        let proxy = Arc::new(CuttableProxy {
            address,
            cut,
            refusing: false.into(),
        });
        let cuts = proxy.cut.clone();
        let this = Arc::downgrade(&proxy);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Some(proxy) = this.upgrade() else {
                    return;
                };
                if proxy.refusing.load(std::sync::atomic::Ordering::SeqCst) {
                    continue;
                }
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let mut cut = cuts.subscribe();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                    // Dropping both ends resets the client's connection.
                });
            }
        });
        proxy
    }

    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// Breaks every connection open now; new ones go through.
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }

    /// Breaks every connection open now and closes new ones until
    /// [`let_in`](Self::let_in): the client stays disconnected until then.
    pub fn cut_and_hold(&self) {
        self.refusing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.cut();
    }

    /// Lets new connections through again.
    pub fn let_in(&self) {
        self.refusing
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Polls `check` every 100 ms until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
