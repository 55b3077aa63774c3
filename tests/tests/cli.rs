//! The `fk` walkthrough of the write-path issue, through the real function
//! binaries, on each user store.

use fk_e2e::{stderr, stdout, Stack, StackOptions};
use fk_local::StoreKind;

async fn walkthrough(store: StoreKind) {
    let stack = Stack::start(StackOptions::new(store)).await;

    let out = stack.fk(&["create", "/app", "hello"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "Created /app");

    let out = stack.fk(&["get", "-s", "/app"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("hello\n"), "{text}");
    assert!(text.contains("dataVersion = 0"), "{text}");
    assert!(text.contains("dataLength = 5"), "{text}");

    let out = stack.fk(&["set", "-s", "/app", "v2", "--version", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("dataVersion = 1"));

    let out = stack.fk(&["set", "/app", "v3", "--version", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("version No is not valid : /app"),
        "{}",
        stderr(&out)
    );

    let out = stack.fk(&["create", "/app/a", "x"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = stack.fk(&["ls", "/app"]);
    assert_eq!(stdout(&out).trim(), "[a]");

    let out = stack.fk(&["delete", "/app"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Node not empty: /app"));

    let out = stack.fk(&["--json", "stat", "/app"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stat"]["numChildren"], 1);
    assert_eq!(doc["stat"]["version"], 1);
    assert_eq!(doc["stat"]["cversion"], 1);

    let out = stack.fk(&["exists", "/nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Node does not exist: /nope"));

    let out = stack.fk(&["--json", "get", "/app"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["data"], "v2");

    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_on_s3() {
    walkthrough(StoreKind::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_on_dynamodb() {
    walkthrough(StoreKind::Dynamodb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_on_redis() {
    walkthrough(StoreKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_mode_runs_each_line_in_one_session_and_reports_failures() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let script = "\
# a comment, then a blank line

create /s 'two words'
create -s /s/job- a
create -s /s/job- b
create -e /s/mine x
get /s
sync /s
multi 'create /s/m1 a' 'set /s/m1 b -v 0' 'check /s -v 0'
multi 'create /s/m2 a' 'check /s -v 7'
getEphemerals /s
getAllChildrenNumber /
delete /s/nope
ls /s
";
    let out = stack.fk_with_stdin(&["script"], Some(script));

    assert_eq!(out.status.code(), Some(1), "one line failed");
    let text = stdout(&out);
    assert!(text.contains("Created /s/job-0000000000"), "{text}");
    assert!(text.contains("Created /s/job-0000000001"), "{text}");
    assert!(text.contains("two words"), "{text}");
    assert!(text.contains("Sync is OK\n"), "{text}");
    assert!(
        text.contains("Created /s/m1\nSet (dataVersion = 1)\nChecked\n"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("line 10: version No is not valid : /s"),
        "{}",
        stderr(&out)
    );
    assert!(text.contains("[/s/mine]\n5\n"), "{text}");
    assert!(
        text.contains("[job-0000000000, job-0000000001, m1, mine]"),
        "{text}"
    );
    assert!(stderr(&out).contains("line 13: Node does not exist: /s/nope"));
    // The script's session closed at its end, and its ephemeral went with it.
    let after = stack.fk(&["ls", "/s"]);
    assert_eq!(
        stdout(&after).trim(),
        "[job-0000000000, job-0000000001, m1]"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_zookeeper_error_and_a_clear_message() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;

    let out = stack.fk(&["create", "relative/path", "x"]);
    assert!(
        stderr(&out).contains("Arguments are not valid : relative/path"),
        "{}",
        stderr(&out)
    );
    let out = stack.fk(&["--json", "create", "/x/y", "x"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"], "NoNode");
    assert_eq!(doc["code"], -101);

    let missing = std::process::Command::new(fk_e2e::binary("fk"))
        .args(["--deployment", "/nonexistent.json", "ls", "/"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read /nonexistent.json"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watching_command_prints_the_event_and_exits() {
    use std::io::{BufRead, BufReader};
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    // `stat -w` on a missing node: NoNode, and it waits for the creation.
    let mut watcher = stack.fk_spawn(&["stat", "-w", "/later"]);
    let mut answer = String::new();
    BufReader::new(watcher.stderr.take().unwrap())
        .read_line(&mut answer)
        .unwrap();
    assert!(answer.contains("Node does not exist: /later"), "{answer}");

    let created = stack.fk(&["create", "/later", "x"]);
    assert!(created.status.success(), "{}", stderr(&created));

    let out = tokio::task::spawn_blocking(move || watcher.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the stat itself found nothing");
    assert!(
        stdout(&out).contains("WatchedEvent state:SyncConnected type:NodeCreated path:/later"),
        "{}",
        stdout(&out)
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_watches_waits_and_closes_its_session() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let script = "\
create /w a
create -e /w/mine x
addWatch -m persistent /w
get -w /w
set /w b
wait 1
removewatches /w
removewatches /w
close
get /w
";
    let out = stack.fk_with_stdin(&["--json", "script"], Some(script));

    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let docs: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events: Vec<(&str, &str)> = docs
        .iter()
        .filter_map(|d| Some((d["event"].as_str()?, d["path"].as_str()?)))
        .collect();
    // One NodeDataChanged for the two watches; the persistent watch also
    // saw nothing else (the ephemeral was created before it).
    assert_eq!(events, vec![("NodeDataChanged", "/w")], "{docs:?}");
    let errors: Vec<&str> = docs.iter().filter_map(|d| d["error"].as_str()).collect();
    assert_eq!(errors, vec!["NoWatcher", "SessionExpired"], "{docs:?}");
    // The close removed the ephemeral.
    assert_eq!(stdout(&stack.fk(&["ls", "/w"])).trim(), "[]");
    stack.stop().await;
}
