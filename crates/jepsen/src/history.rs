//! One record per operation, as a Jepsen-style client logs it.
//!
//! A history file holds JSON lines, one [`Operation`] per line, each written
//! once the operation's fate is known (no separate invoke/complete events):
//!
//! ```json
//! {"process":1,"key":"/r0","call":{"f":"write","value":7},"invoked_ns":100,"completed_ns":250,"result":{"type":"ok","observed":"written","version":3}}
//! {"process":2,"key":"/r0","call":{"f":"read"},"invoked_ns":300,"completed_ns":410,"result":{"type":"ok","observed":"read","value":7,"version":3}}
//! {"process":3,"key":"/r0","call":{"f":"cas","expected_version":2,"value":9},"invoked_ns":120,"completed_ns":null,"result":{"type":"info"}}
//! ```

use std::fmt;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

/// A client process; in our tests, one ZooKeeper session.
pub type ProcessId = u32;

/// What the client asked the service to do to one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "snake_case")]
pub enum Call {
    /// `setData(path, value, -1)`: unconditional.
    Write { value: i64 },
    /// `setData(path, value, expected_version)`.
    Cas { expected_version: i32, value: i64 },
    /// `sync(path)` then `getData(path)`.
    Read,
}

/// What an operation that took effect reported back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "observed", rename_all = "snake_case")]
pub enum Observed {
    /// A `Write` or `Cas` took effect; `setData` returns the node's Stat, so
    /// this is the new `dataVersion`.
    Written { version: i32 },
    /// What a `Read` returned. `value` is `None` when the node's data is empty
    /// or not a number; `version` is -1 when the node does not exist.
    Read { value: Option<i64>, version: i32 },
}

/// How an operation ended, as far as the client knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    /// It took effect and reported this.
    Ok(Observed),
    /// It definitely did not take effect (e.g. `BadVersion`).
    Fail,
    /// Indeterminate (timeout, connection loss): it may have taken effect at
    /// any time after its invocation, even after the client gave up, or never.
    Info,
}

/// One request of one process against one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operation {
    pub process: ProcessId,
    pub key: String,
    pub call: Call,
    pub invoked_ns: u64,
    /// When the reply arrived; `None` if it never did. Ignored for `Info`
    /// operations, which may take effect after the client stopped waiting.
    #[serde(default)]
    pub completed_ns: Option<u64>,
    pub result: Outcome,
}

impl Operation {
    /// The latest time the operation can have taken effect; `None` stands for
    /// +infinity, which is the case for every `Info` operation.
    pub fn deadline_ns(&self) -> Option<u64> {
        match self.result {
            Outcome::Info => None,
            Outcome::Ok(_) | Outcome::Fail => self.completed_ns,
        }
    }

    /// Whether the operation's fate is unknown.
    pub fn is_indeterminate(&self) -> bool {
        self.result == Outcome::Info
    }

    /// Real-time order: `self` completed strictly before `later` was invoked.
    /// Equal timestamps count as concurrent, because clocks this coarse cannot
    /// tell which came first.
    pub fn precedes(&self, later: &Operation) -> bool {
        self.deadline_ns()
            .is_some_and(|done| done < later.invoked_ns)
    }

    /// Why this record cannot be checked, if it cannot.
    pub fn validate(&self) -> Result<(), &'static str> {
        match (self.result, self.completed_ns) {
            (Outcome::Ok(_) | Outcome::Fail, None) => {
                return Err("it has a definite outcome but no completion time")
            }
            (_, Some(done)) if done < self.invoked_ns => {
                return Err("it completed before it was invoked")
            }
            _ => {}
        }
        match (self.call, self.result) {
            (Call::Read, Outcome::Ok(Observed::Written { .. })) => {
                Err("a read reported a write's observation")
            }
            (Call::Write { .. } | Call::Cas { .. }, Outcome::Ok(Observed::Read { .. })) => {
                Err("a write reported a read's observation")
            }
            _ => Ok(()),
        }
    }
}

/// Why a history could not be read or checked.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("history I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("history line {line}: {source}")]
    Json {
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("op #{index} is malformed: {reason}")]
    Malformed { index: usize, reason: &'static str },
}

/// The first record (by position) that cannot be checked.
pub fn validate(history: &[Operation]) -> Result<(), HistoryError> {
    for (index, op) in history.iter().enumerate() {
        op.validate()
            .map_err(|reason| HistoryError::Malformed { index, reason })?;
    }
    Ok(())
}

/// Reads a JSON-lines history; blank lines are skipped, so a file that a
/// crashed test left with a trailing newline still reads.
pub fn read_jsonl(reader: impl BufRead) -> Result<Vec<Operation>, HistoryError> {
    let mut history = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let op = serde_json::from_str(&line).map_err(|source| HistoryError::Json {
            line: n + 1,
            source,
        })?;
        history.push(op);
    }
    Ok(history)
}

/// Writes a history as JSON lines, one operation per line.
pub fn write_jsonl(mut writer: impl Write, history: &[Operation]) -> Result<(), HistoryError> {
    for (n, op) in history.iter().enumerate() {
        serde_json::to_writer(&mut writer, op).map_err(|source| HistoryError::Json {
            line: n + 1,
            source,
        })?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(())
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Write { value } => write!(f, "write({value})"),
            Call::Cas {
                expected_version,
                value,
            } => write!(f, "cas(if version {expected_version}, {value})"),
            Call::Read => f.write_str("read"),
        }
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Written { version } => write!(f, "version {version}"),
            Observed::Read {
                value: Some(value),
                version,
            } => write!(f, "value {value} version {version}"),
            Observed::Read {
                value: None,
                version,
            } => write!(f, "empty value version {version}"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok(observed) => write!(f, "ok {observed}"),
            Outcome::Fail => f.write_str("fail"),
            Outcome::Info => f.write_str("info"),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p{} {} {} -> {} [{}, ",
            self.process, self.key, self.call, self.result, self.invoked_ns
        )?;
        match self.deadline_ns() {
            Some(done) => write!(f, "{done}]"),
            None => f.write_str("?]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(call: Call, completed_ns: Option<u64>, result: Outcome) -> Operation {
        Operation {
            process: 1,
            key: "/r0".into(),
            call,
            invoked_ns: 100,
            completed_ns,
            result,
        }
    }

    #[test]
    fn given_each_kind_of_record_when_written_as_json_lines_then_it_reads_back_unchanged() {
        let history = vec![
            op(
                Call::Write { value: 7 },
                Some(250),
                Outcome::Ok(Observed::Written { version: 3 }),
            ),
            op(
                Call::Read,
                Some(410),
                Outcome::Ok(Observed::Read {
                    value: None,
                    version: 3,
                }),
            ),
            op(
                Call::Cas {
                    expected_version: 2,
                    value: 9,
                },
                Some(120),
                Outcome::Fail,
            ),
            op(Call::Read, None, Outcome::Info),
        ];
        let mut bytes = Vec::new();
        write_jsonl(&mut bytes, &history).unwrap();
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), history.len());
        assert_eq!(read_jsonl(bytes.as_slice()).unwrap(), history);
    }

    #[test]
    fn given_the_example_lines_in_these_docs_then_they_parse_and_print_back_identically() {
        let examples: Vec<&str> = include_str!("history.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//! {"))
            .collect();
        assert_eq!(examples.len(), 3);
        for rest in examples {
            let line = format!("{{{rest}");
            let op: Operation = serde_json::from_str(&line).unwrap();
            assert_eq!(op.validate(), Ok(()), "{line}");
            assert_eq!(serde_json::to_string(&op).unwrap(), line);
        }
    }

    #[test]
    fn given_the_documented_format_when_parsed_then_fields_land_where_expected() {
        let line = r#"{"process":1,"key":"/r0","call":{"f":"write","value":7},"invoked_ns":100,"completed_ns":250,"result":{"type":"ok","observed":"written","version":3}}"#;
        let parsed: Operation = serde_json::from_str(line).unwrap();
        assert_eq!(
            parsed,
            op(
                Call::Write { value: 7 },
                Some(250),
                Outcome::Ok(Observed::Written { version: 3 })
            )
        );
        assert_eq!(serde_json::to_string(&parsed).unwrap(), line);
    }

    #[test]
    fn given_a_bad_line_when_read_then_the_error_names_its_line() {
        let text = "\n{\"process\":1}\n";
        let err = read_jsonl(text.as_bytes()).unwrap_err();
        assert!(matches!(err, HistoryError::Json { line: 2, .. }), "{err}");
    }

    #[test]
    fn given_equal_timestamps_then_neither_operation_precedes_the_other() {
        let first = op(Call::Read, Some(200), Outcome::Fail);
        let mut second = first.clone();
        second.invoked_ns = 200;
        assert!(!first.precedes(&second));
        second.invoked_ns = 201;
        assert!(first.precedes(&second));
    }

    #[test]
    fn given_an_info_operation_then_it_precedes_nothing_even_with_a_completion_time() {
        let info = op(Call::Write { value: 1 }, Some(150), Outcome::Info);
        let mut later = info.clone();
        later.invoked_ns = 10_000;
        assert!(!info.precedes(&later));
        assert_eq!(info.deadline_ns(), None);
    }

    #[test]
    fn given_malformed_records_when_validated_then_each_is_rejected() {
        let no_completion = op(Call::Read, None, Outcome::Fail);
        let backwards = op(Call::Read, Some(99), Outcome::Fail);
        let read_as_write = op(
            Call::Read,
            Some(200),
            Outcome::Ok(Observed::Written { version: 1 }),
        );
        let write_as_read = op(
            Call::Write { value: 1 },
            Some(200),
            Outcome::Ok(Observed::Read {
                value: Some(1),
                version: 1,
            }),
        );
        for bad in [no_completion, backwards, read_as_write, write_as_read] {
            assert!(bad.validate().is_err(), "{bad}");
        }
        let history = [
            op(Call::Read, None, Outcome::Info),
            op(
                Call::Read,
                None,
                Outcome::Ok(Observed::Read {
                    value: None,
                    version: 0,
                }),
            ),
        ];
        assert!(matches!(
            validate(&history),
            Err(HistoryError::Malformed { index: 1, .. })
        ));
    }
}
