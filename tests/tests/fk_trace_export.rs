//! `fk trace` beyond the terminal: the OTLP-JSON other tools load, the
//! HTML page a browser draws (looked at in headless Chromium), and the
//! bars fitted to a width. The spans are a real write's, as `fk-local up`
//! received them (`observability/README.md` shows its waterfall); no
//! stack is needed.

#[path = "support/chromium.rs"]
mod chromium;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chromium::Chromium;
use fk_e2e::{binary, stderr, stdout};
use fk_traces::{AttributeType, SpanRecord};
use serde_json::Value;

const TRACE_ID: &str = "2ff0b65154d8a5e3a6ba24e9369b77ce";

/// A span of [`WRITE`]: service, name, kind, index of the parent, start
/// ms, duration ms.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<usize>,
    f64,
    f64,
);

/// The spans of `fk set /traced 2` while another session watched the node.
const WRITE: &[Row] = &[
    ("fk-cli", "zk.set_data", "client", None, 0.0, 346.7),
    (
        "fk-cli",
        "send fktrace-0-writer.fifo",
        "producer",
        Some(0),
        0.3,
        62.5,
    ),
    (
        "fk-writer",
        "process fktrace-0-writer.fifo",
        "consumer",
        Some(1),
        70.3,
        46.5,
    ),
    ("fk-writer", "write", "internal", Some(2), 70.6, 46.2),
    ("fk-writer", "lock", "internal", Some(3), 70.6, 28.7),
    ("fk-writer", "validate", "internal", Some(3), 99.4, 0.1),
    ("fk-writer", "push", "internal", Some(3), 99.5, 17.2),
    (
        "fk-writer",
        "send fktrace-0-distributor.fifo",
        "producer",
        Some(6),
        101.8,
        14.9,
    ),
    (
        "fk-distributor",
        "process fktrace-0-distributor.fifo",
        "consumer",
        Some(7),
        127.2,
        202.8,
    ),
    (
        "fk-distributor",
        "distribute",
        "internal",
        Some(8),
        127.5,
        202.5,
    ),
    ("fk-distributor", "commit", "internal", Some(9), 127.6, 98.2),
    (
        "fk-distributor",
        "watch.push",
        "internal",
        Some(9),
        226.0,
        23.8,
    ),
    (
        "fk-distributor",
        "send fktrace-0-watch.fifo",
        "producer",
        Some(11),
        226.2,
        23.5,
    ),
    (
        "fk-watch",
        "process fktrace-0-watch.fifo",
        "consumer",
        Some(12),
        246.6,
        36.3,
    ),
    ("fk-watch", "deliver", "internal", Some(13), 246.8, 36.1),
    (
        "fk-watch",
        "send fktrace-0-reply-35b9.fifo",
        "producer",
        Some(14),
        246.9,
        35.9,
    ),
    ("fk-cli", "zk.watch_event", "consumer", Some(15), 325.0, 0.3),
    (
        "fk-distributor",
        "user_store.write",
        "internal",
        Some(9),
        249.9,
        40.0,
    ),
    ("fk-distributor", "reply", "internal", Some(9), 290.1, 39.8),
    (
        "fk-distributor",
        "send fktrace-0-reply-231d.fifo",
        "producer",
        Some(18),
        290.3,
        39.5,
    ),
];

fn span_id(index: usize) -> String {
    format!("{:016x}", 0x5eed_0000 + index)
}

fn write_spans() -> Vec<SpanRecord> {
    let t0: u64 = 1_765_000_000_000_000_000;
    let ns = |ms: f64| (ms * 1e6).round() as u64;
    WRITE
        .iter()
        .enumerate()
        .map(|(i, (service, name, kind, parent, start, duration))| {
            let mut span = SpanRecord {
                service: service.to_string(),
                name: name.to_string(),
                kind: kind.to_string(),
                trace_id: TRACE_ID.into(),
                span_id: span_id(i),
                parent_id: parent.map(span_id).unwrap_or_default(),
                start_ns: t0 + ns(*start),
                end_ns: t0 + ns(start + duration),
                ..Default::default()
            };
            match *name {
                "zk.set_data" => {
                    span.attributes = BTreeMap::from([
                        ("zk.op".into(), "set_data".into()),
                        ("zk.path".into(), "/traced".into()),
                        ("zk.zxid".into(), "42".into()),
                    ]);
                    span.attribute_types = BTreeMap::from([("zk.zxid".into(), AttributeType::Int)]);
                }
                "write" => {
                    span.attributes = BTreeMap::from([
                        ("zk.op".into(), "set_data".into()),
                        ("zk.path".into(), "/traced".into()),
                    ]);
                }
                "commit" => {
                    span.attributes = BTreeMap::from([("db.system".into(), "s3".into())]);
                }
                _ => {}
            }
            span
        })
        .collect()
}

/// A directory holding the write's spans file.
struct Spans {
    dir: tempfile::TempDir,
}

impl Spans {
    fn new() -> Spans {
        let dir = tempfile::tempdir().unwrap();
        fk_traces::store::append(&dir.path().join("traces.jsonl"), &write_spans()).unwrap();
        Spans { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `fk trace --spans <the file> ARGS`, which must succeed.
    fn fk_trace(&self, args: &[&str]) -> Output {
        let output = Command::new(binary("fk"))
            .arg("trace")
            .arg("--spans")
            .arg(self.path("traces.jsonl"))
            .args(args)
            .env_remove("FK_SPANS")
            .env_remove("COLUMNS")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "fk trace {args:?}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        output
    }
}

fn by_id(mut spans: Vec<SpanRecord>) -> Vec<SpanRecord> {
    spans.sort_by(|a, b| a.span_id.cmp(&b.span_id));
    spans
}

#[test]
fn fk_trace_otlp_json_reads_back_as_the_same_spans_with_their_parents() {
    // given: a write's spans
    let spans = Spans::new();

    // when: they are written as OTLP-JSON
    let file = spans.path("write.json");
    let output = spans.fk_trace(&["--otlp-json", file.to_str().unwrap()]);

    // then: one line, which reads back as the same spans (ids, parents,
    // times, attributes with their types)
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("1 trace of 20 spans"),
        "{}",
        stderr(&output)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 1);
    let read = fk_traces::otlp_json::parse(&text).unwrap();
    assert_eq!(by_id(read), by_id(write_spans()));

    // and `--format otlp-json` prints the same document
    let printed = stdout(&spans.fk_trace(&["--format", "otlp-json"]));
    assert_eq!(printed, text);
    let document: Value = serde_json::from_str(&printed).unwrap();
    let services: Vec<&str> = document["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["resource"]["attributes"][0]["value"]["stringValue"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        services,
        ["fk-cli", "fk-writer", "fk-distributor", "fk-watch"]
    );
}

#[test]
fn fk_trace_bars_fit_the_width_asked_for() {
    let spans = Spans::new();
    for width in [80, 120, 200] {
        let text = stdout(&spans.fk_trace(&["--width", &width.to_string()]));
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.contains('█') || l.contains('▏'))
            .collect();
        assert_eq!(rows.len(), WRITE.len(), "{text}");
        for line in text.lines().skip(1) {
            assert!(line.chars().count() <= width, "wider than {width}: {line}");
        }
        // validate (0.1 ms) is too short for a column at any of these widths
        let validate = rows.iter().find(|r| r.contains("validate")).unwrap();
        assert!(validate.ends_with('▏'), "{validate}");
    }
    println!("{}", stdout(&spans.fk_trace(&["--width", "120"])));
}

/// Measures the page as laid out, after its own script: each row's bar
/// against its track, and what folding and opening rows do. The result
/// is left in `<pre id="fk-measured">` for `--dump-dom`.
const MEASURE: &str = r#"<script>
(function () {
  const rows = Array.from(document.querySelectorAll("details.span"));
  const out = {
    ready: document.documentElement.dataset.ready || null,
    total: Number(document.querySelector("section.trace").dataset.durationMs),
    rows: [],
  };
  for (const row of rows) {
    const summary = row.querySelector(":scope > summary");
    const track = summary.querySelector(".track").getBoundingClientRect();
    const bars = summary.querySelectorAll(".bar");
    const bar = bars[0].getBoundingClientRect();
    out.rows.push({
      id: row.dataset.spanId, parent: row.dataset.parentId, service: row.dataset.service,
      start: Number(row.dataset.startMs), duration: Number(row.dataset.durationMs),
      trackLeft: track.left, trackWidth: track.width, barLeft: bar.left, barWidth: bar.width,
      bars: bars.length, tooltip: summary.title,
    });
  }
  const shown = () => rows.filter((r) => r.getBoundingClientRect().height > 0).length;
  const fold = rows[0].querySelector(":scope > summary .fold");
  fold.click();
  out.shownFolded = shown();
  out.rootOpenedByFold = rows[0].open;
  fold.click();
  out.shownUnfolded = shown();
  const openAll = Array.from(document.querySelectorAll("header .controls button"))
    .find((b) => b.textContent === "open every row");
  openAll.click();
  out.openWithAttributes = rows.filter((r) =>
    r.open && r.querySelector(":scope > dl").getBoundingClientRect().height > 0).length;
  const pre = document.createElement("pre");
  pre.id = "fk-measured";
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
})();
</script>
"#;

fn measured(dom: &str) -> Value {
    let start = dom
        .find("<pre id=\"fk-measured\">")
        .unwrap_or_else(|| panic!("the measuring script did not finish:\n{dom}"));
    let text = &dom[start + "<pre id=\"fk-measured\">".len()..];
    let text = &text[..text.find("</pre>").unwrap()];
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap()
}

fn number(value: &Value, field: &str) -> f64 {
    value[field]
        .as_f64()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
}

#[test]
fn fk_trace_html_draws_one_bar_per_span_sized_by_its_duration_in_chromium() {
    let test = "fk_trace_html_draws_one_bar_per_span_sized_by_its_duration_in_chromium";
    let Some(chromium) = Chromium::find(test) else {
        return;
    };
    // given: the page of a write, and a copy with the measuring script
    let spans = Spans::new();
    let page = spans.path("write.html");
    spans.fk_trace(&["--html", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    let measuring = spans.path("measured.html");
    std::fs::write(
        &measuring,
        html.replace("</body>", &format!("{MEASURE}</body>")),
    )
    .unwrap();

    // when: Chromium loads it, its scripts run and it is laid out
    let rendered = chromium.render(&measuring, 1400);

    // then: nothing went to the console (no script error, nothing failed
    // to load), and the page's own script ran to its end
    assert!(
        rendered.console.is_empty(),
        "console: {:#?}",
        rendered.console
    );
    let out = measured(&rendered.dom);
    let rows = out["rows"].as_array().unwrap();
    assert_eq!(out["ready"], WRITE.len().to_string(), "{out}");

    // one row a span, in the tree's order, each with one bar
    assert_eq!(rows.len(), WRITE.len());
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut expected: Vec<String> = (0..WRITE.len()).map(span_id).collect();
    expected.sort();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    assert_eq!(ids[0], span_id(0), "the root first");

    // each bar's width is its duration's share of the trace, its left edge
    // its start's (a pixel of rounding; the shortest get 2 px to be seen)
    let total = number(&out, "total");
    assert!((total - 346.7).abs() < 0.01, "{total}");
    for row in rows {
        let track_width = number(row, "trackWidth");
        assert!(track_width > 300.0, "a narrow track: {row}");
        let width = number(row, "barWidth");
        let want = number(row, "duration") / total * track_width;
        assert!(
            (width - want).abs() <= 1.0 || (want < 2.0 && (width - 2.0).abs() < 0.01),
            "bar of {} px, want {want:.1} px: {row}",
            width
        );
        let left = number(row, "barLeft") - number(row, "trackLeft");
        let want_left = number(row, "start") / total * track_width;
        assert!(
            (left - want_left).abs() <= 1.0,
            "left {left} vs {want_left}: {row}"
        );
        assert_eq!(row["bars"], 1);
        // the tooltip names the span's service and figures
        let tooltip = row["tooltip"].as_str().unwrap();
        assert!(
            tooltip.starts_with(row["service"].as_str().unwrap()),
            "{tooltip}"
        );
        assert!(tooltip.contains(" ms"), "{tooltip}");
    }
    let root = &rows[0];
    assert!(root["tooltip"]
        .as_str()
        .unwrap()
        .contains("zk.path = /traced"));

    // and the script's conveniences: folding the root hides every other
    // row without opening it; opening every row shows their attributes
    assert_eq!(out["shownFolded"], 1, "{out}");
    assert_eq!(out["rootOpenedByFold"], false, "{out}");
    assert_eq!(out["shownUnfolded"], WRITE.len(), "{out}");
    assert_eq!(out["openWithAttributes"], WRITE.len(), "{out}");
}

#[test]
fn the_chromium_check_sees_a_script_error() {
    // The test above trusts an empty console: a page whose script fails
    // must show up there.
    let Some(chromium) = Chromium::find("the_chromium_check_sees_a_script_error") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page: &Path = &dir.path().join("broken.html");
    std::fs::write(
        page,
        "<!doctype html><title>x</title><script>notDefined();</script>",
    )
    .unwrap();
    let rendered = chromium.render(page, 800);
    assert!(
        rendered.console.iter().any(|l| l.contains("notDefined")),
        "{:#?}",
        rendered.console
    );
}
