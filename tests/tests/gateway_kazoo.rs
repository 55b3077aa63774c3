//! kazoo (Python's ZooKeeper client, pinned in scripts/setup.sh) against
//! the gateway: a smoke script of its calls and errors, and its recipes
//! (lock, election, double barrier, counter, locking queue) with several
//! sessions at once. The scripts are in tests/gateway/.

#[path = "support/gateway.rs"]
mod support;

use std::process::Output;
use std::time::Duration;

use fk_local::StoreKind;
use support::GatewayStack;

/// Runs a script of tests/gateway/ with the project's Python.
async fn python(script: &str, args: &[&str]) -> Output {
    let path = fk_testkit::repo_root().join("tests/gateway").join(script);
    let child = tokio::process::Command::new(fk_testkit::python())
        .arg(&path)
        .args(args)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(600), child)
        .await
        .expect("the script finished within 10 min")
        .expect("python runs (make setup installs kazoo into .tools/venv)")
}

fn report(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_calls_and_errors_answer_as_zookeepers_do() {
    let gw = GatewayStack::start(StoreKind::Dynamodb).await;

    let out = python("kazoo_smoke.py", &[&gw.address()]).await;

    assert!(out.status.success(), "{}", report(&out));
    assert!(report(&out).contains("kazoo smoke: ok"), "{}", report(&out));
    gw.stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_recipes_work_with_concurrent_sessions() {
    let gw = GatewayStack::start(StoreKind::S3).await;

    let out = python("kazoo_recipes.py", &[&gw.address()]).await;

    let text = report(&out);
    assert!(out.status.success(), "{text}");
    for recipe in [
        "lock:",
        "election:",
        "double barrier:",
        "counter:",
        "locking queue:",
    ] {
        assert!(
            text.contains(&format!("ok   {recipe}")),
            "{recipe} did not pass:\n{text}"
        );
    }
    gw.stack.stop().await;
}
