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
        timeout: Duration::from_secs(5),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_longer_than_the_rate_runs_to_its_end_and_the_ticks_it_missed_are_skipped() {
    // given a function scheduled every 300 ms whose first invocation takes
    // 1.5 s, within its 5 s timeout, and the others no time
    let scratch = Scratch::new("schedule-slow");
    let mut env = echo_env(&scratch);
    env.insert("FK_ECHO_FIRST_SCHEDULED_SLEEP_MS".into(), "1500".into());
    let schedule = ScheduleSpec {
        name: "slow".into(),
        binary: echo_binary(),
        every: Duration::from_millis(300),
        timeout: Duration::from_secs(5),
        env,
    };

    // when the runner runs for six invocations
    let runner = fk_local::start(runner(&scratch, vec![], vec![schedule]))
        .await
        .unwrap();
    scratch
        .eventually(Duration::from_secs(20), "six scheduled events", |s| {
            s.records().len() >= 6
        })
        .await;
    runner.stop().await;

    // then one process ran them all: the long one was not killed
    let records = scratch.records();
    let pids: Vec<&serde_json::Value> = records.iter().map(|r| &r["pid"]).collect();
    assert!(pids.windows(2).all(|w| w[0] == w[1]), "{pids:?}");
    // and the ticks that passed during it were skipped, not run back to
    // back once it ended: the next ones keep to the rate
    let at: Vec<u64> = records
        .iter()
        .map(|r| r["at_ms"].as_u64().unwrap())
        .collect();
    assert!(at[1] - at[0] >= 1500, "{at:?}");
    assert!(at[1..].windows(2).all(|w| w[1] - w[0] >= 150), "{at:?}");
}
