//! The latency the ZooKeeper gateway adds to each operation: the same
//! operations through the fk client directly and through the gateway
//! (zookeeper-client → gateway → its fk client), in alternating runs so
//! that both see the same load on the machine.
//!
//! ```text
//! cargo run -p fk-e2e --example gateway_latency -- [s3|dynamodb|redis] [rounds]
//! ```
//!
//! Each round runs create, get_data, exists, get_children, set_data and
//! delete on a fresh node, once directly and once through the gateway
//! (which one goes first alternates). It prints the median and p90 of
//! each, and the median's difference. Loopback figures (moto, the local
//! runner), for the gateway's share, not for AWS's.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fk_client::CreateMode;
use fk_e2e::stats::{ms, quantile};
use fk_e2e::{Stack, StackOptions};
use fk_gateway::{Gateway, GatewayConfig};
use fk_local::StoreKind;
use zookeeper_client as zkc;

const OPS: [&str; 6] = [
    "create",
    "get_data",
    "exists",
    "get_children",
    "set_data",
    "delete",
];

type Samples = BTreeMap<&'static str, Vec<Duration>>;

async fn timed<T>(
    samples: &mut Samples,
    op: &'static str,
    f: impl std::future::Future<Output = T>,
) -> T {
    let start = Instant::now();
    let out = f.await;
    samples.entry(op).or_default().push(start.elapsed());
    out
}

async fn direct_round(zk: &fk_client::Client, path: &str, samples: &mut Samples) {
    timed(
        samples,
        "create",
        zk.create(path, b"1234", CreateMode::Persistent),
    )
    .await
    .unwrap();
    timed(samples, "get_data", zk.get_data(path)).await.unwrap();
    timed(samples, "exists", zk.exists(path)).await.unwrap();
    timed(samples, "get_children", zk.get_children(path))
        .await
        .unwrap();
    timed(samples, "set_data", zk.set_data(path, b"abcd", Some(0)))
        .await
        .unwrap();
    timed(samples, "delete", zk.delete(path, None))
        .await
        .unwrap();
}

async fn gateway_round(zk: &zkc::Client, path: &str, samples: &mut Samples) {
    let open = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
    timed(samples, "create", zk.create(path, b"1234", &open))
        .await
        .unwrap();
    timed(samples, "get_data", zk.get_data(path)).await.unwrap();
    timed(samples, "exists", zk.check_stat(path)).await.unwrap();
    timed(samples, "get_children", zk.list_children(path))
        .await
        .unwrap();
    timed(samples, "set_data", zk.set_data(path, b"abcd", Some(0)))
        .await
        .unwrap();
    timed(samples, "delete", zk.delete(path, None))
        .await
        .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store = match args.get(1).map(String::as_str).unwrap_or("s3") {
        "s3" => StoreKind::S3,
        "dynamodb" => StoreKind::Dynamodb,
        "redis" => StoreKind::Redis,
        other => panic!("unknown store {other}: s3, dynamodb or redis"),
    };
    let rounds: usize = args.get(2).map(|n| n.parse().unwrap()).unwrap_or(50);
    let stack = Stack::start(StackOptions::new(store)).await;
    let config = GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..GatewayConfig::default()
    };
    let gateway = Gateway::start(stack.deployment.clone(), config)
        .await
        .unwrap();
    let direct = stack.client().await;
    let through = zkc::Client::connector()
        .with_session_timeout(Duration::from_secs(30))
        .connect(&gateway.local_addr().to_string())
        .await
        .unwrap();

    // One warm-up round each: connections, the first S3 and SQS calls.
    direct_round(&direct, "/warm-direct", &mut Samples::new()).await;
    gateway_round(&through, "/warm-gateway", &mut Samples::new()).await;
    let mut direct_samples = Samples::new();
    let mut gateway_samples = Samples::new();
    for round in 0..rounds {
        let (d, g) = (format!("/d{round}"), format!("/g{round}"));
        if round % 2 == 0 {
            direct_round(&direct, &d, &mut direct_samples).await;
            gateway_round(&through, &g, &mut gateway_samples).await;
        } else {
            gateway_round(&through, &g, &mut gateway_samples).await;
            direct_round(&direct, &d, &mut direct_samples).await;
        }
    }

    println!(
        "store: {store:?}, {rounds} alternating rounds, 4-byte nodes, one session each side (ms)"
    );
    println!("| op | direct p50 | gateway p50 | added p50 | direct p90 | gateway p90 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for op in OPS {
        let (mut d, mut g) = (direct_samples[op].clone(), gateway_samples[op].clone());
        d.sort();
        g.sort();
        let (d, g) = (&d, &g);
        let (d50, g50) = (quantile(d, 0.5), quantile(g, 0.5));
        println!(
            "| {op} | {:.1} | {:.1} | {:+.1} | {:.1} | {:.1} |",
            ms(d50),
            ms(g50),
            ms(g50) - ms(d50),
            ms(quantile(d, 0.9)),
            ms(quantile(g, 0.9)),
        );
    }
    drop(through);
    direct.close().await.unwrap();
    stack.stop().await;
}
