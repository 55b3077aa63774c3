//! CPU of one AWS SDK call in isolation: the functions' clients against a
//! loopback HTTP server that answers at once, with or without keep-alive.
//! What is left of a function's CPU per write once the SDK's share is
//! known is the runtime loop, logging and our own code.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use aws_sdk_dynamodb::types::AttributeValue;

/// This thread's CPU time so far, seconds.
pub fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// A server on a free loopback port answering every request with `{}`,
/// keeping connections open when `keep_alive`; its URL.
fn serve(keep_alive: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let connection = if keep_alive { "keep-alive" } else { "close" };
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n\
                         Content-Length: 2\r\nConnection: {connection}\r\n\r\n{{}}"
                    );
                    if stream.write_all(answer.as_bytes()).is_err() || !keep_alive {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// CPU µs per `UpdateItem` (the writer's lock) on this thread, over
/// `calls`, with or without keep-alive.
async fn update_item_us(keep_alive: bool, calls: usize, pause_ms: u64) -> f64 {
    let url = serve(keep_alive);
    let sdk = fk_aws::clients::sdk_config(Some(&url), "us-east-1").await;
    let counter = fk_aws::calls::CallCounter::new();
    let clients = fk_aws::clients::Clients::new(&sdk, &counter);
    let call = || {
        clients
            .dynamodb
            .update_item()
            .table_name("fk-system")
            .key("path", AttributeValue::S("/cpu".into()))
            .update_expression("SET lockToken = :t, lockExpires = :e")
            .condition_expression(
                "attribute_not_exists(lockToken) OR lockExpires < :now OR lockToken = :t",
            )
            .expression_attribute_values(":t", AttributeValue::S("0x1-2".into()))
            .expression_attribute_values(":e", AttributeValue::N("1700000030000".into()))
            .expression_attribute_values(":now", AttributeValue::N("1700000000000".into()))
            .send()
    };
    cpu_per_call_us(calls, pause_ms, || async {
        call().await.map(drop).unwrap()
    })
    .await
}

/// CPU µs on this thread per `call`, over `calls` made `pause_ms` apart,
/// after 50 to warm up.
async fn cpu_per_call_us<F, Fut>(calls: usize, pause_ms: u64, mut call: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..50 {
        call().await;
    }
    let mut cpu = 0.0;
    for _ in 0..calls {
        if pause_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
        }
        let start = thread_cpu_s();
        call().await;
        cpu += thread_cpu_s() - start;
    }
    cpu * 1e6 / calls as f64
}

/// CPU µs per lock (the writer's `UpdateItem`, as `DynamoSystemStore`
/// takes it) on this thread, through the lean transport (`lean`) or the
/// SDK alone: the shipped code of both paths, the item's parsing included.
async fn lock_us(lean: bool, keep_alive: bool, calls: usize, pause_ms: u64) -> f64 {
    use fk_core::system::{LockRequest, SystemStore};
    let url = serve(keep_alive);
    let sdk = fk_aws::clients::sdk_config(Some(&url), "us-east-1").await;
    let counter = fk_aws::calls::CallCounter::new();
    let clients = fk_aws::clients::Clients::new(&sdk, &counter);
    let lean_client = if lean {
        Some(
            clients
                .lean_dynamodb
                .clone()
                .expect("the lean transport is on"),
        )
    } else {
        None
    };
    let store = fk_aws::system::DynamoSystemStore::new(
        clients.dynamodb.clone(),
        "fk-system",
        "fk-sessions",
    )
    .with_lean(lean_client);
    let took = cpu_per_call_us(calls, pause_ms, || async {
        store
            .lock(LockRequest {
                path: "/cpu",
                token: "0x1-2",
                now_ms: 1_700_000_000_000,
                expires_ms: 1_700_000_030_000,
            })
            .await
            .unwrap();
    })
    .await;
    // One call per lock: a fallback would have made two.
    assert_eq!(
        counter.total(),
        (calls + 50) as u64,
        "every lock was one call"
    );
    took
}

/// Rounds of each variant, alternated.
const ROUNDS: usize = 3;

/// `fk-bench sdk`: prints CPU µs per SDK call.
pub fn run(calls: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for pause_ms in [0, 30] {
        let calls = if pause_ms > 0 { calls / 10 } else { calls };
        for keep_alive in [true, false] {
            let connection = if keep_alive {
                "connection kept alive"
            } else {
                "a new connection per call"
            };
            // The SDK and the lean transport alternate, so that whatever
            // else runs on the machine falls on both alike.
            let (mut sdk, mut lean, mut bare) = (0.0, 0.0, 0.0);
            for _ in 0..ROUNDS {
                bare += rt.block_on(update_item_us(keep_alive, calls, pause_ms)) / ROUNDS as f64;
                sdk += rt.block_on(lock_us(false, keep_alive, calls, pause_ms)) / ROUNDS as f64;
                lean += rt.block_on(lock_us(true, keep_alive, calls, pause_ms)) / ROUNDS as f64;
            }
            println!(
                "DynamoDB UpdateItem, {connection}, {pause_ms} ms between calls: CPU µs per call: {bare:.0} the SDK's client alone; the writer's lock {sdk:.0} through the SDK, {lean:.0} through the lean transport ({calls} calls × {ROUNDS} rounds each, current-thread runtime)"
            );
        }
    }
}
