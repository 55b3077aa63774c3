//! Printing answers: zkCli's text format, or one JSON document each.
//!
//! Text goes where zkCli sends it: results to stdout, failures to stderr.
//! With `--json` both are one document on stdout (a failure has `error`,
//! `code` and `message`).

use base64::Engine;
use fk_client::{Stat, WatchedEvent};
use fk_core::OpResult;
use serde_json::{json, Value};

use crate::command::{Failure, Output};

pub fn success(output: &Output, as_json: bool) {
    if as_json {
        println!("{}", to_json(output));
    } else {
        let text = text(output);
        if !text.is_empty() {
            println!("{text}");
        }
    }
}

/// A failure; in a script, `line` is its line number.
pub fn failure(failure: &Failure, as_json: bool, line: Option<usize>) {
    let at = line.map(|n| format!("line {n}: ")).unwrap_or_default();
    if as_json {
        let mut doc = json!({
            "path": failure.path(),
            "error": format!("{:?}", failure.error()),
            "code": failure.error().code(),
            "message": failure.message(),
        });
        if let Some(cause) = failure.cause() {
            doc["cause"] = json!(cause);
        }
        if let Failure::Multi { steps, .. } = failure {
            doc["results"] = steps
                .iter()
                .map(|step| {
                    let (name, code) = match step.error {
                        Some(e) => (format!("{e:?}"), e.code()),
                        None => ("Ok".to_string(), 0),
                    };
                    json!({ "op": step.op, "path": step.path, "error": name, "code": code })
                })
                .collect();
        }
        if let Some(n) = line {
            doc["line"] = json!(n);
            // The document is on stdout; say which line failed where a
            // person looks.
            eprintln!("{at}{}", failure.message());
        }
        println!("{doc}");
        return;
    }
    eprintln!("{at}{}", failure.message());
    if let Failure::Multi { steps, .. } = failure {
        for step in steps {
            let result = match step.error {
                None => "OK (0), rolled back".to_string(),
                Some(e) => format!("{} ({})", e.code_name(), e.code()),
            };
            eprintln!("  {} {}: {result}", step.op, step.path);
        }
    }
}

/// A watch event: zkCli's `WATCHER::` lines, or one JSON document.
pub fn event(event: &WatchedEvent, as_json: bool) -> String {
    if as_json {
        json!({ "event": event.event_type, "path": event.path, "zxid": event.zxid }).to_string()
    } else {
        format!(
            "WATCHER::\n\nWatchedEvent state:SyncConnected type:{} path:{}",
            event.event_type, event.path
        )
    }
}

/// zkCli's text for an output, without the last newline.
fn text(output: &Output) -> String {
    let mut lines: Vec<String> = Vec::new();
    match output {
        Output::Created { path, .. } => lines.push(format!("Created {path}")),
        Output::Data {
            data,
            stat,
            show_stat,
            ..
        } => {
            lines.push(String::from_utf8_lossy(data).into_owned());
            if *show_stat {
                lines.extend(stat_lines(stat));
            }
        }
        Output::Set {
            stat, show_stat, ..
        } => {
            if *show_stat {
                lines.extend(stat_lines(stat));
            }
        }
        Output::Stat { stat, .. } => lines.extend(stat_lines(stat)),
        Output::Deleted { .. } | Output::DeletedAll { .. } | Output::Done => {}
        Output::Synced { .. } => lines.push("Sync is OK".into()),
        Output::Count { count, .. } => lines.push(count.to_string()),
        Output::Multi { results } => lines.extend(results.iter().map(multi_result)),
        Output::Children { children, stat, .. } => {
            lines.push(format!("[{}]", children.join(", ")));
            if let Some(stat) = stat {
                lines.extend(stat_lines(stat));
            }
        }
        Output::Tree { paths, .. } => lines.extend(paths.iter().cloned()),
        Output::Version(version) => lines.push(version.clone()),
        Output::WhoAmI { session } => {
            lines.push("Auth scheme: User".into());
            match session {
                Some(id) => lines.push(format!("session: {id}")),
                None => lines.push("session: none (read-only)".into()),
            }
        }
        Output::History(entries) => {
            lines.extend(entries.iter().map(|(n, line)| format!("{n} - {line}")))
        }
        Output::PrintWatches(on) => lines.push(format!(
            "printwatches is {}",
            if *on { "on" } else { "off" }
        )),
        Output::Help(help) => lines.push(help.clone()),
    }
    lines.join("\n")
}

fn multi_result(result: &OpResult) -> String {
    match result {
        OpResult::Created { path, .. } => format!("Created {path}"),
        OpResult::SetData { stat } => format!("Set (dataVersion = {})", stat.version),
        OpResult::Deleted => "Deleted".into(),
        OpResult::Checked => "Checked".into(),
        other => format!("{other:?}"),
    }
}

fn to_json(output: &Output) -> Value {
    match output {
        Output::Created { path, stat } => json!({ "path": path, "stat": stat }),
        Output::Data {
            path, data, stat, ..
        } => {
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
        Output::Set { path, stat, .. } | Output::Stat { path, stat } => {
            json!({ "path": path, "stat": stat })
        }
        Output::Deleted { path } => json!({ "path": path, "deleted": true }),
        Output::DeletedAll { path, count } => {
            json!({ "path": path, "deleted": true, "count": count })
        }
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
        Output::Tree { path, paths } => json!({ "path": path, "paths": paths }),
        Output::Version(version) => json!({ "version": version }),
        Output::WhoAmI { session } => json!({
            "auth_scheme": "User",
            "session": session.map(|id| id.to_string()),
        }),
        Output::History(entries) => json!({
            "history": entries
                .iter()
                .map(|(n, line)| json!({ "number": n, "command": line }))
                .collect::<Vec<_>>(),
        }),
        Output::PrintWatches(on) => json!({ "printwatches": on }),
        Output::Help(help) => json!({ "help": help }),
    }
}

/// zkCli's `StatPrinter`.
fn stat_lines(stat: &Stat) -> Vec<String> {
    vec![
        format!("cZxid = 0x{:x}", stat.czxid),
        format!("ctime = {}", time(stat.ctime)),
        format!("mZxid = 0x{:x}", stat.mzxid),
        format!("mtime = {}", time(stat.mtime)),
        format!("pZxid = 0x{:x}", stat.pzxid),
        format!("cversion = {}", stat.cversion),
        format!("dataVersion = {}", stat.version),
        format!("aclVersion = {}", stat.aversion),
        format!("ephemeralOwner = 0x{:x}", stat.ephemeral_owner),
        format!("dataLength = {}", stat.data_length),
        format!("numChildren = {}", stat.num_children),
    ]
}

/// Java's `Date.toString()`, as zkCli prints times, in UTC.
fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%a %b %d %H:%M:%S UTC %Y")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_javas_date() {
        assert_eq!(time(1_796_535_097_000), "Sun Dec 06 05:31:37 UTC 2026");
    }

    #[test]
    fn get_prints_the_stat_only_with_dash_s() {
        let stat = Stat {
            czxid: 0x2a,
            version: 3,
            data_length: 2,
            ..Stat::default()
        };
        let output = |show_stat| Output::Data {
            path: "/a".into(),
            data: b"hi".to_vec(),
            stat,
            show_stat,
        };

        assert_eq!(text(&output(false)), "hi");
        let with_stat = text(&output(true));
        assert!(
            with_stat.starts_with("hi\ncZxid = 0x2a\nctime = "),
            "{with_stat}"
        );
        assert!(with_stat.contains("\ndataVersion = 3\n"), "{with_stat}");
        assert!(with_stat.ends_with("\nnumChildren = 0"), "{with_stat}");
    }

    #[test]
    fn history_lines_are_numbered_as_zkcli_numbers_them() {
        let output = Output::History(vec![(0, "ls /".into()), (1, "history".into())]);
        assert_eq!(text(&output), "0 - ls /\n1 - history");
    }
}
