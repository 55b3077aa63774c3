//! Printing results: zkCli's text format, or JSON.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use fk_client::{Stat, WatchedEvent};
use fk_core::OpResult;
use serde_json::{json, Value};

use crate::command::{Failure, Output};

pub fn success(output: &Output, as_json: bool) {
    if as_json {
        println!("{}", to_json(output));
        return;
    }
    match output {
        Output::Created { path, .. } => println!("Created {path}"),
        Output::Data { data, stat, .. } => {
            println!("{}", String::from_utf8_lossy(data));
            print_stat(stat);
        }
        Output::Set { stat, .. } | Output::Stat { stat, .. } => print_stat(stat),
        Output::Deleted { .. } | Output::Done => {}
        Output::Synced { path } => println!("Sync is OK for {path}"),
        Output::Count { count, .. } => println!("{count}"),
        Output::Multi { results } => {
            for result in results {
                match result {
                    OpResult::Created { path, .. } => println!("Created {path}"),
                    OpResult::SetData { stat } => println!("Set (dataVersion = {})", stat.version),
                    OpResult::Deleted => println!("Deleted"),
                    OpResult::Checked => println!("Checked"),
                    other => println!("{other:?}"),
                }
            }
        }
        Output::Children { children, stat, .. } => {
            println!("[{}]", children.join(", "));
            if let Some(stat) = stat {
                print_stat(stat);
            }
        }
    }
}

/// A watch event, as zkCli prints it (or one JSON document).
pub fn event(event: &WatchedEvent, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({ "event": event.event_type, "path": event.path, "zxid": event.zxid })
        );
    } else {
        println!(
            "WATCHER::\n\nWatchedEvent state:SyncConnected type:{} path:{}",
            event.event_type, event.path
        );
    }
}

pub fn failure(failure: &Failure, as_json: bool) {
    let code = failure.error.code();
    // A backend failure's cause (which resource, why), beside the code.
    let cause = std::error::Error::source(&failure.error).map(|_| failure.error.to_string());
    if as_json {
        let mut doc = json!({
            "path": failure.path,
            "error": format!("{code:?}"),
            "code": code.code(),
        });
        if let Some(cause) = &cause {
            doc["cause"] = json!(cause);
        }
        println!("{doc}");
        return;
    }
    let name = format!("{code:?}");
    if failure.path.is_empty() {
        eprintln!("KeeperErrorCode = {name}");
    } else if code == fk_client::Code::NoNode {
        eprintln!(
            "Node does not exist: {} (KeeperErrorCode = {name})",
            failure.path
        );
    } else {
        eprintln!("KeeperErrorCode = {name} for {}", failure.path);
    }
    if let Some(cause) = cause {
        eprintln!("{cause}");
    }
}

fn to_json(output: &Output) -> Value {
    match output {
        Output::Created { path, stat } => json!({ "path": path, "stat": stat }),
        Output::Data { path, data, stat } => {
            let mut doc = json!({ "path": path, "stat": stat });
            match std::str::from_utf8(data) {
                Ok(text) => doc["data"] = json!(text),
                Err(_) => {
                    doc["data_base64"] =
                        json!(base64::engine::general_purpose::STANDARD.encode(data))
                }
            }
            doc
        }
        Output::Set { path, stat } | Output::Stat { path, stat } => {
            json!({ "path": path, "stat": stat })
        }
        Output::Deleted { path } => json!({ "path": path, "deleted": true }),
        Output::Done => json!({ "ok": true }),
        Output::Synced { path } => json!({ "path": path, "synced": true }),
        Output::Count { path, count } => json!({ "path": path, "count": count }),
        Output::Multi { results } => json!({ "results": results }),
        Output::Children {
            path,
            children,
            stat,
        } => {
            let mut doc = json!({ "path": path, "children": children });
            if let Some(stat) = stat {
                doc["stat"] = json!(stat);
            }
            doc
        }
    }
}

/// zkCli's `stat` layout.
fn print_stat(stat: &Stat) {
    println!("cZxid = 0x{:x}", stat.czxid);
    println!("ctime = {}", time(stat.ctime));
    println!("mZxid = 0x{:x}", stat.mzxid);
    println!("mtime = {}", time(stat.mtime));
    println!("pZxid = 0x{:x}", stat.pzxid);
    println!("cversion = {}", stat.cversion);
    println!("dataVersion = {}", stat.version);
    println!("aclVersion = {}", stat.aversion);
    println!("ephemeralOwner = 0x{:x}", stat.ephemeral_owner);
    println!("dataLength = {}", stat.data_length);
    println!("numChildren = {}", stat.num_children);
}

fn time(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}
