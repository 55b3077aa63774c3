//! `fk-local up`: provisions, writes the deployment document, runs the
//! functions, and takes them down with it, even when it is killed.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{alive, echo_binary, Scratch};

fn fk_local() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fk-local"));
    command
        .env_remove("FK_AWS_ENDPOINT")
        .env_remove("FK_REDIS_URL");
    command
}

/// The pids of `parent`'s children.
fn children(parent: u32) -> Vec<u32> {
    let mut found = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // `pid (comm) state ppid ...`; comm may hold spaces, so split after ')'.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let ppid = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            found.push(pid);
        }
    }
    found
}

/// A bin dir whose functions are all the echo function.
fn fake_bin_dir(scratch: &Scratch) -> std::path::PathBuf {
    let dir = scratch.dir.join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["fk-writer", "fk-distributor", "fk-heartbeat", "fk-watch"] {
        std::os::unix::fs::symlink(echo_binary(), dir.join(name)).unwrap();
    }
    dir
}

#[test]
fn up_writes_the_deployment_and_its_functions_die_with_it_even_on_sigkill() {
    // given fk-local up running two writers and a distributor
    let scratch = Scratch::new("cli-up");
    let state = scratch.dir.join("state");
    let mut up = fk_local()
        .args(["up", "--store", "dynamodb", "--writers", "2"])
        .arg("--endpoint")
        .arg(&fk_testkit::moto().endpoint)
        .arg("--name")
        .arg(fk_testkit::unique_name("cli"))
        .arg("--bin-dir")
        .arg(fake_bin_dir(&scratch))
        .arg("--state-dir")
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    let mut lines = BufReader::new(up.stdout.take().unwrap()).lines();
    while !banner.contains("Stop with Ctrl-C") {
        match lines.next() {
            Some(Ok(line)) => banner += &(line + "\n"),
            _ => panic!("fk-local up ended early: {banner}"),
        }
    }
    assert!(
        banner.contains("dynamodb user store, 2 writer(s)"),
        "{banner}"
    );

    // then the deployment document and the env file are written
    let deployment = std::fs::read_to_string(state.join("deployment.json")).unwrap();
    let deployment = fk_aws::deployment::Deployment::from_json(&deployment).unwrap();
    assert_eq!(
        deployment.endpoint.as_deref(),
        Some(fk_testkit::moto().endpoint.as_str())
    );
    assert_eq!(deployment.user_store.kind(), "dynamodb");
    let env = std::fs::read_to_string(state.join("env")).unwrap();
    assert!(env.contains("export FK_DEPLOYMENT="), "{env}");

    // and five function processes run (two writers, the distributor, the
    // watch function, the heartbeat)
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut functions = children(up.id());
    while functions.len() < 5 {
        assert!(
            Instant::now() < deadline,
            "function processes: {functions:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
        functions = children(up.id());
    }
    assert!(Path::new(&state.join("logs/writer-1.log")).exists());

    // and a writer is busy (60 s), not waiting on its Runtime API
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let sqs = common::sqs().await;
        common::send(&sqs, &deployment.writer_queue_url, "g1", "sleep:60000").await;
    });
    std::thread::sleep(Duration::from_secs(3));

    // when fk-local is killed outright
    up.kill().unwrap();
    up.wait().unwrap();

    // then its functions die too, the busy one included (by the
    // parent-death signal: nothing else would stop it for a minute)
    let deadline = Instant::now() + Duration::from_secs(5);
    while functions.iter().any(|&pid| alive(pid.into())) {
        assert!(
            Instant::now() < deadline,
            "functions outlived fk-local: {functions:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn up_without_a_function_binary_says_which_and_how_to_build_it() {
    let scratch = Scratch::new("cli-missing");
    let out = fk_local()
        .args(["up", "--endpoint", "http://127.0.0.1:9"])
        .arg("--bin-dir")
        .arg(scratch.dir.join("nothing-here"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fk-writer not found"), "{stderr}");
    assert!(stderr.contains("cargo build -p fk-writer"), "{stderr}");
}
