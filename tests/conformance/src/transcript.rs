//! How calls, replies and events are written in a transcript (see
//! [`crate::scenario`] for what a transcript shows).

use std::fmt::Write as _;

use crate::call::{Call, Reply};
use crate::zk::{AddWatchMode, Event, MultiOp, MultiResult, Stat, WatcherType};

/// How a `Stat` is shown: the scenario knows the sessions and zxids.
pub trait ShowStat {
    fn stat(&self, stat: &Stat) -> String;
}

pub fn show_call(call: &Call) -> String {
    let watch = |w: &bool| if *w { " watch" } else { "" };
    match call {
        Call::Create { path, data, mode } => {
            format!("create {} {} {mode}", show_path(path), show_data(data))
        }
        Call::GetData { path, watch: w } => format!("get_data{} {}", watch(w), show_path(path)),
        Call::SetData {
            path,
            data,
            version: v,
        } => format!(
            "set_data {} {} version={}",
            show_path(path),
            show_data(data),
            show_version(v)
        ),
        Call::Delete { path, version: v } => {
            format!("delete {} version={}", show_path(path), show_version(v))
        }
        Call::Exists { path, watch: w } => format!("exists{} {}", watch(w), show_path(path)),
        Call::GetChildren { path, watch: w } => {
            format!("get_children{} {}", watch(w), show_path(path))
        }
        Call::GetChildren2 { path } => format!("get_children2 {}", show_path(path)),
        Call::Multi { ops } => {
            let ops: Vec<String> = ops.iter().map(show_multi_op).collect();
            format!("multi [{}]", ops.join(", "))
        }
        Call::Sync { path } => format!("sync {}", show_path(path)),
        Call::GetEphemerals { prefix } => format!("get_ephemerals {}", show_path(prefix)),
        Call::GetAllChildrenNumber { path } => {
            format!("get_all_children_number {}", show_path(path))
        }
        Call::AddWatch { path, mode } => {
            let mode = match mode {
                AddWatchMode::Persistent => "persistent",
                AddWatchMode::PersistentRecursive => "persistent-recursive",
            };
            format!("add_watch {} {mode}", show_path(path))
        }
        Call::RemoveWatches { path, kind } => {
            let kind = match kind {
                WatcherType::Children => "children",
                WatcherType::Data => "data",
                WatcherType::Any => "any",
            };
            format!("remove_watches {} {kind}", show_path(path))
        }
    }
}

fn show_multi_op(op: &MultiOp) -> String {
    match op {
        MultiOp::Check { path, version } => {
            format!(
                "check {} version={}",
                show_path(path),
                show_version(version)
            )
        }
        MultiOp::Create { path, data, mode } => {
            format!("create {} {} {mode}", show_path(path), show_data(data))
        }
        MultiOp::SetData {
            path,
            data,
            version,
        } => format!(
            "set_data {} {} version={}",
            show_path(path),
            show_data(data),
            show_version(version)
        ),
        MultiOp::Delete { path, version } => {
            format!(
                "delete {} version={}",
                show_path(path),
                show_version(version)
            )
        }
    }
}

pub fn show_reply(reply: &Reply, show: &dyn ShowStat) -> String {
    match reply {
        Reply::Created { path, stat } => format!("{} {}", show_path(path), show.stat(stat)),
        Reply::Data { data, stat } => format!("{} {}", show_data(data), show.stat(stat)),
        Reply::Stat(stat) => show.stat(stat),
        Reply::Done => "ok".into(),
        Reply::Exists(None) => "none".into(),
        Reply::Exists(Some(stat)) => show.stat(stat),
        Reply::Children(children) => show_children(children),
        Reply::Children2 { children, stat } => {
            format!("{} {}", show_children(children), show.stat(stat))
        }
        Reply::Multi(results) => {
            let results: Vec<String> = results
                .iter()
                .map(|r| match r {
                    MultiResult::Checked => "checked".to_string(),
                    // No Stat: ZooKeeper 3.8 sends none for a create in
                    // a multi (ZOOKEEPER-4026), so there is none to compare.
                    MultiResult::Created { path, .. } => format!("created {}", show_path(path)),
                    MultiResult::SetData(stat) => format!("set {}", show.stat(stat)),
                    MultiResult::Deleted => "deleted".to_string(),
                })
                .collect();
            format!("[{}]", results.join(", "))
        }
        Reply::MultiErr(e) => match e.index {
            Some(i) => format!(
                "{} at op {i} (ops before: OK, after: RUNTIMEINCONSISTENCY)",
                e.code
            ),
            None => format!("{} (the request as a whole)", e.code),
        },
        Reply::Paths(paths) => show_children(paths),
        Reply::Count(n) => n.to_string(),
        Reply::Err(code) => code.0.clone(),
    }
}

/// Events as a list. `sorted`: in a canonical order, for events of one
/// write (their order is not observable on the reference side).
pub fn show_events(events: &[Event], sorted: bool) -> String {
    let mut events = events.to_vec();
    if sorted {
        events.sort();
    }
    let shown: Vec<String> = events
        .iter()
        .map(|e| format!("{:?} {}", e.event_type, show_path(&e.path)))
        .collect();
    format!("[{}]", shown.join(", "))
}

fn show_version(v: &Option<i32>) -> String {
    match v {
        None => "any".to_string(),
        Some(v) => v.to_string(),
    }
}

/// Child names, sorted: ZooKeeper gives them in no particular order.
pub fn show_children(children: &[String]) -> String {
    let mut sorted = children.to_vec();
    sorted.sort();
    format!("{sorted:?}")
}

/// A path, quoted (with escapes) when it holds anything unusual.
pub fn show_path(path: &str) -> String {
    if !path.is_empty() && path.chars().all(|c| c.is_ascii_graphic()) {
        path.to_string()
    } else {
        format!("{path:?}")
    }
}

/// Data as a quoted string when it is printable text, else as hex.
pub fn show_data(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) if !text.chars().any(char::is_control) => format!("{text:?}"),
        _ => {
            let mut hex = String::from("0x");
            for b in data {
                let _ = write!(hex, "{b:02x}");
            }
            hex
        }
    }
}
