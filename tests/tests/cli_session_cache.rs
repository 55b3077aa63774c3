//! One-shot `fk` commands share sessions (crates/cli/src/session_cache.rs;
//! on unless `FK_SESSION_CACHE=0`): a write does not pay for opening and
//! closing one, a command that binds its session (an ephemeral node) still
//! ends it as zkCli does, commands at the same time never share one, and a
//! session the deployment ended, or a killed command's, is never resumed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fk_client::{Client, ConnectOptions, DetachedSession};
use fk_e2e::{binary, Stack, StackOptions};
use fk_local::StoreKind;

/// `fk ARGS` on `stack` with its session cache in `dir` (`None`: off).
fn command(stack: &Stack, dir: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary("fk"));
    cmd.arg("--deployment")
        .arg(&stack.deployment_file)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match dir {
        Some(dir) => cmd
            .env_remove("FK_SESSION_CACHE")
            .env("FK_SESSION_DIR", dir),
        None => cmd.env("FK_SESSION_CACHE", "0"),
    };
    cmd
}

/// Runs `fk ARGS`; it must succeed.
fn fk(stack: &Stack, dir: Option<&Path>, args: &[&str]) -> Output {
    let out = command(stack, dir, args)
        .output()
        .expect("the fk binary runs");
    assert!(
        out.status.success(),
        "fk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Starts `fk ARGS` without waiting for it.
fn spawn(stack: &Stack, dir: &Path, args: &[&str]) -> Child {
    command(stack, Some(dir), args)
        .spawn()
        .expect("the fk binary runs")
}

/// The session id `fk whoami` prints.
fn session_of(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with("0x"))
        .unwrap_or_else(|| panic!("no session id in {text:?}"))
        .to_string()
}

/// The cache's first slot (`session-<deployment>.json`; the others are
/// `session-<deployment>.<n>.json`).
fn first_slot_file(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .matches('.')
                .count()
                == 1
        })
        .expect("a cache file")
}

/// The session the cache's first slot holds, as the CLI wrote it.
fn first_slot(dir: &Path) -> (std::path::PathBuf, DetachedSession) {
    let file = first_slot_file(dir);
    let text = std::fs::read_to_string(&file).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).expect("a session in the slot");
    let detached = DetachedSession {
        id: doc["session"].as_str().unwrap().parse().unwrap(),
        reply_queue_url: doc["reply_queue_url"].as_str().unwrap().into(),
        last_seq: doc["last_seq"].as_u64().unwrap(),
    };
    (file, detached)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_commands_go_on_with_the_last_commands_session() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let dir = tempfile::tempdir().unwrap();

    // Given a write that left its session for the next command,
    fk(&stack, Some(dir.path()), &["create", "/shared", "a"]);
    let first = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));

    // when more writes and reads run, each in its own process,
    fk(&stack, Some(dir.path()), &["set", "/shared", "b"]);
    fk(&stack, Some(dir.path()), &["get", "/shared"]);
    fk(&stack, Some(dir.path()), &["create", "/shared/child", "c"]);
    let last = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));

    // then they all ran in that one session, and every write took effect.
    assert_eq!(first, last);
    let out = fk(&stack, Some(dir.path()), &["get", "-s", "/shared"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().next(), Some("b"));
    assert!(text.contains("dataVersion = 1"), "{text}");
    let out = fk(&stack, Some(dir.path()), &["ls", "/shared"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("child"));

    // With FK_SESSION_CACHE=0, each command has a session of its own.
    let a = session_of(&fk(&stack, None, &["whoami"]));
    let b = session_of(&fk(&stack, None, &["whoami"]));
    assert_ne!(a, b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ephemeral_node_ends_with_its_one_shot_command_as_in_zkcli() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let dir = tempfile::tempdir().unwrap();
    fk(&stack, Some(dir.path()), &["create", "/app", ""]);
    let before = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));

    // When a one-shot command creates an ephemeral node,
    fk(&stack, Some(dir.path()), &["create", "-e", "/app/eph", "x"]);

    // then its session closed when it exited: the node is gone,
    let client = Client::read_only(&stack.deployment).await.unwrap();
    assert_eq!(client.exists("/app/eph").await.unwrap(), None);
    // and the next command opens a new session.
    let after = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));
    assert_ne!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_waiting_for_its_watch_leaves_the_cache_to_others() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let dir = tempfile::tempdir().unwrap();
    fk(&stack, Some(dir.path()), &["create", "/watched", "a"]);
    let (_, cached) = first_slot(dir.path());

    // Given a one-shot watch waiting for its event (it took the cached
    // session, to close it when it ends),
    let mut watcher = spawn(&stack, dir.path(), &["get", "-w", "/watched"]);
    let mut out = std::io::BufReader::new(watcher.stdout.take().unwrap());
    let mut data = String::new();
    std::io::BufRead::read_line(&mut out, &mut data).unwrap();
    assert_eq!(data, "a\n", "the watch is set once the data is printed");

    // when a write runs meanwhile,
    fk(&stack, Some(dir.path()), &["set", "/watched", "b"]);

    // then it had the first slot, and left its session there,
    let (_, after) = first_slot(dir.path());
    assert_ne!(after.id, cached.id, "the watcher's session is not shared");
    // and the watcher got its event and ended.
    let status = watcher.wait().unwrap();
    assert!(status.success());
    let mut event = String::new();
    std::io::Read::read_to_string(&mut out, &mut event).unwrap();
    assert!(event.contains("NodeDataChanged"), "{event}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_deployment_closed_is_not_resumed() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let dir = tempfile::tempdir().unwrap();
    let first = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));

    // Given the cached session closed behind the cache's back,
    let (_, detached) = first_slot(dir.path());
    assert_eq!(detached.id.to_string(), first);
    let resumed = Client::resume(&stack.deployment, &detached, Default::default())
        .await
        .unwrap();
    resumed.close().await.unwrap();

    // when the next command runs, it opens a new session and succeeds.
    fk(&stack, Some(dir.path()), &["create", "/after-close", "x"]);
    let next = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));
    assert_ne!(first, next);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_session_the_heartbeat_expired_is_replaced_and_the_write_succeeds() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let dir = tempfile::tempdir().unwrap();
    fk(&stack, Some(dir.path()), &["create", "/before", "x"]);

    // Given the cache's slot holds a session with a 1 s timeout, left
    // alone until the heartbeat expired it (its reply queue deleted),
    let (file, _) = first_slot(dir.path());
    let short = Client::connect_with(
        &stack.deployment,
        ConnectOptions::default().with_session_timeout(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    let detached = short.detach().await.unwrap();
    let cached = serde_json::json!({
        "session": detached.id.to_string(),
        "reply_queue_url": detached.reply_queue_url,
        "last_seq": detached.last_seq,
    });
    std::fs::write(&file, cached.to_string()).unwrap();
    let sdk = fk_aws::clients::sdk_config(stack.deployment.endpoint.as_deref(), "us-east-1").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sqs
        .get_queue_attributes()
        .queue_url(&detached.reply_queue_url)
        .send()
        .await
        .is_ok()
    {
        assert!(Instant::now() < deadline, "the heartbeat expired nothing");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // when the next command runs, it succeeds in a new session.
    fk(&stack, Some(dir.path()), &["create", "/after-expiry", "y"]);
    let next = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));
    assert_ne!(next, detached.id.to_string());
    let client = Client::read_only(&stack.deployment).await.unwrap();
    assert_eq!(client.get_data("/after-expiry").await.unwrap().0, b"y");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_one_shot_writes_are_each_answered_once_and_applied_once() {
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let dir = tempfile::tempdir().unwrap();
    fk(&stack, Some(dir.path()), &["create", "/counter", "0"]);
    fk(&stack, Some(dir.path()), &["create", "/seq", ""]);

    // When rounds of 8 one-shot writes run at once on one cache (more
    // commands than slots: some resume a cached session, some open
    // their own),
    let mut created = Vec::new();
    let mut sets = 0;
    for round in 0..3 {
        let children: Vec<(bool, Child)> = (0..8)
            .map(|i| {
                let value = format!("{round}-{i}");
                if i % 2 == 0 {
                    (
                        false,
                        spawn(&stack, dir.path(), &["set", "/counter", &value]),
                    )
                } else {
                    let args = ["create", "-s", "/seq/n-", &value];
                    (true, spawn(&stack, dir.path(), &args))
                }
            })
            .collect();
        for (creates, child) in children {
            let out = child.wait_with_output().unwrap();
            // then every command is answered,
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if creates {
                let path = text
                    .trim()
                    .strip_prefix("Created ")
                    .unwrap_or_else(|| panic!("{text:?}"));
                created.push(path.to_string());
            } else {
                assert_eq!(text, "");
                sets += 1;
            }
        }
    }

    // each with its own write's result (12 different nodes),
    let distinct: BTreeSet<&String> = created.iter().collect();
    assert_eq!(distinct.len(), 12, "{created:?}");
    // and each write applied once.
    let client = Client::read_only(&stack.deployment).await.unwrap();
    let children: BTreeSet<String> = client
        .get_children("/seq")
        .await
        .unwrap()
        .into_iter()
        .map(|c| format!("/seq/{c}"))
        .collect();
    assert_eq!(children, created.iter().cloned().collect());
    let (_, stat) = client.get_data("/counter").await.unwrap();
    assert_eq!(stat.version, sets);
    // The sessions were shared: some slots hold one for the next command.
    let cached = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|entry| {
            let text = std::fs::read_to_string(entry.as_ref().unwrap().path()).unwrap();
            !text.is_empty()
        })
        .count();
    assert!(cached >= 1, "no session left for the next command");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_killed_while_its_write_waits_leaves_its_session_to_nobody() {
    let mut stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let dir = tempfile::tempdir().unwrap();
    fk(&stack, Some(dir.path()), &["create", "/before", "x"]);
    let cached = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));
    let sdk = fk_aws::clients::sdk_config(stack.deployment.endpoint.as_deref(), "us-east-1").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    // Given a command that resumed the cached session, sent its write
    // (the functions stopped, it waits for the reply) and was killed,
    stack.stop_functions().await;
    let mut killed = spawn(&stack, dir.path(), &["create", "/killed", "k"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&stack.deployment.writer_queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        let queued = attributes
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .map_or(0, |n| n.parse::<u64>().unwrap());
        if queued > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the write was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    killed.kill().unwrap();
    killed.wait().unwrap();
    stack.start_functions().await;

    // when the next command writes,
    let start = Instant::now();
    let out = fk(&stack, Some(dir.path()), &["create", "/next", "n"]);

    // then it gets its own write's answer, in a session of its own, at
    // once (the killed command's seq and long poll are not its problem).
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Created /next");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let client = Client::read_only(&stack.deployment).await.unwrap();
    assert_eq!(client.get_data("/next").await.unwrap().0, b"n");
    let next = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));
    assert_ne!(next, cached);
    stack.stop().await;
}
