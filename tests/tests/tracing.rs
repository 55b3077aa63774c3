//! One trace per write, end to end: the client's span, the writer, the
//! distributor and the watch delivery, exported over OTLP/HTTP to a
//! receiver in this test and put back together by trace id.

use std::time::Duration;

use fk_client::CreateMode;
use fk_traces::{waterfall, SpanRecord};

/// The one span of `trace` that `matches`, failing with the waterfall.
fn one<'a>(
    trace: &'a [SpanRecord],
    what: &str,
    matches: impl Fn(&SpanRecord) -> bool,
) -> &'a SpanRecord {
    let found: Vec<&SpanRecord> = trace.iter().filter(|s| matches(s)).collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {what} span in:\n{}",
        waterfall(trace)
    );
    found[0]
}

fn by<'a>(service: &'a str, name: &'a str) -> impl Fn(&SpanRecord) -> bool + 'a {
    move |s| s.service == service && s.name == name
}

fn child_of<'a>(
    parent: &'a SpanRecord,
    service: &'a str,
    name: &'a str,
) -> impl Fn(&SpanRecord) -> bool + 'a {
    move |s| s.service == service && s.name == name && s.parent_id == parent.span_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_set_is_one_trace_from_the_client_to_the_watch_delivery() {
    // given: a receiver, a traced client process and traced functions
    let (receiver, telemetry, stack) = fk_e2e::traced_stack().await;
    let writer = stack.client().await;
    let watcher = stack.client().await;
    let writer_session = writer.session_id().unwrap().to_string();
    let mut events = watcher.subscribe().unwrap();
    writer
        .create("/traced", b"1", CreateMode::Persistent)
        .await
        .unwrap();
    watcher.get_data_and_watch("/traced").await.unwrap();

    // when: the writer sets the watched node
    writer.set_data("/traced", b"2", None).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("a watch event within 20 s")
        .unwrap();
    assert_eq!(event.path, "/traced");

    // then: one trace holds the client's span down to the event it fired
    let root_of_set = |spans: &[SpanRecord]| {
        spans
            .iter()
            .find(|s| s.service == "fk-client" && s.name == "zk.set_data")
            .map(|s| s.trace_id.clone())
    };
    let (complete, spans) = receiver
        .wait_for(Duration::from_secs(30), |spans| {
            telemetry.flush();
            let Some(trace_id) = root_of_set(spans) else {
                return false;
            };
            let has = |service: &str, name: &str| {
                spans
                    .iter()
                    .any(|s| s.trace_id == trace_id && s.service == service && s.name == name)
            };
            let invoked = |service: &str| {
                spans
                    .iter()
                    .any(|s| s.service == service && s.attribute("faas.trigger") == Some("pubsub"))
            };
            invoked("fk-writer")
                && invoked("fk-distributor")
                && invoked("fk-watch")
                && has("fk-writer", "push")
                && has("fk-distributor", "user_store.write")
                && has("fk-watch", "deliver")
                && has("fk-client", "zk.watch_event")
        })
        .await;
    let trace_id = root_of_set(&spans).expect("the client's set_data span arrived");
    let trace: Vec<SpanRecord> = spans
        .iter()
        .filter(|s| s.trace_id == trace_id)
        .cloned()
        .collect();
    println!("{}", waterfall(&trace));
    assert!(
        complete,
        "the trace stayed incomplete:\n{}",
        waterfall(&trace)
    );

    // every function invocation has its own span, from lambda_runtime's layer
    for service in ["fk-writer", "fk-distributor", "fk-watch"] {
        let invocation = spans
            .iter()
            .find(|s| s.service == service && s.attribute("faas.trigger") == Some("pubsub"))
            .unwrap_or_else(|| panic!("no invocation span from {service}"));
        assert!(invocation.attribute("faas.invocation_id").is_some());
        assert!(invocation.attribute("faas.coldstart").is_some());
    }

    // the client's operation span is the root, with its ZooKeeper attributes
    let root = one(&trace, "client operation", by("fk-client", "zk.set_data"));
    assert_eq!(root.parent_id, "", "the client's span is the root");
    assert_eq!(root.attribute("zk.op"), Some("set_data"));
    assert_eq!(root.attribute("zk.path"), Some("/traced"));
    assert_eq!(root.attribute("zk.session"), Some(writer_session.as_str()));
    assert_eq!(root.attribute("rpc.method"), Some("set_data"));
    let client_send = one(&trace, "client send", |s| {
        s.service == "fk-client" && s.name.starts_with("send ") && s.parent_id == root.span_id
    });
    assert_eq!(client_send.attribute("messaging.system"), Some("aws_sqs"));
    assert!(client_send
        .attribute("messaging.destination.name")
        .is_some());

    // the writer continues it: process → write → lock, validate, push → send
    let w_process = one(&trace, "writer process", |s| {
        s.service == "fk-writer" && s.parent_id == client_send.span_id
    });
    assert!(w_process.name.starts_with("process "), "{}", w_process.name);
    let w_write = one(
        &trace,
        "writer write",
        child_of(w_process, "fk-writer", "write"),
    );
    let lock = one(&trace, "lock", child_of(w_write, "fk-writer", "lock"));
    let validate = one(
        &trace,
        "validate",
        child_of(w_write, "fk-writer", "validate"),
    );
    let push = one(&trace, "push", child_of(w_write, "fk-writer", "push"));
    let w_send = one(&trace, "writer send", |s| {
        s.service == "fk-writer" && s.parent_id == push.span_id
    });

    // the distributor continues the writer's message
    let d_process = one(&trace, "distributor process", |s| {
        s.service == "fk-distributor" && s.parent_id == w_send.span_id
    });
    let distribute = one(
        &trace,
        "distribute",
        child_of(d_process, "fk-distributor", "distribute"),
    );
    let commit = one(
        &trace,
        "commit",
        child_of(distribute, "fk-distributor", "commit"),
    );
    let zxid = commit
        .attribute("zk.zxid")
        .expect("the commit has its zxid");
    assert_eq!(commit.attribute("db.system"), Some("dynamodb"));
    assert_eq!(
        root.attribute("zk.zxid"),
        Some(zxid),
        "the client recorded the reply"
    );
    let user_write = one(
        &trace,
        "user store write",
        child_of(distribute, "fk-distributor", "user_store.write"),
    );
    assert_eq!(user_write.attribute("db.system"), Some("s3"));
    let reply = one(
        &trace,
        "reply",
        child_of(distribute, "fk-distributor", "reply"),
    );
    let watch_push = one(
        &trace,
        "watch push",
        child_of(distribute, "fk-distributor", "watch.push"),
    );
    let d_send = one(&trace, "distributor send to the watch queue", |s| {
        s.service == "fk-distributor" && s.parent_id == watch_push.span_id
    });

    // the watch function continues it to the delivery, and the watcher's
    // client records the event under the same trace
    let wf_process = one(&trace, "watch process", |s| {
        s.service == "fk-watch" && s.parent_id == d_send.span_id
    });
    let deliver = one(
        &trace,
        "deliver",
        child_of(wf_process, "fk-watch", "deliver"),
    );
    let wf_send = one(&trace, "watch send", |s| {
        s.service == "fk-watch" && s.parent_id == deliver.span_id
    });
    let event = one(&trace, "watch event", |s| {
        s.service == "fk-client" && s.name == "zk.watch_event" && s.parent_id == wf_send.span_id
    });
    assert_eq!(event.attribute("zk.zxid"), Some(zxid));
    assert_eq!(event.attribute("zk.path"), Some("/traced"));

    // the stages before the reply lie inside the client-observed latency
    let stages = [lock, validate, push, commit, watch_push, user_write];
    for stage in stages {
        assert!(
            root.start_ns <= stage.start_ns && stage.end_ns <= root.end_ns,
            "{} ({}..{}) is outside the client's span ({}..{})",
            stage.name,
            stage.start_ns,
            stage.end_ns,
            root.start_ns,
            root.end_ns
        );
    }
    assert!(root.start_ns <= reply.start_ns && reply.start_ns <= root.end_ns);
    let staged: u64 = stages.iter().map(|s| s.duration_ns()).sum();
    assert!(staged <= root.duration_ns());
    // and in the order the write takes them
    assert!(lock.end_ns <= validate.start_ns && validate.end_ns <= push.start_ns);
    assert!(commit.end_ns <= watch_push.start_ns && watch_push.end_ns <= user_write.start_ns);
    assert!(user_write.end_ns <= reply.start_ns);

    writer.close().await.unwrap();
    watcher.close().await.unwrap();
    stack.stop().await;
    telemetry.shutdown();
}
