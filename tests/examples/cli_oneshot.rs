//! What a one-shot `fk` command costs end to end (process start to exit,
//! against the local stack on an S3 store): `fk create` (a write) and
//! `fk get` (a read), with a session per command (`FK_SESSION_CACHE=0`)
//! and with the session cache (the default), and the same create from a
//! library client in an open session (the write itself); `--runs` rounds
//! of the five, interleaved so that each sees the same load. Prints the
//! median and p90 of each.
//!
//! It needs the backends, and the binaries `make build` makes:
//!
//!     make setup build
//!     scripts/backends.sh run .fk/oneshot -- \
//!       cargo run -p fk-e2e --example cli_oneshot -- [--runs 20]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use fk_e2e::stats::{ms, quantile};
use fk_e2e::{binary, Stack, StackOptions};
use fk_local::StoreKind;

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what}: median {:.0} ms, p90 {:.0} ms over {} runs",
        ms(quantile(&times, 0.5)),
        ms(quantile(&times, 0.9)),
        times.len()
    );
}

/// `fk ARGS` on `stack`, the session cache on or off; it must succeed.
fn fk(stack: &Stack, cache: bool, args: &[&str]) -> Output {
    let out = Command::new(binary("fk"))
        .arg("--deployment")
        .arg(&stack.deployment_file)
        .args(args)
        .env("FK_SESSION_DIR", &stack.session_dir)
        .env("FK_SESSION_CACHE", if cache { "1" } else { "0" })
        .stdin(Stdio::null())
        .output()
        .expect("the fk binary runs");
    assert!(
        out.status.success(),
        "fk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .map(|n| n.parse().expect("--runs N"))
        .unwrap_or(20);
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    // One command first: the binary's pages in the cache, as for a user;
    // and a session in the cache, as after a user's first command.
    fk(&stack, true, &["create", "/warm", "x"]);
    let client = fk_client::Client::connect(&stack.deployment).await.unwrap();

    // The three interleaved, so that each sees the same load.
    let mut times: [Vec<Duration>; 5] = Default::default();
    for i in 0..runs {
        for (cache, write, read) in [(false, 0, 1), (true, 2, 3)] {
            let path = format!("/oneshot-{cache}-{i}");
            let start = Instant::now();
            fk(&stack, cache, &["create", &path, "data"]);
            times[write].push(start.elapsed());
            let start = Instant::now();
            fk(&stack, cache, &["get", &path]);
            times[read].push(start.elapsed());
        }
        // The write itself: the same create in an open session.
        let start = Instant::now();
        client
            .create(
                &format!("/in-session-{i}"),
                b"data",
                fk_client::CreateMode::Persistent,
            )
            .await
            .unwrap();
        times[4].push(start.elapsed());
    }
    let [own, own_get, cached, cached_get, in_session] = times;
    report("fk create, a session per command (FK_SESSION_CACHE=0)", own);
    report("fk get, FK_SESSION_CACHE=0", own_get);
    report("fk create, the session cache (default)", cached);
    report("fk get, the session cache", cached_get);
    report("create in an open session (the write itself)", in_session);
    client.close().await.unwrap();
    stack.stop().await;
}
