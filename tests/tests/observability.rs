//! observability/ cannot rot silently: the Grafana dashboard and the saved
//! TraceQL queries only name spans, services and attributes our code
//! emits, and the collector configurations are the ones Terraform points
//! the collector layer at. (`fk_trace.rs` checks the same names against
//! a real trace.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every TraceQL query: the saved ones and the dashboard's.
fn queries() -> Vec<(String, String)> {
    let mut queries = Vec::new();
    for entry in std::fs::read_dir(repo().join("observability/queries")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "traceql") {
            let text = std::fs::read_to_string(&path).unwrap();
            queries.push((path.display().to_string(), text.trim().to_string()));
        }
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("observability/grafana/faaskeeper-writes.json"))
            .expect("the Grafana dashboard is JSON");
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            assert_eq!(target["queryType"], "traceql", "{}", panel["title"]);
            assert_eq!(target["datasource"]["type"], "tempo");
            let query = target["query"].as_str().unwrap().to_string();
            queries.push((format!("dashboard: {}", panel["title"]), query));
        }
    }
    assert!(queries.len() >= 8, "{queries:?}");
    queries
}

/// The Rust sources whose spans make the traces.
fn sources() -> String {
    fn walk(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                *out += &std::fs::read_to_string(&path).unwrap();
            }
        }
    }
    let mut out = String::new();
    for dir in [
        "crates/core/src",
        "crates/aws/src",
        "crates/client/src",
        "crates/lambda/src",
    ] {
        walk(&repo().join(dir), &mut out);
    }
    out
}

/// The double-quoted strings after `<key> =` or `<key> =~` in `query`.
fn compared(query: &str, key: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut rest = query;
    while let Some(at) = rest.find(key) {
        // `name`, not the end of `resource.service.name`
        let whole = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '.' || c == '_'));
        let after = rest[at + key.len()..].trim_start();
        let after = after
            .strip_prefix("=~")
            .or_else(|| after.strip_prefix("!="))
            .or_else(|| after.strip_prefix('='));
        if let Some(after) = after
            .filter(|_| whole)
            .map(str::trim_start)
            .and_then(|a| a.strip_prefix('"'))
        {
            values.push(after[..after.find('"').unwrap()].to_string());
        }
        rest = &rest[at + key.len()..];
    }
    values
}

/// The span attributes `query` names (`span.zk.path` → `zk.path`).
fn attributes(query: &str) -> BTreeSet<String> {
    query
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
        .filter_map(|word| word.strip_prefix("span."))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_span_name_queried_is_a_span_our_code_creates() {
    let sources = sources();
    for (what, query) in queries() {
        for names in compared(&query, "name") {
            for name in names.split('|') {
                // a span created as `info_span!("lock", …)` or named
                // through `otel.name`
                let created = sources.contains(&format!("info_span!(\"{name}\""))
                    || sources.contains(&format!("info_span!(\n            \"{name}\""))
                    || sources.contains(&format!("\"{name}\","));
                assert!(
                    created,
                    "{what}: no span named {name:?} in the code: {query}"
                );
            }
        }
    }
}

#[test]
fn every_attribute_queried_is_one_our_spans_record() {
    let sources = sources();
    let mut seen = BTreeSet::new();
    for (what, query) in queries() {
        for attribute in attributes(&query) {
            let recorded = sources.contains(&format!("{attribute} ="))
                || sources.contains(&format!("\"{attribute}\""));
            assert!(recorded, "{what}: no span records {attribute:?}: {query}");
            seen.insert(attribute);
        }
    }
    assert!(
        seen.contains("zk.op") && seen.contains("zk.path"),
        "{seen:?}"
    );
}

#[test]
fn every_service_queried_is_one_of_ours() {
    let ours = [
        "fk-cli",
        "fk-client",
        "fk-writer",
        "fk-distributor",
        "fk-watch",
        "fk-heartbeat",
    ];
    for (what, query) in queries() {
        for services in compared(&query, "resource.service.name") {
            for service in services.split('|') {
                assert!(
                    ours.contains(&service),
                    "{what}: unknown service {service:?}"
                );
            }
        }
    }
}

#[test]
fn the_collector_configurations_receive_otlp_where_terraform_points_the_functions() {
    let module = read("terraform/modules/faaskeeper/main.tf");
    let script = read("scripts/package-collector-config.py");
    for (exporter, expected) in [("xray", "awsxray"), ("otlp", "otlphttp")] {
        let path = format!("observability/collector/collector-{exporter}.yaml");
        let config: serde_yaml::Value =
            serde_yaml::from_str(&read(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        // OTLP/HTTP on localhost:4318, where the functions export
        assert_eq!(
            config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].as_str(),
            Some("localhost:4318"),
            "{path}"
        );
        assert!(module.contains("OTEL_EXPORTER_OTLP_ENDPOINT        = \"http://localhost:4318\""));
        // one traces pipeline from that receiver to the exporter
        let pipeline = &config["service"]["pipelines"]["traces"];
        let names = |key: &str| -> Vec<String> {
            pipeline[key]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names("receivers"), ["otlp"], "{path}");
        assert_eq!(names("exporters"), [expected], "{path}");
        assert!(config["exporters"][expected].is_mapping(), "{path}");
        for processor in names("processors") {
            assert!(
                config["processors"][processor.as_str()].is_mapping(),
                "{path}"
            );
        }
    }
    // the layer puts them where OPENTELEMETRY_COLLECTOR_CONFIG_URI looks
    assert!(script.contains("\"faaskeeper/\" + os.path.basename(path)"));
    assert!(module.contains(
        "OPENTELEMETRY_COLLECTOR_CONFIG_URI = \"/opt/faaskeeper/collector-${var.collector_exporter}.yaml\""
    ));
    // and the OTLP backend's address is the variable the module sets
    let otlp = read("observability/collector/collector-otlp.yaml");
    assert!(otlp.contains("${env:FK_OTLP_BACKEND_ENDPOINT}"));
    assert!(module.contains("FK_OTLP_BACKEND_ENDPOINT = var.otlp_endpoint"));
}

#[test]
fn the_query_parser_finds_names_services_and_attributes() {
    let query =
        r#"{ resource.service.name = "fk-writer" && name =~ "lock|push" && span.zk.path = "/a" }"#;
    assert_eq!(compared(query, "name"), ["lock|push"]);
    assert_eq!(compared(query, "resource.service.name"), ["fk-writer"]);
    assert_eq!(attributes(query), BTreeSet::from(["zk.path".to_string()]));
}
