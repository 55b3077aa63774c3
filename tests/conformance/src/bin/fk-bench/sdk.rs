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

/// The same `UpdateItem` without the SDK's orchestrator: its JSON body
/// built with serde_json, signed with `aws-sigv4` (the SDK's own signer)
/// and sent on one pooled hyper connection, the answer's status checked
/// and its body parsed. Only the successful path, without retries or
/// error mapping: what a leaner transport for the writer's lock could
/// cost at best. CPU µs per call on this thread.
async fn raw_update_item_us(keep_alive: bool, calls: usize, pause_ms: u64) -> f64 {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_smithy_runtime_api::client::identity::Identity;
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let url = serve(keep_alive);
    let host = url.trim_start_matches("http://").to_owned();
    let identity: Identity =
        aws_credential_types::Credentials::new("test", "test", None, None, "bench").into();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    let call = || async {
        let body = serde_json::to_vec(&serde_json::json!({
            "TableName": "fk-system",
            "Key": {"path": {"S": "/cpu"}},
            "UpdateExpression": "SET lockToken = :t, lockExpires = :e",
            "ConditionExpression":
                "attribute_not_exists(lockToken) OR lockExpires < :now OR lockToken = :t",
            "ExpressionAttributeValues": {
                ":t": {"S": "0x1-2"},
                ":e": {"N": "1700000030000"},
                ":now": {"N": "1700000000000"},
            },
        }))
        .unwrap();
        let headers = [
            ("host", host.as_str()),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.UpdateItem"),
        ];
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("dynamodb")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "POST",
            url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(&body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut request = http::Request::post(url.as_str());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut request = request.body(Full::new(bytes::Bytes::from(body))).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        let response = client.request(request).await.unwrap();
        assert!(response.status().is_success());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let _: serde_json::Value = serde_json::from_slice(&body).unwrap();
    };
    cpu_per_call_us(calls, pause_ms, call).await
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
            // The SDK and the bare request alternate, so that whatever else
            // runs on the machine falls on both alike.
            let (mut sdk, mut raw) = (0.0, 0.0);
            for _ in 0..ROUNDS {
                sdk += rt.block_on(update_item_us(keep_alive, calls, pause_ms)) / ROUNDS as f64;
                raw += rt.block_on(raw_update_item_us(keep_alive, calls, pause_ms)) / ROUNDS as f64;
            }
            println!(
                "DynamoDB UpdateItem, {connection}, {pause_ms} ms between calls: {sdk:.0} µs of CPU per call with the SDK, {raw:.0} µs signed and sent without its orchestrator ({calls} calls × {ROUNDS} rounds each, current-thread runtime)"
            );
        }
    }
}
