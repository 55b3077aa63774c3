//! The runner invokes scheduled functions with EventBridge's event.

mod common;

use std::time::Duration;

use common::*;
use fk_local::ScheduleSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_delivers_scheduled_events_on_its_timer() {
    // given a function scheduled every 300 ms
    let scratch = Scratch::new("schedule");
    let schedule = ScheduleSpec {
        name: "tick".into(),
        binary: echo_binary(),
        every: Duration::from_millis(300),
        env: echo_env(&scratch),
    };

    // when the runner runs for a while
    let runner = fk_local::start(runner(&scratch, vec![], vec![schedule]))
        .await
        .unwrap();
    scratch
        .eventually(Duration::from_secs(15), "two scheduled events", |s| {
            s.records().len() >= 2
        })
        .await;

    // then the function got EventBridge's scheduled events, from one process
    let records = scratch.records();
    let event = &records[0]["event"];
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["region"], REGION);
    assert!(event["resources"][0]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:events:"));
    assert_eq!(event["detail"], serde_json::json!({}));
    assert_eq!(records[0]["pid"], records[1]["pid"]);
    assert!(runner.invocations("tick") >= 2);
    runner.stop().await;
}
