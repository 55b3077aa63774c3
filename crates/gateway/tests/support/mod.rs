//! What the gateway's tests share: a recording proxy, and zkCli.sh.

#![allow(dead_code)] // each test file uses part of it

pub mod proxy;

use std::time::Duration;

/// Debian's `zookeeper` package's command-line client.
pub const ZKCLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";

/// Runs zkCli.sh against `server` with `script` on its standard input;
/// returns its standard output and error, together.
pub async fn zkcli(server: &str, script: &str) -> String {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(ZKCLI)
        .args(["-server", server])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{ZKCLI} (apt-get install zookeeper): {e}"));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("zkCli.sh finished within 120 s")
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
