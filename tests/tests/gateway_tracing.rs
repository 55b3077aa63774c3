//! The gateway's requests join the trace of the write they carry: a span
//! per request (`zk.gateway`, named `gateway <opcode>`), the fk client's
//! spans its children, the functions' spans in the same trace.

#[path = "support/gateway.rs"]
mod support;

use std::time::Duration;

use fk_gateway::{Gateway, GatewayConfig};
use fk_traces::{waterfall, SpanRecord};
use zookeeper_client as zkc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_the_gateway_is_one_trace_from_its_request_to_the_functions() {
    // given: a traced process (the gateway runs in it) and traced functions
    let (receiver, telemetry, stack) = fk_e2e::traced_stack().await;
    let config = GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..GatewayConfig::default()
    };
    let gateway = Gateway::start(stack.deployment.clone(), config)
        .await
        .unwrap();
    let zk = support::connect(&gateway.local_addr().to_string()).await;

    // when: a ZooKeeper client creates a node through the gateway
    zk.create("/traced", b"1", &support::open(zkc::CreateMode::Persistent))
        .await
        .unwrap();

    // then: the request's span is the root, the client's write its child,
    // and the writer's spans are in the same trace
    let request =
        |spans: &[SpanRecord]| spans.iter().find(|s| s.name == "gateway create2").cloned();
    let (complete, spans) = receiver
        .wait_for(Duration::from_secs(30), |spans| {
            telemetry.flush();
            let Some(request) = request(spans) else {
                return false;
            };
            spans
                .iter()
                .any(|s| s.trace_id == request.trace_id && s.service == "fk-writer")
        })
        .await;
    let request = request(&spans).expect("the gateway's request span arrived");
    let trace: Vec<SpanRecord> = spans
        .iter()
        .filter(|s| s.trace_id == request.trace_id)
        .cloned()
        .collect();
    assert!(complete, "no writer span in:\n{}", waterfall(&trace));
    assert_eq!(request.parent_id, "", "the request's span is the root");
    assert_eq!(request.attribute("zk.op"), Some("create2"));
    assert_eq!(request.kind, "server");
    let write = trace
        .iter()
        .find(|s| s.name == "zk.create")
        .unwrap_or_else(|| panic!("no client write span in:\n{}", waterfall(&trace)));
    assert_eq!(write.parent_id, request.span_id, "{}", waterfall(&trace));
    drop(zk);
    stack.stop().await;
}
