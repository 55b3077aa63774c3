//! `fk trace`: where the last writes spent their time.
//!
//! Reads the spans the local stack's trace receiver keeps (`fk-local up`
//! writes them to `.fk/traces.jsonl`) and prints each write as a
//! waterfall: one row a span, indented under its parent, with its start
//! offset, its duration and a bar on the write's time line, the time each
//! message waited in its queue, and the write's stages. The same traces
//! go out as OTLP-JSON (`--otlp-json`), which Jaeger, Tempo and the
//! OpenTelemetry Collector load, or as a page a browser opens (`--html`).
//! It needs no deployment and no session.

mod terminal;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fk_traces::{bars, otlp_json, store, SpanRecord, Trace};

/// The spans file `fk-local up` writes, in its state directory.
const SPANS_FILE: &str = "traces.jsonl";
/// The state directory `make run` uses, looked for here and in every parent.
const STATE_DIR: &str = ".fk";
/// The bars' width when neither `--width` nor a terminal gives one.
const DEFAULT_WIDTH: usize = 120;

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
    /// What to print: a time bar per span (bars, the default), the
    /// figures alone (table), the spans as OTLP-JSON (otlp-json) or a
    /// page (html). The global --json prints the waterfalls as JSON.
    /// With --otlp-json or --html, nothing is printed unless this asks.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
    /// The width of the bars' rows. Default: $COLUMNS, then the
    /// terminal's, then 120.
    #[arg(long, value_name = "COLUMNS")]
    width: Option<usize>,
    /// Write the traces' spans to FILE as OTLP-JSON (an
    /// ExportTraceServiceRequest on one line; `-`: standard output), for
    /// Jaeger, Grafana Tempo or an OpenTelemetry Collector.
    #[arg(long, value_name = "FILE")]
    otlp_json: Option<PathBuf>,
    /// Write the waterfalls to FILE as one self-contained HTML page (`-`:
    /// standard output).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// What `fk trace` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Bars,
    Table,
    OtlpJson,
    Html,
}

/// Prints the waterfalls (or, with `json`, one document holding them),
/// or writes them to the files asked for.
pub fn run(args: &TraceArgs, deployment: Option<&Path>, json: bool) -> ExitCode {
    if json && args.format.is_some() {
        eprintln!("fk: --json and --format both choose what to print: pass one");
        return ExitCode::from(2);
    }
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
        return ExitCode::SUCCESS;
    }
    if traces.is_empty() {
        eprintln!(
            "fk: no write traced yet in {} (is the CLI traced? `. .fk/env` sets \
             OTEL_EXPORTER_OTLP_ENDPOINT)",
            path.display()
        );
        return ExitCode::from(1);
    }
    let files = [
        (args.otlp_json.as_deref(), Format::OtlpJson),
        (args.html.as_deref(), Format::Html),
    ];
    let mut wrote_a_file = false;
    for (file, format) in files {
        let Some(file) = file else { continue };
        let written = render(&traces, format, args.width).and_then(|text| write(file, &text));
        match written {
            Ok(()) if file == Path::new("-") => {}
            Ok(()) => eprintln!(
                "fk: wrote {} ({} of {})",
                file.display(),
                count(traces.len(), "trace"),
                count(traces.iter().map(|t| t.spans.len()).sum(), "span")
            ),
            Err(message) => {
                eprintln!("fk: {}: {message}", file.display());
                return ExitCode::from(1);
            }
        }
        wrote_a_file = true;
    }
    // With a file to write, the waterfall is printed only when asked for.
    let format = match (args.format, wrote_a_file) {
        (Some(format), _) => format,
        (None, true) => return ExitCode::SUCCESS,
        (None, false) => Format::Bars,
    };
    match render(&traces, format, args.width) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("fk: {message}");
            ExitCode::from(1)
        }
    }
}

/// The traces in `format`, as the text to print or write.
fn render(traces: &[Trace], format: Format, width: Option<usize>) -> Result<String, String> {
    let blocks = |render: &dyn Fn(&Trace) -> String| {
        traces.iter().map(render).collect::<Vec<_>>().join("\n")
    };
    Ok(match format {
        Format::Bars => {
            let width = width.or_else(terminal::width).unwrap_or(DEFAULT_WIDTH);
            blocks(&|t| bars::render(t, width))
        }
        Format::Table => blocks(&Trace::render),
        Format::OtlpJson => {
            let spans: Vec<SpanRecord> = traces.iter().flat_map(|t| t.spans.clone()).collect();
            otlp_json::to_string(&spans).map_err(|e| e.to_string())? + "\n"
        }
        Format::Html => fk_traces::html::page(traces),
    })
}

/// Writes `text` to `file`, or to standard output for `-`.
fn write(file: &Path, text: &str) -> Result<(), String> {
    let written = if file == Path::new("-") {
        std::io::stdout().lock().write_all(text.as_bytes())
    } else {
        std::fs::write(file, text)
    };
    written.map_err(|e| e.to_string())
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
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

    /// A spans file holding one write: the CLI's call, the writer's
    /// `write` (which makes it a write) and its `lock`.
    fn spans_file_with_a_write(dir: &Path) -> PathBuf {
        let span = |service: &str, name: &str, id: &str, parent: &str, ms: (u64, u64)| SpanRecord {
            service: service.into(),
            name: name.into(),
            kind: "internal".into(),
            trace_id: "ab".repeat(16),
            span_id: id.repeat(8),
            parent_id: parent.repeat(8),
            start_ns: 1_000_000_000 + ms.0 * 1_000_000,
            end_ns: 1_000_000_000 + ms.1 * 1_000_000,
            ..Default::default()
        };
        let path = dir.join(SPANS_FILE);
        let spans = [
            span("fk-cli", "zk.set_data", "c1", "", (0, 40)),
            span("fk-writer", "write", "a1", "c1", (10, 30)),
            span("fk-writer", "lock", "a2", "a1", (12, 14)),
        ];
        store::append(&path, &spans).unwrap();
        path
    }

    fn args(spans: &Path) -> TraceArgs {
        TraceArgs {
            last: 1,
            all: false,
            spans: Some(spans.to_path_buf()),
            format: None,
            width: None,
            otlp_json: None,
            html: None,
        }
    }

    #[test]
    fn the_asked_files_are_written_with_the_traces_spans() {
        // given: a spans file with one write
        let dir = tempfile::tempdir().unwrap();
        let mut args = args(&spans_file_with_a_write(dir.path()));
        args.otlp_json = Some(dir.path().join("trace.json"));
        args.html = Some(dir.path().join("trace.html"));

        // when
        let status = run(&args, None, false);

        // then: the OTLP-JSON holds the three spans, the page three rows
        assert_eq!(status, ExitCode::SUCCESS);
        let json = std::fs::read_to_string(dir.path().join("trace.json")).unwrap();
        assert_eq!(json.lines().count(), 1);
        let names: Vec<String> = otlp_json::parse(&json)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["zk.set_data", "write", "lock"]);
        let page = std::fs::read_to_string(dir.path().join("trace.html")).unwrap();
        assert_eq!(page.matches("<details class=\"span").count(), 3);
    }

    #[test]
    fn every_format_renders_and_the_bars_fit_the_width() {
        let dir = tempfile::tempdir().unwrap();
        let spans = store::read(&spans_file_with_a_write(dir.path())).unwrap();
        let traces = fk_traces::writes(&spans, 1);
        let bars = render(&traces, Format::Bars, Some(70)).unwrap();
        assert!(bars.contains(bars::FULL), "{bars}");
        assert!(
            bars.lines().skip(1).all(|l| l.chars().count() <= 70),
            "{bars}"
        );
        assert!(render(&traces, Format::Table, None)
            .unwrap()
            .contains("    lock"));
        assert!(render(&traces, Format::OtlpJson, None)
            .unwrap()
            .ends_with("}\n"));
        assert!(render(&traces, Format::Html, None)
            .unwrap()
            .starts_with("<!doctype html>"));
    }

    #[test]
    fn no_write_in_the_spans_writes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.jsonl");
        std::fs::write(&empty, "").unwrap();
        let mut args = args(&empty);
        args.html = Some(dir.path().join("trace.html"));
        assert_eq!(run(&args, None, false), ExitCode::from(1));
        assert!(!dir.path().join("trace.html").exists());
    }

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
