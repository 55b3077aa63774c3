//! `fk trace` on the local stack: `fk-local up` runs its trace receiver,
//! the CLI traces its own operations into it, and `fk trace` prints the
//! write as one waterfall from the CLI to the watch delivery.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fk_e2e::{binary, stderr, stdout};
use serde_json::Value;

/// `fk-local up` in a directory of its own; killed (by pid) when dropped.
struct LocalUp {
    child: Child,
    state_dir: tempfile::TempDir,
    otlp_endpoint: String,
}

impl LocalUp {
    fn start() -> LocalUp {
        let state_dir = tempfile::tempdir().unwrap();
        let bin_dir = binary("fk-writer").parent().unwrap().to_path_buf();
        let child = Command::new(binary("fk-local"))
            .args([
                "up",
                "--store",
                "s3",
                "--writers",
                "1",
                "--heartbeat-s",
                "60",
            ])
            .arg("--name")
            .arg(fk_testkit::unique_name("fktrace"))
            .arg("--endpoint")
            .arg(&fk_testkit::moto().endpoint)
            .arg("--bin-dir")
            .arg(&bin_dir)
            .arg("--state-dir")
            .arg(state_dir.path())
            // The receiver is started only when no collector is configured.
            .env_remove(fk_telemetry::ENDPOINT_VAR)
            .env_remove(fk_telemetry::TRACES_ENDPOINT_VAR)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("fk-local runs");
        let mut up = LocalUp {
            child,
            state_dir,
            otlp_endpoint: String::new(),
        };
        // The banner's `traces:` line names the receiver. Its standard
        // output stays read to the end: a closed pipe would fail its prints.
        let out = BufReader::new(up.child.stdout.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if let Some(rest) = line.trim().strip_prefix("traces:") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
        up.otlp_endpoint = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_default();
        assert!(
            up.otlp_endpoint.starts_with("http://127.0.0.1:"),
            "fk-local up printed no trace receiver (endpoint {:?})",
            up.otlp_endpoint
        );
        up
    }

    fn dir(&self) -> &Path {
        self.state_dir.path()
    }

    fn spans_file(&self) -> PathBuf {
        self.dir().join("traces.jsonl")
    }

    /// The `fk` CLI against this stack, traced into its receiver.
    fn fk(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary("fk"));
        command
            .arg("--deployment")
            .arg(self.dir().join("deployment.json"))
            .args(args)
            .env(fk_telemetry::ENDPOINT_VAR, &self.otlp_endpoint)
            .env_remove(fk_telemetry::TRACES_ENDPOINT_VAR)
            .env_remove("FK_SPANS")
            .env("FK_SESSION_DIR", self.dir().join("sessions"))
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = self.fk(args).output().unwrap();
        assert!(
            output.status.success(),
            "fk {args:?}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        output
    }
}

impl Drop for LocalUp {
    fn drop(&mut self) {
        // SIGTERM: fk-local stops its functions before it exits.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn lines(trace: &Value) -> &Vec<Value> {
    trace["spans"].as_array().unwrap()
}

fn find<'a>(trace: &'a Value, service: &str, name: &str) -> Option<&'a Value> {
    lines(trace)
        .iter()
        .find(|s| s["service"] == service && s["name"] == name)
}

fn ms(span: &Value, field: &str) -> f64 {
    span[field].as_f64().unwrap()
}

#[test]
fn fk_trace_prints_a_watched_cli_write_from_the_cli_to_the_watch_delivery() {
    // given: the local stack with its receiver, a node, and a CLI session
    // that watches it
    let up = LocalUp::start();
    up.run(&["create", "/traced", "1"]);
    let mut watcher = up
        .fk(&["get", "-w", "/traced"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut watcher_out = BufReader::new(watcher.stdout.take().unwrap());
    let mut first = String::new();
    watcher_out.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "1", "the watcher read the node first");

    // when: the CLI sets the watched node, and the watcher gets its event
    up.run(&["set", "/traced", "2"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while watcher.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no watch event within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut watcher_out, &mut rest).unwrap();
    assert!(rest.contains("type:NodeDataChanged path:/traced"), "{rest}");

    // then: `fk trace --json` shows the set as one trace, once every
    // process has flushed its spans
    let spans = up.spans_file();
    let spans = spans.to_str().unwrap();
    let complete = |doc: &Value| {
        let Some(trace) = doc["traces"].as_array().and_then(|t| t.last()) else {
            return false;
        };
        find(trace, "fk-cli", "zk.set_data").is_some()
            && find(trace, "fk-watch", "deliver").is_some()
            && find(trace, "fk-cli", "zk.watch_event").is_some()
            && find(trace, "fk-distributor", "reply").is_some()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let doc = loop {
        let output = up.run(&["--json", "trace", "--spans", spans]);
        let doc: Value = serde_json::from_str(&stdout(&output)).unwrap();
        if complete(&doc) || Instant::now() > deadline {
            break doc;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let trace = doc["traces"].as_array().unwrap().last().unwrap();
    assert!(complete(&doc), "incomplete trace: {trace:#}");
    assert_eq!(trace["root"]["service"], "fk-cli");
    assert_eq!(trace["root"]["name"], "zk.set_data");
    assert_eq!(trace["root"]["path"], "/traced");

    // the services in the order the write reaches them
    let mut by_start: Vec<&Value> = lines(trace).iter().collect();
    by_start.sort_by(|a, b| ms(a, "start_ms").total_cmp(&ms(b, "start_ms")));
    let mut services: Vec<&str> = Vec::new();
    for span in by_start {
        let service = span["service"].as_str().unwrap();
        if !services.contains(&service) {
            services.push(service);
        }
    }
    assert_eq!(
        services,
        ["fk-cli", "fk-writer", "fk-distributor", "fk-watch"],
        "{trace:#}"
    );

    // each span is indented under its parent, and a span in the same
    // process as its parent lies inside it
    let all = lines(trace);
    for (i, span) in all.iter().enumerate() {
        let Some(parent) = all[..i].iter().find(|p| p["span_id"] == span["parent_id"]) else {
            assert_eq!(span["depth"], 0, "a root: {span}");
            continue;
        };
        assert_eq!(
            span["depth"].as_u64().unwrap(),
            parent["depth"].as_u64().unwrap() + 1
        );
        if span["service"] == parent["service"] {
            let (start, end) = (
                ms(span, "start_ms"),
                ms(span, "start_ms") + ms(span, "duration_ms"),
            );
            let (p_start, p_end) = (
                ms(parent, "start_ms"),
                ms(parent, "start_ms") + ms(parent, "duration_ms"),
            );
            // Offsets are printed to the microsecond: allow its rounding.
            assert!(
                p_start <= start + 0.001 && end <= p_end + 0.001,
                "{} ({start}..{end}) is outside {} ({p_start}..{p_end})",
                span["name"],
                parent["name"]
            );
        } else {
            // a queue hop: the consumer starts after the producer's send
            assert_eq!(parent["kind"], "producer");
            assert_eq!(span["kind"], "consumer");
            assert!(span["queue_wait_ms"].as_f64().unwrap() >= 0.0);
        }
    }

    // the stages, in the order the write takes them, inside the CLI's
    // observed latency up to the reply; the watch path runs beside the
    // user-store write and may outlast the reply
    let watch_path = ["queue → watch", "watch delivery"];
    let stages: Vec<&Value> = trace["stages"].as_array().unwrap().iter().collect();
    let names = |keep: &dyn Fn(&str) -> bool| -> Vec<&str> {
        stages
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .filter(|n| keep(n))
            .collect()
    };
    assert_eq!(
        names(&|n| !watch_path.contains(&n)),
        [
            "queue → writer",
            "lock",
            "validate",
            "push",
            "queue → distributor",
            "commit",
            "watch push",
            "user-store write",
            "reply",
        ],
        "{trace:#}"
    );
    assert_eq!(names(&|n| watch_path.contains(&n)), watch_path, "{trace:#}");
    // (the reply's send may return to the distributor after the client
    // took the message: SQS hands a message out once it has stored it,
    // whenever the sender reads its answer; so the reply only starts
    // before the CLI's answer)
    let root = find(trace, "fk-cli", "zk.set_data").unwrap();
    let client_end = ms(root, "start_ms") + ms(root, "duration_ms");
    for stage in stages
        .iter()
        .filter(|s| !watch_path.contains(&s["name"].as_str().unwrap()))
    {
        let start = ms(stage, "start_ms");
        let end = start + ms(stage, "duration_ms");
        let (what, at) = if stage["name"] == "reply" {
            ("starts", start)
        } else {
            ("ends", end)
        };
        assert!(
            at <= client_end + 0.001,
            "{} {what} at {at} ms, after the CLI's answer at {client_end} ms",
            stage["name"]
        );
    }

    // and the table shows the same tree, indented
    let text = stdout(&up.run(&["trace", "--format", "table", "--spans", spans]));
    println!("{text}");
    let position = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
    };
    let order = [
        "zk.set_data",
        "process ",
        "    write",
        "      lock",
        "distribute",
        "commit",
        "deliver",
        "zk.watch_event",
        "user_store.write",
        "stages (ms): queue → writer",
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(n)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order {positions:?}:\n{text}"
    );
    assert!(text.contains("(queued "), "{text}");

    // the bars: a row a span, within the width asked for
    let bars = stdout(&up.run(&["trace", "--width", "140", "--spans", spans]));
    println!("{bars}");
    let rows = bars
        .lines()
        .filter(|l| l.contains('█') || l.contains('▏'))
        .count();
    assert_eq!(rows, all.len(), "{bars}");
    assert!(
        bars.lines().skip(1).all(|l| l.chars().count() <= 140),
        "{bars}"
    );

    // the same write as OTLP-JSON: every span with its parent and its
    // service, and the zxid an integer again
    let export = up.dir().join("write.json");
    let export_arg = export.to_str().unwrap();
    up.run(&["trace", "--spans", spans, "--otlp-json", export_arg]);
    let exported = fk_traces::otlp_json::parse(&std::fs::read_to_string(&export).unwrap()).unwrap();
    let links = |mut links: Vec<(String, String, String)>| {
        links.sort();
        links
    };
    let text_of = |v: &Value| v.as_str().unwrap().to_string();
    assert_eq!(
        links(
            exported
                .iter()
                .map(|s| (s.span_id.clone(), s.parent_id.clone(), s.service.clone()))
                .collect()
        ),
        links(
            all.iter()
                .map(|l| (
                    text_of(&l["span_id"]),
                    text_of(&l["parent_id"]),
                    text_of(&l["service"])
                ))
                .collect()
        )
    );
    assert!(exported.iter().all(|s| s.trace_id == trace["trace_id"]));
    let commit = exported.iter().find(|s| s.name == "commit").unwrap();
    assert_eq!(
        commit.attribute_types.get("zk.zxid"),
        Some(&fk_traces::AttributeType::Int),
        "{commit:?}"
    );

    // and as a page: a row and a bar a span
    let page = up.dir().join("write.html");
    up.run(&["trace", "--spans", spans, "--html", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<details class=\"span").count(), all.len());
    assert_eq!(html.matches("<span class=\"bar ").count(), all.len());
}
