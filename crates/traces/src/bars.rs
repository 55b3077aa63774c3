//! The waterfall drawn in the terminal: a bar per span on the trace's
//! time line.
//!
//! The table ([`Trace::render`]) gives exact figures; the bars show at a
//! glance where a write spent its time: which stage is long, what runs
//! beside what, how long the messages sat in the queues. Each row is a
//! span: its name indented under its parent, its service, its start
//! offset and duration, then its bar, scaled so that the whole trace
//! fills the bar column. A span shorter than one column is a `▏` where it
//! starts; the time a message waited in its queue, which no span covers,
//! is dotted (`·`) before its consumer's bar.

use std::fmt::Write as _;

use crate::waterfall::Line;
use crate::Trace;

/// A column of bar the span covers.
pub const FULL: char = '█';
/// A span shorter than one column.
pub const THIN: char = '▏';
/// A message waiting in its queue.
pub const WAIT: char = '·';

/// The bars get at least this many columns.
const MIN_BAR: usize = 20;
/// Names are not shortened below this many columns.
const MIN_NAME: usize = 16;
/// The start and duration columns.
const NUMBER: usize = 9;
const ERROR: &str = "  ERROR";

/// The columns of one trace's rows within a given width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    name: usize,
    service: usize,
    bar: usize,
    /// Columns a level of the tree is indented by.
    indent: usize,
    /// Room for `  ERROR` after the bar, when a span failed.
    error: bool,
}

impl Layout {
    fn of(lines: &[Line], width: usize) -> Layout {
        let name = lines
            .iter()
            .map(|l| 2 * l.depth + l.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        let service = lines
            .iter()
            .map(|l| l.service.chars().count())
            .max()
            .unwrap_or(0)
            .max(7);
        let error = lines.iter().any(|l| l.error);
        // "  name  service  start  duration  bar[  ERROR]"
        let fixed =
            2 + 2 + service + 2 + NUMBER + 2 + NUMBER + 2 + if error { ERROR.len() } else { 0 };
        let room = width.saturating_sub(fixed);
        // Names take what they need up to half the room, and leave the
        // bars their least; the bars take the rest.
        let name = name
            .min((room - room / 2).max(MIN_NAME))
            .min(room.saturating_sub(MIN_BAR).max(MIN_NAME));
        let deepest = lines.iter().map(|l| l.depth).max().unwrap_or(0);
        Layout {
            name,
            service,
            bar: room.saturating_sub(name).max(MIN_BAR),
            // Two columns a level while the tree fits in half the names'
            // column, else one.
            indent: if 4 * deepest <= name { 2 } else { 1 },
            error,
        }
    }
}

/// The trace as rows of bars, each at most `width` columns (unless the
/// width is too narrow for the numbers and a bar of 20 columns).
pub fn render(trace: &Trace, width: usize) -> String {
    let lines = trace.lines();
    let layout = Layout::of(&lines, width);
    let total_ms = trace.duration_ms();
    let mut out = String::new();
    let _ = writeln!(out, "{}", trace.title());
    let ruler_end = format!("{total_ms:.1} ms");
    let ruler = format!("0{ruler_end:>width$}", width = layout.bar.saturating_sub(1));
    let _ = writeln!(
        out,
        "  {:<name$}  {:<service$}  {:>NUMBER$}  {:>NUMBER$}  {ruler}",
        "span",
        "service",
        "start ms",
        "dur ms",
        name = layout.name,
        service = layout.service,
    );
    for line in &lines {
        let name = fit(layout.indent * line.depth, &line.name, layout.name);
        let mut row = format!(
            "  {name:<width$}  {:<service$}  {:>NUMBER$.1}  {:>NUMBER$.1}  {}",
            line.service,
            line.start_ms,
            line.duration_ms,
            bar(line, total_ms, layout.bar),
            width = layout.name,
            service = layout.service,
        );
        if line.error {
            row += ERROR;
        }
        let _ = writeln!(out, "{}", row.trim_end());
    }
    for row in stages(trace, width) {
        let _ = writeln!(out, "{row}");
    }
    out
}

/// The stages line of the table, wrapped at its separators to `width`.
fn stages(trace: &Trace, width: usize) -> Vec<String> {
    const LEAD: &str = "  stages (ms): ";
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::from(LEAD);
    let mut first = true;
    for stage in trace.stages() {
        let item = format!("{} {:.1}", stage.name, stage.duration_ms);
        let joined = if first {
            item.clone()
        } else {
            format!(" · {item}")
        };
        if !first && row.chars().count() + joined.chars().count() > width {
            rows.push(std::mem::replace(&mut row, " ".repeat(LEAD.len())));
            row += &item;
        } else {
            row += &joined;
        }
        first = false;
    }
    if !first {
        rows.push(row);
    }
    rows
}

/// The bar of one span on a time line of `columns` for `total_ms`.
fn bar(line: &Line, total_ms: f64, columns: usize) -> String {
    let column = |ms: f64| -> usize {
        if total_ms <= 0.0 {
            return 0;
        }
        ((ms / total_ms * columns as f64).round() as usize).min(columns)
    };
    let mut cells = vec![' '; columns];
    let first = column(line.start_ms);
    let end = column(line.start_ms + line.duration_ms);
    if let Some(wait) = line.queue_wait_ms {
        for cell in &mut cells[column(line.start_ms - wait).min(first)..first] {
            *cell = WAIT;
        }
    }
    if end > first {
        cells[first..end].fill(FULL);
    } else if columns > 0 {
        cells[first.min(columns - 1)] = THIN;
    }
    cells.into_iter().collect()
}

/// `name` after `indent` columns, in `width` columns: a name too long
/// loses its middle (a queue's name differs at its end: `…-writer.fifo`).
fn fit(indent: usize, name: &str, width: usize) -> String {
    let indent = indent.min(width / 2);
    let room = width - indent;
    let chars: Vec<char> = name.chars().collect();
    let shown: String = if chars.len() <= room {
        name.to_string()
    } else if room < 2 {
        chars[..room].iter().collect()
    } else {
        let head = (room - 1) / 2;
        let tail = room - 1 - head;
        let mut text: String = chars[..head].iter().collect();
        text.push('…');
        text.extend(&chars[chars.len() - tail..]);
        text
    };
    format!("{}{shown}", " ".repeat(indent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::write;
    use crate::traces;

    /// The bar column of each row, found under the header's `0`.
    fn bars(text: &str) -> Vec<(String, String)> {
        let rows: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        let header = &rows[1];
        let start = header
            .iter()
            .position(|c| *c == '0')
            .expect("a ruler in the header");
        rows[2..]
            .iter()
            .filter(|row| !row.iter().collect::<String>().contains("stages (ms)"))
            .map(|row| {
                let name: String = row[..start.min(row.len())].iter().collect();
                let name = name.split_whitespace().next().unwrap_or("").to_string();
                let bar: String = row.get(start..).unwrap_or(&[]).iter().collect();
                (name, bar)
            })
            .collect()
    }

    fn bar_of<'a>(bars: &'a [(String, String)], name: &str) -> &'a str {
        &bars.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn each_span_is_a_bar_on_the_traces_time_line() {
        // given: a write of 80 ms, drawn with a bar column of 80 (one a ms)
        let trace = &traces(&write())[0];
        let layout = Layout::of(&trace.lines(), 200);
        let width = 200 - (layout.bar - 80);

        // when
        let text = render(trace, width);

        // then: each bar starts at the span's offset and is as long as it
        let bars = bars(&text);
        assert_eq!(bars.len(), 11, "{text}");
        assert_eq!(bar_of(&bars, "zk.set_data"), FULL.to_string().repeat(80));
        assert_eq!(
            bar_of(&bars, "lock"),
            format!("{}{}", " ".repeat(12), FULL.to_string().repeat(3))
        );
        // and the queue's wait (5 to 10 ms) is dotted before the consumer
        assert_eq!(
            bar_of(&bars, "process"),
            format!(
                "{}{}{}",
                " ".repeat(5),
                WAIT.to_string().repeat(5),
                FULL.to_string().repeat(20)
            )
        );
        assert!(text.lines().all(|l| l.chars().count() <= width), "{text}");
        assert!(text.contains("0") && text.contains("80.0 ms"), "{text}");
        assert!(
            text.ends_with("stages (ms): queue → writer 5.0 · lock 3.0 · push 12.0 · queue → distributor 13.0 · commit 8.0 · reply 8.0\n"),
            "{text}"
        );
    }

    #[test]
    fn a_span_shorter_than_a_column_is_a_thin_bar() {
        // given: a trace of 80 ms drawn on 20 columns (4 ms a column), and
        // a span of 1 ms at 44 ms
        let mut spans = write();
        spans.push(crate::fixtures::span(
            "fk-distributor",
            "tiny",
            "internal",
            "d9",
            "d2",
            44,
            45,
        ));
        let trace = &traces(&spans)[0];
        let text = render(trace, 0);

        // then: the bar column is 20 wide and the short span is a ▏ at 11
        let bars = bars(&text);
        assert_eq!(bar_of(&bars, "zk.set_data").chars().count(), 20);
        assert_eq!(bar_of(&bars, "tiny"), format!("{}{THIN}", " ".repeat(11)));
    }

    #[test]
    fn a_narrow_terminal_shortens_names_in_the_middle() {
        let mut spans = write();
        for span in &mut spans {
            if span.name == "send d" {
                span.name = "send fktrace-675b-94a994d-0-distributor.fifo".into();
            }
        }
        let trace = &traces(&spans)[0];
        let text = render(trace, 90);
        // every row but the title (the trace id alone is 32 columns)
        assert!(
            text.lines().skip(1).all(|l| l.chars().count() <= 90),
            "{text}"
        );
        assert!(
            text.lines().filter(|l| l.contains(" · ")).count() > 1,
            "{text}"
        );
        let send = text.lines().find(|l| l.contains("send f")).unwrap();
        assert!(send.contains('…') && send.contains("tor.fifo"), "{send}");
        // the tree is still indented, by one column a level (depth 5)
        assert!(
            send.starts_with(&format!("  {}send", " ".repeat(5))),
            "{send}"
        );
    }

    #[test]
    fn a_failed_span_is_marked_within_the_width() {
        let mut spans = write();
        spans.iter_mut().find(|s| s.name == "lock").unwrap().error = true;
        let text = render(&traces(&spans)[0], 120);
        let lock = text.lines().find(|l| l.contains("lock")).unwrap();
        assert!(lock.ends_with("ERROR"), "{lock}");
        assert!(
            text.lines().skip(1).all(|l| l.chars().count() <= 120),
            "{text}"
        );
    }

    #[test]
    fn fitting_keeps_short_names_and_cuts_long_ones_in_the_middle() {
        assert_eq!(fit(2, "lock", 10), "  lock");
        assert_eq!(fit(0, "abcdefghij", 5), "ab…ij");
        assert_eq!(fit(4, "abcdefghij", 8), "    a…ij");
        assert_eq!(fit(20, "abcdefghij", 8), "    a…ij");
    }
}
