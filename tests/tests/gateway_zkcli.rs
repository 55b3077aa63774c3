//! ZooKeeper's own Java client, `zkCli.sh` (Debian's `zookeeper`
//! package), against the gateway: a script of its commands in one
//! session, with the outputs ZooKeeper's would print.

#[path = "support/gateway.rs"]
mod support;

use std::time::Duration;

use fk_local::StoreKind;
use support::GatewayStack;

const ZKCLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";

async fn zkcli(server: &str, script: &str) -> String {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(ZKCLI)
        .args(["-server", server])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{ZKCLI} (make setup installs Debian's zookeeper): {e}"));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
        .await
        .expect("zkCli.sh finished within 3 min")
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zkcli_runs_its_commands_through_the_gateway() {
    let gw = GatewayStack::start(StoreKind::S3).await;
    let script = "\
create /zk hello
create -e /zk/eph e
create -s /zk/seq- s
get -s /zk
set /zk world
get /zk
ls -s /zk
stat /zk/nothere
getEphemerals /zk
getAllChildrenNumber /zk
getAcl /zk
setAcl /zk world:anyone:r
addWatch -m PERSISTENT_RECURSIVE /zk
sync /zk
create /zk/eph/child x
delete /zk
deleteall /zk
ls /
quit
";

    let out = zkcli(&gw.address(), script).await;

    for expected in [
        "Created /zk",
        "Created /zk/eph",
        "Created /zk/seq-0000000001",
        "hello",
        "dataVersion = 0",
        "world",
        "[eph, seq-0000000001]",
        "numChildren = 2",
        "Node does not exist: /zk/nothere",
        "[/zk/eph]",
        "'world,'anyone",
        "KeeperErrorCode = Unimplemented for /zk",
        "Sync is OK",
        "Ephemerals cannot have children: /zk/eph/child",
        "Node not empty: /zk",
        "[]",
        // The recursive watch's events, as deleteall removes the tree.
        "type:NodeDeleted path:/zk/seq-0000000001",
        "type:NodeDeleted path:/zk",
    ] {
        assert!(out.contains(expected), "no {expected:?} in:\n{out}");
    }
    assert!(
        !out.contains("CONNECTING") || out.contains("SyncConnected"),
        "{out}"
    );
    gw.stack.stop().await;
}
