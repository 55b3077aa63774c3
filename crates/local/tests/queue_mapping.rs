//! The runner feeds a FIFO queue to a function as Lambda's event source
//! mapping does: batches in group order, deleted on success, redelivered on
//! error, timeout or crash, dead-lettered after `maxReceiveCount`.

mod common;

use std::time::{Duration, Instant};

use common::*;

const WITHIN: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_arrives_in_order_in_lambdas_event_shape_and_is_deleted_after_success() {
    // given a queue holding three messages of one group
    let sqs = sqs().await;
    let queue = queue(&sqs, "order", 3).await;
    for body in ["a", "b", "c"] {
        send(&sqs, &queue.url, "g1", body).await;
    }
    let scratch = Scratch::new("order");

    // when the runner feeds it to the echo function
    let runner = fk_local::start(runner(
        &scratch,
        vec![echo_function(
            &scratch,
            &queue.url,
            1,
            Duration::from_secs(5),
        )],
        vec![],
    ))
    .await
    .unwrap();
    scratch
        .eventually(WITHIN, "all three bodies seen", |s| s.bodies().len() >= 3)
        .await;

    // then the bodies come in order, once each, in Lambda's record shape
    let bodies: Vec<_> = scratch.bodies().into_iter().map(|(b, _)| b).collect();
    assert_eq!(bodies, ["a", "b", "c"]);
    let line = &scratch.records()[0];
    assert_eq!(line["function"], "echo");
    let first = &line["records"][0];
    assert_eq!(first["event_source"], "aws:sqs");
    assert_eq!(first["event_source_arn"], queue.arn.as_str());
    assert_eq!(first["aws_region"], REGION);
    assert_eq!(first["md5_of_body"], "0cc175b9c0f1b6a831c399e269772661");
    assert_eq!(first["receive_count"], "1");
    assert_eq!(first["group"], "g1");
    for attribute in [
        "SentTimestamp",
        "SequenceNumber",
        "MessageDeduplicationId",
        "ApproximateFirstReceiveTimestamp",
        "SenderId",
    ] {
        assert!(
            first["attributes"][attribute].is_string(),
            "attribute {attribute} missing: {first:#}"
        );
    }
    let attrs = &first["message_attributes"];
    assert_eq!(attrs["text"]["stringValue"], "text of a");
    assert_eq!(attrs["text"]["dataType"], "String");
    assert_eq!(attrs["bytes"]["binaryValue"], "AAH/");
    assert_eq!(attrs["bytes"]["dataType"], "Binary");

    // and the queue is empty: the batches were deleted
    let deadline = Instant::now() + WITHIN;
    while queue_depth(&sqs, &queue.url).await > 0 {
        assert!(Instant::now() < deadline, "messages were not deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(runner.invocations("echo") >= 1);
    assert_eq!(runner.invocations("other"), 0);
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_batch_is_redelivered_then_moved_to_the_dead_letter_queue() {
    // given a queue that dead-letters after two receives, holding a message
    // the function fails on
    let sqs = sqs().await;
    let queue = queue(&sqs, "fail", 2).await;
    send(&sqs, &queue.url, "g1", "fail").await;
    let scratch = Scratch::new("fail");

    // when the runner feeds it to the function
    let runner = fk_local::start(runner(
        &scratch,
        vec![echo_function(
            &scratch,
            &queue.url,
            1,
            Duration::from_secs(5),
        )],
        vec![],
    ))
    .await
    .unwrap();

    // then it is seen twice, the second time with receive count 2
    scratch
        .eventually(WITHIN, "the failing message redelivered", |s| {
            s.bodies().len() >= 2
        })
        .await;
    assert_eq!(
        scratch.bodies()[..2],
        [("fail".into(), "1".into()), ("fail".into(), "2".into())]
    );
    // and it ends up in the dead-letter queue, not in a third invocation
    let deadline = Instant::now() + WITHIN;
    loop {
        let dead = drain(&sqs, &queue.dlq_url).await;
        if dead == ["fail"] {
            break;
        }
        assert!(dead.is_empty(), "unexpected DLQ content {dead:?}");
        assert!(
            Instant::now() < deadline,
            "not dead-lettered; {:?}",
            scratch.bodies()
        );
    }
    assert_eq!(scratch.bodies().len(), 2);
    assert_eq!(runner.invocations("echo"), 2);
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_process_is_replaced_and_its_batch_redelivered() {
    // given a message that makes the function's process exit
    let sqs = sqs().await;
    let queue = queue(&sqs, "crash", 2).await;
    send(&sqs, &queue.url, "g1", "crash").await;
    let scratch = Scratch::new("crash");

    // when the runner feeds it to the function
    let runner = fk_local::start(runner(
        &scratch,
        vec![echo_function(
            &scratch,
            &queue.url,
            1,
            Duration::from_secs(5),
        )],
        vec![],
    ))
    .await
    .unwrap();

    // then a new process receives it again after the visibility timeout
    scratch
        .eventually(WITHIN, "the crashing message redelivered", |s| {
            s.bodies().len() >= 2
        })
        .await;
    let records = scratch.records();
    assert_eq!(
        scratch.bodies()[..2],
        [("crash".into(), "1".into()), ("crash".into(), "2".into())]
    );
    let (first_pid, second_pid) = (
        records[0]["pid"].as_u64().unwrap(),
        records[1]["pid"].as_u64().unwrap(),
    );
    assert_ne!(first_pid, second_pid);
    assert!(!alive(first_pid));

    // and after that the function still serves other messages
    send(&sqs, &queue.url, "g2", "after").await;
    scratch
        .eventually(WITHIN, "a message after the crashes", |s| {
            s.bodies().iter().any(|(b, _)| b == "after")
        })
        .await;
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_past_its_timeout_is_abandoned_and_redelivered() {
    // given a function with a 500 ms timeout and a message it spends 3 s on
    let sqs = sqs().await;
    let queue = queue(&sqs, "timeout", 2).await;
    send(&sqs, &queue.url, "g1", "sleep:3000").await;
    let scratch = Scratch::new("timeout");

    // when the runner feeds it to the function
    let runner = fk_local::start(runner(
        &scratch,
        vec![echo_function(
            &scratch,
            &queue.url,
            1,
            Duration::from_millis(500),
        )],
        vec![],
    ))
    .await
    .unwrap();

    // then the timed-out process is killed and a new one gets the message again
    scratch
        .eventually(WITHIN, "the slow message redelivered", |s| {
            s.bodies().len() >= 2
        })
        .await;
    let records = scratch.records();
    assert_eq!(scratch.bodies()[1], ("sleep:3000".into(), "2".into()));
    let first_pid = records[0]["pid"].as_u64().unwrap();
    assert_ne!(first_pid, records[1]["pid"].as_u64().unwrap());
    assert!(!alive(first_pid));
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_groups_are_processed_concurrently_by_two_instances() {
    // given two groups whose messages each take 1.5 s
    let sqs = sqs().await;
    let queue = queue(&sqs, "groups", 3).await;
    send(&sqs, &queue.url, "g1", "sleep:1500").await;
    send(&sqs, &queue.url, "g2", "sleep:1500").await;
    let scratch = Scratch::new("groups");

    // when two instances take batches of one message
    let mut function = echo_function(&scratch, &queue.url, 2, Duration::from_secs(5));
    function.batch_size = 1;
    let runner = fk_local::start(runner(&scratch, vec![function], vec![]))
        .await
        .unwrap();

    // then each group goes to a different process, at the same time
    scratch
        .eventually(WITHIN, "both groups seen", |s| s.records().len() >= 2)
        .await;
    let records = scratch.records();
    let groups: Vec<_> = records
        .iter()
        .map(|r| r["records"][0]["group"].clone())
        .collect();
    assert!(
        groups.contains(&"g1".into()) && groups.contains(&"g2".into()),
        "{groups:?}"
    );
    assert_ne!(records[0]["pid"], records[1]["pid"]);
    let started = |i: usize| records[i]["at_ms"].as_u64().unwrap() as i64;
    assert!(
        (started(0) - started(1)).abs() < 1500,
        "the second group started only after the first finished: {records:#?}"
    );
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_the_function_processes_promptly() {
    // given a runner whose function has handled a message
    let sqs = sqs().await;
    let queue = queue(&sqs, "stop", 3).await;
    send(&sqs, &queue.url, "g1", "x").await;
    let scratch = Scratch::new("stop");
    let runner = fk_local::start(runner(
        &scratch,
        vec![echo_function(
            &scratch,
            &queue.url,
            2,
            Duration::from_secs(5),
        )],
        vec![],
    ))
    .await
    .unwrap();
    scratch
        .eventually(WITHIN, "the message seen", |s| !s.records().is_empty())
        .await;
    let pid = scratch.records()[0]["pid"].as_u64().unwrap();
    assert!(alive(pid));

    // when it is stopped
    let began = Instant::now();
    runner.stop().await;

    // then it returned within a few seconds and its processes are gone
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "stop took {:?}",
        began.elapsed()
    );
    assert!(!alive(pid));
}

#[tokio::test]
async fn a_missing_binary_is_named_when_starting() {
    let scratch = Scratch::new("missing");
    let mut function = echo_function(&scratch, "http://unused", 1, Duration::from_secs(1));
    function.binary = "/nonexistent/fk-writer".into();
    let error = fk_local::start(runner(&scratch, vec![function], vec![]))
        .await
        .err()
        .expect("start must fail");
    assert!(
        error.to_string().contains("/nonexistent/fk-writer"),
        "{error}"
    );
}
