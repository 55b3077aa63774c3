//! One-shot `fk` commands share a session with `FK_SESSION_CACHE=1`
//! (crates/cli/src/session_cache.rs):
//! a write does not pay for opening and closing one, while a command that
//! binds its session (an ephemeral node) still ends it as zkCli does.

use std::path::Path;
use std::process::{Command, Output};

use fk_e2e::{binary, Stack, StackOptions};
use fk_local::StoreKind;

/// `fk ARGS` on `stack` with its session cache in `dir` (`None`: off).
fn fk(stack: &Stack, dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(binary("fk"));
    cmd.arg("--deployment")
        .arg(&stack.deployment_file)
        .args(args);
    match dir {
        Some(dir) => cmd.env("FK_SESSION_CACHE", "1").env("FK_SESSION_DIR", dir),
        None => cmd.env_remove("FK_SESSION_CACHE"),
    };
    let out = cmd.output().expect("the fk binary runs");
    assert!(
        out.status.success(),
        "fk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The session id `fk whoami` prints.
fn session_of(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with("0x"))
        .unwrap_or_else(|| panic!("no session id in {text:?}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_commands_go_on_with_the_last_commands_session() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let dir = tempfile::tempdir().unwrap();

    // Given a write that left its session for the next command,
    fk(&stack, Some(dir.path()), &["create", "/shared", "a"]);
    let first = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));

    // when more writes run, each in its own process,
    fk(&stack, Some(dir.path()), &["set", "/shared", "b"]);
    fk(&stack, Some(dir.path()), &["create", "/shared/child", "c"]);
    let last = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));

    // then they all ran in that one session, and every write took effect.
    assert_eq!(first, last);
    let out = fk(&stack, Some(dir.path()), &["get", "/shared"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "b");
    let out = fk(&stack, Some(dir.path()), &["ls", "/shared"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("child"));

    // Without the cache, each command has a session of its own.
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
    let client = fk_client::Client::read_only(&stack.deployment)
        .await
        .unwrap();
    assert_eq!(client.exists("/app/eph").await.unwrap(), None);
    // and the next command opens a new session.
    let after = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));
    assert_ne!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_deployment_closed_is_not_resumed() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let dir = tempfile::tempdir().unwrap();
    let first = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));

    // Given the cached session closed behind the cache's back (a script's
    // `close` on it stands for the heartbeat expiring it),
    let cache = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .expect("a cache file")
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&cache).unwrap();
    assert!(text.contains(&first), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let detached = fk_client::DetachedSession {
        id: doc["session"].as_str().unwrap().parse().unwrap(),
        reply_queue_url: doc["reply_queue_url"].as_str().unwrap().into(),
        last_seq: doc["last_seq"].as_u64().unwrap(),
    };
    let resumed = fk_client::Client::resume(&stack.deployment, &detached, Default::default())
        .await
        .unwrap();
    resumed.close().await.unwrap();

    // when the next command runs, it opens a new session and succeeds.
    fk(&stack, Some(dir.path()), &["create", "/after-close", "x"]);
    let next = session_of(&fk(&stack, Some(dir.path()), &["whoami"]));
    assert_ne!(first, next);
}
