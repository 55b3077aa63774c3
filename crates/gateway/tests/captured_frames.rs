//! The codec against real traffic: frames captured between ZooKeeper 3.8
//! and its clients (the `zookeeper-client` crate, and the Java client's
//! `zkCli.sh`) by a recording proxy in this test. Every frame must decode,
//! with nothing left over, and encode back to the same bytes.

mod support;

use std::time::Duration;

use fk_gateway::proto::jute::{Reader, Writer};
use fk_gateway::proto::request::Request;
use fk_gateway::proto::response::Response;
use fk_gateway::proto::{xid, ConnectRequest, ConnectResponse, OpCode, ReplyHeader, RequestHeader};
use support::proxy::{Direction, RecordingProxy};
use zookeeper_client as zkc;

/// Decodes and re-encodes one connection's frames; returns what it saw,
/// as (opcode name, reply error) pairs.
fn check_connection(frames: &[(Direction, Vec<u8>)]) -> Vec<(String, i32)> {
    let mut seen = Vec::new();
    let mut opcodes = std::collections::HashMap::new();
    let mut handshake = (false, false);
    for (direction, frame) in frames {
        let mut r = Reader::new(frame);
        let mut w = Writer::new();
        match direction {
            Direction::ToServer if !handshake.0 => {
                handshake.0 = true;
                let connect = ConnectRequest::read(&mut r).unwrap();
                r.finish().unwrap();
                connect.write(&mut w);
            }
            Direction::ToClient if !handshake.1 => {
                handshake.1 = true;
                let connect = ConnectResponse::read(&mut r).unwrap();
                r.finish().unwrap();
                connect.write(&mut w);
            }
            Direction::ToServer => {
                let header = RequestHeader::read(&mut r).unwrap();
                let request = Request::read(header.opcode, &mut r)
                    .unwrap_or_else(|e| panic!("opcode {}: {e}: {frame:?}", header.opcode));
                opcodes.insert(header.xid, header.opcode);
                header.write(&mut w);
                request.write(&mut w);
            }
            Direction::ToClient => {
                let header = ReplyHeader::read(&mut r).unwrap();
                let opcode = match header.xid {
                    xid::NOTIFICATION => OpCode::Notification.code(),
                    xid::PING => OpCode::Ping.code(),
                    xid::SET_WATCHES => OpCode::SetWatches.code(),
                    xid::AUTH => OpCode::Auth.code(),
                    x => opcodes[&x],
                };
                let response = Response::read(opcode, header.xid, header.err, &mut r)
                    .unwrap_or_else(|e| panic!("reply to opcode {opcode}: {e}: {frame:?}"));
                let name = OpCode::from_code(opcode).map_or("?", OpCode::name);
                seen.push((name.to_string(), header.err));
                header.write(&mut w);
                response.write(&mut w);
            }
        }
        assert_eq!(&w.into_bytes(), frame, "{direction:?} frame re-encodes");
    }
    seen
}

async fn drive_zookeeper_client(connect: &str) {
    let client = zkc::Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(connect)
        .await
        .unwrap();
    let anyone = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
    let ephemeral = zkc::CreateMode::EphemeralSequential.with_acls(zkc::Acls::anyone_all());
    let root = format!("/{}", fk_testkit::unique_name("capture"));
    client.create(&root, b"r", &anyone).await.unwrap();
    let child = format!("{root}/c");
    client.create(&child, b"", &anyone).await.unwrap();
    client
        .create(&format!("{root}/e-"), b"", &ephemeral)
        .await
        .unwrap();
    let (_, _, data_watch) = client.get_and_watch_data(&root).await.unwrap();
    let (_, child_watch) = client.list_and_watch_children(&child).await.unwrap();
    let mut recursive = client
        .watch(&root, zkc::AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    client.set_data(&root, b"r2", None).await.unwrap();
    data_watch.changed().await;
    recursive.changed().await;
    assert!(client.check_stat("/missing").await.unwrap().is_none());
    client.get_children(&root).await.unwrap();
    client.get_acl(&root).await.unwrap();
    client.sync(&root).await.unwrap();
    client.list_ephemerals(&root).await.unwrap();
    client.count_descendants_number(&root).await.unwrap();

    let mut multi = client.new_multi_writer();
    multi.add_check_version(&root, 1).unwrap();
    multi
        .add_create(&format!("{root}/m"), b"m", &anyone)
        .unwrap();
    multi.add_set_data(&child, b"x", None).unwrap();
    multi.add_delete(&format!("{root}/m"), None).unwrap();
    multi.commit().await.unwrap();
    let mut failing = client.new_multi_writer();
    failing.add_check_version(&root, 1).unwrap();
    failing.add_delete("/missing", None).unwrap();
    failing.add_set_data(&child, b"y", None).unwrap();
    assert!(failing.commit().await.is_err());
    let mut reads = client.new_multi_reader();
    reads.add_get_data(&root).unwrap();
    reads.add_get_children(&root).unwrap();
    reads.add_get_data("/missing").unwrap();
    reads.commit().await.unwrap();

    client
        .create(&format!("{root}/k"), b"", &anyone)
        .await
        .unwrap();
    client.delete(&child, None).await.unwrap();
    child_watch.changed().await;
    let container = zkc::CreateMode::Container.with_acls(zkc::Acls::anyone_all());
    client
        .create(&format!("{root}/container"), b"", &container)
        .await
        .unwrap();
    // TTL nodes are off in a default ZooKeeper: an error reply.
    let ttl = anyone.clone().with_ttl(Duration::from_secs(60));
    assert!(client
        .create(&format!("{root}/ttl"), b"", &ttl)
        .await
        .is_err());
    #[allow(deprecated)] // "Rust has Drop": dropping sends no removeWatches
    recursive.remove().await.unwrap();
    // Idle long enough for the client to ping.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    drop(client);
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_of_zookeeper_client_and_zookeeper_3_8_decode_and_encode_back_exactly() {
    let server = fk_testkit::zookeeper();
    let proxy = RecordingProxy::start(&server.connect).await;

    drive_zookeeper_client(&proxy.address()).await;

    let connections = proxy.connections();
    assert_eq!(connections.len(), 1, "one connection");
    let seen = check_connection(&connections[0]);
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "create2",
        "createContainer",
        "createTTL",
        "notification",
        "ping",
        "multi",
        "multiRead",
        "addWatch",
        "removeWatches",
        "getEphemerals",
        "getAllChildrenNumber",
        "getACL",
        "sync",
        "closeSession",
    ] {
        assert!(names.contains(&expected), "no {expected} reply in {seen:?}");
    }
    // A multi with a failed op is answered OK as a whole: the failure is
    // in the per-op results.
    assert!(seen
        .iter()
        .filter(|(n, _)| n == "multi")
        .all(|(_, e)| *e == 0));
    assert!(seen.contains(&("exists".into(), -101)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_of_the_java_client_and_zookeeper_3_8_decode_and_encode_back_exactly() {
    let server = fk_testkit::zookeeper();
    let proxy = RecordingProxy::start(&server.connect).await;
    let path = format!("/{}", fk_testkit::unique_name("zkcli"));

    let script = format!(
        "create {path} hello\nget -s {path}\nset {path} v2\nls -s /\nstat {path}\n\
         create -e {path}/e x\ngetEphemerals {path}\ngetAllChildrenNumber {path}\n\
         addWatch -m PERSISTENT_RECURSIVE {path}\ndelete {path}/e\nsync {path}\n\
         deleteall {path}\nquit\n"
    );
    let output = support::zkcli(&proxy.address(), &script).await;

    assert!(output.contains("hello"), "{output}");
    let connections = proxy.connections();
    assert!(!connections.is_empty());
    let mut names = Vec::new();
    for connection in &connections {
        names.extend(check_connection(connection).into_iter().map(|(n, _)| n));
    }
    for expected in ["create", "getData", "setData", "getChildren2", "sync"] {
        assert!(
            names.iter().any(|n| n == expected),
            "no {expected} in {names:?}"
        );
    }
}
