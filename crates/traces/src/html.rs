//! The waterfalls as one HTML page that opens anywhere.
//!
//! A page to attach to an issue or keep beside a benchmark: a browser
//! draws it with nothing installed, no server and no network. Everything
//! is inline (the style, a little script, no fonts or images), and the
//! waterfall is drawn by the HTML itself: each span a row of a grid whose
//! bar is placed by its `left`/`width` in percent of the trace's length,
//! so the page reads the same with scripts off. A row's tooltip gives the
//! span's figures and attributes; a click opens them below the row. The
//! script only adds conveniences: folding a span's children, opening or
//! closing every row.
//!
//! Each row carries its figures as `data-` attributes (`data-depth`,
//! `data-start-ms`, `data-duration-ms`, …) for tests and for anyone who
//! wants to script the page.

use std::fmt::Write as _;

use crate::waterfall::Line;
use crate::Trace;

const STYLE: &str = include_str!("html/page.css");
const SCRIPT: &str = include_str!("html/page.js");
/// Colours a service's bars take, in the order services first appear.
const PALETTE: usize = 8;

/// The page holding the waterfalls of `traces`, in the order given.
pub fn page(traces: &[Trace]) -> String {
    let services = services(traces);
    let mut out = String::new();
    let title = match traces {
        [one] => one.title(),
        _ => format!("{} traces", traces.len()),
    };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>fk trace: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(
        out,
        "<header><h1>fk trace</h1><p>{} · a row's tooltip shows the span, a click \
         opens its attributes.</p><p class=\"controls\"></p></header>",
        match traces.len() {
            1 => "1 trace".to_string(),
            n => format!("{n} traces"),
        }
    );
    for trace in traces {
        section(&mut out, trace, &services);
    }
    let _ = write!(out, "<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// Every service of the page, in the order it first appears.
fn services(traces: &[Trace]) -> Vec<&str> {
    let mut services: Vec<&str> = Vec::new();
    for span in traces.iter().flat_map(|t| &t.spans) {
        if !services.contains(&span.service.as_str()) {
            services.push(&span.service);
        }
    }
    services
}

fn colour(services: &[&str], service: &str) -> usize {
    services.iter().position(|s| *s == service).unwrap_or(0) % PALETTE
}

fn section(out: &mut String, trace: &Trace, services: &[&str]) {
    let total = trace.duration_ms();
    let lines = trace.lines();
    let _ = writeln!(
        out,
        "<section class=\"trace\" data-trace-id=\"{}\" data-duration-ms=\"{total:.3}\">",
        escape(&trace.trace_id)
    );
    let _ = writeln!(out, "<h2>{}</h2>", escape(&trace.title()));
    let mut legend = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for line in &lines {
        if !seen.contains(&line.service.as_str()) {
            seen.push(&line.service);
            let _ = write!(
                legend,
                "<span class=\"key c{}\">{}</span>",
                colour(services, &line.service),
                escape(&line.service)
            );
        }
    }
    let _ = writeln!(out, "<p class=\"legend\">{legend}</p>");
    let _ = writeln!(
        out,
        "<div class=\"waterfall\">\n<div class=\"row head\"><span>span</span><span>service</span>\
         <span class=\"num\">start ms</span><span class=\"num\">dur ms</span>\
         <span class=\"track ruler\">{}</span></div>",
        ruler(total)
    );
    for line in &lines {
        row(out, line, total, colour(services, &line.service));
    }
    let _ = writeln!(out, "</div>");
    if let Some(stages) = trace.stages_line() {
        let _ = writeln!(out, "<p class=\"stages\">{}</p>", escape(stages.trim()));
    }
    let _ = writeln!(out, "</section>");
}

/// Tick marks at a round step, about five to a trace; the ticks near
/// the end are labelled on their left, to stay inside the row.
fn ruler(total_ms: f64) -> String {
    let mut ticks = String::new();
    if total_ms <= 0.0 {
        return ticks;
    }
    let step = round_step(total_ms / 5.0);
    for at in (0..)
        .map(|i| i as f64 * step)
        .take_while(|at| *at <= total_ms)
    {
        let left = at / total_ms * 100.0;
        let _ = write!(
            ticks,
            "<span class=\"tick{}\" style=\"left:{left:.3}%\">{} ms</span>",
            if left > 85.0 { " end" } else { "" },
            trim_number(at)
        );
    }
    ticks
}

/// The smallest of 1, 2 or 5 times a power of ten at least `rough`.
fn round_step(rough: f64) -> f64 {
    if rough <= 0.0 || !rough.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
}

fn trim_number(ms: f64) -> String {
    let text = format!("{ms:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn row(out: &mut String, line: &Line, total_ms: f64, colour: usize) {
    let percent = |ms: f64| {
        if total_ms > 0.0 {
            (ms / total_ms * 100.0).clamp(0.0, 100.0)
        } else {
            0.0
        }
    };
    let mut tooltip = format!(
        "{} · {}\nstart {:.1} ms · {:.1} ms",
        line.service, line.name, line.start_ms, line.duration_ms
    );
    if let Some(wait) = line.queue_wait_ms {
        let _ = write!(tooltip, " · queued {wait:.1} ms");
    }
    if line.error {
        tooltip += " · ERROR";
    }
    for (key, value) in &line.attributes {
        let _ = write!(tooltip, "\n{key} = {value}");
    }
    let _ = write!(
        out,
        "<details class=\"span{}\" data-span-id=\"{}\" data-parent-id=\"{}\" data-depth=\"{}\" \
         data-service=\"{}\" data-start-ms=\"{:.3}\" data-duration-ms=\"{:.3}\" style=\"--depth:{}\">\
         <summary class=\"row\" title=\"{}\"><span class=\"name\">{}</span>\
         <span class=\"service\">{}</span><span class=\"num\">{:.1}</span>\
         <span class=\"num\">{:.1}</span><span class=\"track\">",
        if line.error { " error" } else { "" },
        escape(&line.span_id),
        escape(&line.parent_id),
        line.depth,
        escape(&line.service),
        line.start_ms,
        line.duration_ms,
        line.depth,
        escape(&tooltip),
        escape(&line.name),
        escape(&line.service),
        line.start_ms,
        line.duration_ms,
    );
    if let Some(wait) = line.queue_wait_ms {
        let _ = write!(
            out,
            "<span class=\"wait\" style=\"left:{:.3}%;width:{:.3}%\"></span>",
            percent(line.start_ms - wait),
            percent(wait)
        );
    }
    let _ = write!(
        out,
        "<span class=\"bar c{colour}\" style=\"left:{:.3}%;width:{:.3}%\"></span></span></summary>",
        percent(line.start_ms),
        percent(line.duration_ms).min(100.0 - percent(line.start_ms))
    );
    let _ = write!(out, "<dl>");
    let mut facts = vec![
        ("name", line.name.clone()),
        ("kind", line.kind.clone()),
        ("span id", line.span_id.clone()),
    ];
    if !line.parent_id.is_empty() {
        facts.push(("parent id", line.parent_id.clone()));
    }
    if let Some(wait) = line.queue_wait_ms {
        facts.push(("queued", format!("{wait:.3} ms")));
    }
    if line.error {
        facts.push(("status", "ERROR".into()));
    }
    for (key, value) in facts.iter().map(|(k, v)| (*k, v.as_str())).chain(
        line.attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    ) {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(key), escape(value));
    }
    let _ = writeln!(out, "</dl></details>");
}

/// `text` safe in HTML text and in a double-quoted attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out += "&amp;",
            '<' => out += "&lt;",
            '>' => out += "&gt;",
            '"' => out += "&quot;",
            '\'' => out += "&#39;",
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::write;
    use crate::traces;

    #[test]
    fn every_span_is_a_row_with_a_bar_placed_in_percent_of_the_trace() {
        let page = page(&traces(&write()));
        assert_eq!(page.matches("<details class=\"span").count(), 11);
        assert_eq!(page.matches("<span class=\"bar ").count(), 11);
        // lock: 12 to 15 ms of an 80 ms trace
        assert!(
            page.contains("<span class=\"bar c1\" style=\"left:15.000%;width:3.750%\">"),
            "{page}"
        );
        // the queue waits, 5 ms before process w and 13 before process d
        assert_eq!(page.matches("<span class=\"wait\"").count(), 2);
        assert!(page.contains("<span class=\"wait\" style=\"left:6.250%;width:6.250%\">"));
        assert!(page.contains("data-depth=\"4\""));
        assert!(page.contains("stages (ms): queue → writer 5.0"));
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let page = page(&traces(&write()));
        for outside in [
            "src=", "href=", "<link", "@import", "url(", "http:", "https:",
        ] {
            assert!(!page.contains(outside), "{outside} in the page");
        }
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("<style>") && page.contains("<script>"));
    }

    #[test]
    fn names_and_attributes_are_escaped() {
        let mut spans = write();
        let lock = spans.iter_mut().find(|s| s.name == "lock").unwrap();
        lock.name = "<lock & \"key\">".into();
        lock.attributes
            .insert("zk.path".into(), "/a'<script>".into());
        let page = page(&traces(&spans));
        assert!(page.contains("&lt;lock &amp; &quot;key&quot;&gt;"));
        assert!(page.contains("/a&#39;&lt;script&gt;"));
        assert_eq!(page.matches("<script>").count(), 1);
    }

    #[test]
    fn the_ruler_ticks_at_a_round_step() {
        assert_eq!(round_step(16.0), 20.0);
        assert_eq!(round_step(69.3), 100.0);
        assert!((round_step(0.03) - 0.05).abs() < 1e-12);
        assert_eq!(round_step(0.0), 1.0);
        let ruler = ruler(80.0);
        assert_eq!(ruler.matches("class=\"tick").count(), 5, "{ruler}");
        assert!(
            ruler.contains("\"tick\" style=\"left:75.000%\">60 ms"),
            "{ruler}"
        );
        assert!(
            ruler.contains("\"tick end\" style=\"left:100.000%\">80 ms"),
            "{ruler}"
        );
    }
}
