//! `fk trace`: where the last writes spent their time.
//!
//! Reads the spans the local stack's trace receiver keeps (`fk-local up`
//! writes them to `.fk/traces.jsonl`) and prints each write as a
//! waterfall: one line a span, indented under its parent, with its start
//! offset and duration, the time each message waited in its queue, and
//! the write's stages. It needs no deployment and no session.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fk_traces::{store, Trace};

/// The spans file `fk-local up` writes, in its state directory.
const SPANS_FILE: &str = "traces.jsonl";
/// The state directory `make run` uses, looked for here and in every parent.
const STATE_DIR: &str = ".fk";

#[derive(Debug, Clone, clap::Args)]
pub struct TraceArgs {
    /// How many of the last writes to print, oldest first.
    #[arg(long, short = 'n', default_value_t = 1)]
    last: usize,
    /// Also the session's own writes (close_session, sync).
    #[arg(long)]
    all: bool,
    /// The spans file (JSON lines) the trace receiver writes. Default:
    /// $FK_SPANS, then traces.jsonl beside the deployment document, then
    /// .fk/traces.jsonl in this directory or any parent.
    #[arg(long, env = "FK_SPANS", value_name = "FILE")]
    spans: Option<PathBuf>,
}

/// Prints the waterfalls (or, with `json`, one document holding them).
pub fn run(args: &TraceArgs, deployment: Option<&Path>, json: bool) -> ExitCode {
    let Some(path) = spans_file(args.spans.as_deref(), deployment) else {
        eprintln!(
            "fk: no spans file: pass --spans FILE, or run `make run` (its trace receiver writes \
             {STATE_DIR}/{SPANS_FILE})"
        );
        return ExitCode::from(2);
    };
    let spans = match store::read(&path) {
        Ok(spans) => spans,
        Err(e) => {
            eprintln!("fk: cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let all = args.all;
    let traces = fk_traces::last(&spans, args.last, |t| {
        if all {
            t.is_write()
        } else {
            t.is_data_write()
        }
    });
    if json {
        let docs: Vec<serde_json::Value> = traces.iter().map(Trace::to_json).collect();
        println!(
            "{}",
            serde_json::json!({ "spans_file": path, "traces": docs })
        );
    } else if traces.is_empty() {
        eprintln!(
            "fk: no write traced yet in {} (is the CLI traced? `. .fk/env` sets \
             OTEL_EXPORTER_OTLP_ENDPOINT)",
            path.display()
        );
        return ExitCode::from(1);
    } else {
        let blocks: Vec<String> = traces.iter().map(Trace::render).collect();
        print!("{}", blocks.join("\n"));
    }
    ExitCode::SUCCESS
}

/// Where the spans are: `explicit`, or beside the deployment document,
/// or the nearest `.fk/traces.jsonl`.
fn spans_file(explicit: Option<&Path>, deployment: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    if let Some(beside) = deployment
        .and_then(Path::parent)
        .map(|d| d.join(SPANS_FILE))
    {
        if beside.is_file() {
            return Some(beside);
        }
    }
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join(STATE_DIR).join(SPANS_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_spans_file_wins() {
        let found = spans_file(
            Some(Path::new("/x/spans.jsonl")),
            Some(Path::new("/y/d.json")),
        );
        assert_eq!(found, Some(PathBuf::from("/x/spans.jsonl")));
    }

    #[test]
    fn the_spans_beside_the_deployment_document_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let deployment = dir.path().join("deployment.json");
        std::fs::write(dir.path().join(SPANS_FILE), "").unwrap();
        assert_eq!(
            spans_file(None, Some(&deployment)),
            Some(dir.path().join(SPANS_FILE))
        );
    }
}
