//! The line-driven modes, `fk shell` and `fk script`: one session for
//! their lifetime, zkCli's command counter, `history` and `redo`, and
//! watch events printed as they arrive.
//!
//! # Layout
//!
//! - [`Repl`]: runs one line, as zkCli's `executeLine` does.
//! - `connection`: the session, opened when first needed (the shell opens
//!   it at once), and where watch events are printed.
//! - `lines`: reads a line only when asked, from standard input or the
//!   line editor, on a thread of its own.
//! - `script` and `shell`: the two modes.

mod connection;
mod lines;
pub mod script;
pub mod shell;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::command::{Command, Failure, Output, Stdin};
use crate::{locate, render, unsupported};
pub use connection::{Connection, EventSink};

/// One line of a script or the shell.
#[derive(Debug, Parser)]
#[command(
    name = "fk",
    no_binary_name = true,
    disable_version_flag = true,
    help_template = "Commands:\n{subcommands}\n\n{after-help}",
    after_help = unsupported::HELP
)]
struct Line {
    #[command(subcommand)]
    command: LineCommand,
}

#[derive(Debug, Subcommand)]
enum LineCommand {
    #[command(flatten)]
    Run(Command),
    /// The last 10 commands, numbered.
    History,
    /// Run command number CMDNO again.
    #[command(override_usage = "redo cmdno")]
    Redo { cmdno: String },
    /// Print watch events as they arrive (on, the default) or not.
    #[command(override_usage = "printwatches on|off")]
    Printwatches {
        #[arg(value_parser = ["on", "off"])]
        state: Option<String>,
    },
    /// Close the session (its ephemeral nodes go) and exit.
    #[command(alias = "exit")]
    Quit,
    /// Close the session: its ephemeral nodes go; commands answer
    /// "Not connected" until `connect`.
    Close,
    /// Open a new session, on another deployment if FILE is given.
    #[command(override_usage = "connect [deployment file]")]
    Connect { deployment: Option<PathBuf> },
    #[command(external_subcommand)]
    Other(Vec<String>),
}

/// What running a line came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The line asked to end (`quit`).
    pub quit: bool,
    /// The line failed: unknown command, bad option, error result.
    pub failed: bool,
}

/// Runs lines, one at a time, against one connection.
pub struct Repl {
    conn: Connection,
    sink: EventSink,
    json: bool,
    /// zkCli's `commandCount`: the number the next command gets.
    count: usize,
    history: BTreeMap<usize, String>,
}

enum Next {
    Print(Output),
    Quit,
}

impl Repl {
    pub fn new(conn: Connection, sink: EventSink, json: bool) -> Self {
        Repl {
            conn,
            sink,
            json,
            count: 0,
            history: BTreeMap::new(),
        }
    }

    /// zkCli's prompt: `[fk: <deployment>(<state>) <count>] `.
    pub fn prompt(&self) -> String {
        format!(
            "[fk: {}({}) {}] ",
            self.conn.name(),
            self.conn.state(),
            self.count
        )
    }

    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Runs one line and prints its answer (a failure on stderr, after
    /// `line N: ` when `line_no` is given). Blank lines and `#` comments
    /// are skipped, and get no number.
    pub async fn execute(&mut self, line: &str, line_no: Option<usize>) -> Answer {
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            return Answer::default();
        }
        let number = self.count;
        self.history.insert(number, text.to_string());
        self.count += 1;
        match self.run(text, number).await {
            Ok(Next::Print(output)) => {
                render::success(&output, self.json);
                Answer::default()
            }
            Ok(Next::Quit) => Answer {
                quit: true,
                failed: false,
            },
            Err(failure) => {
                render::failure(&failure, self.json, line_no);
                Answer {
                    quit: false,
                    failed: true,
                }
            }
        }
    }

    /// Closes the session, if one is open; whether that failed.
    pub async fn finish(self) -> bool {
        match self.conn.finish().await {
            Ok(()) => false,
            Err(failure) => {
                render::failure(&failure, self.json, None);
                true
            }
        }
    }

    async fn run(&mut self, text: &str, number: usize) -> Result<Next, Failure> {
        let mut command = match parse(text)? {
            Parsed::Help(text) => return Ok(Next::Print(Output::Help(text))),
            Parsed::Command(command) => command,
        };
        if let LineCommand::Redo { cmdno } = &command {
            let again = self.redo(cmdno, number)?;
            command = match parse(&again)? {
                Parsed::Command(LineCommand::Redo { .. }) => {
                    return Err(Failure::Usage("No redoing redos".into()))
                }
                Parsed::Command(command) => command,
                Parsed::Help(text) => return Ok(Next::Print(Output::Help(text))),
            };
            self.history.insert(number, again);
        }
        let output = match command {
            LineCommand::Run(command) => command.run(&mut self.conn, Stdin::Commands).await?,
            LineCommand::History => Output::History(
                self.history
                    .range(number.saturating_sub(10)..=number)
                    .map(|(n, line)| (*n, line.clone()))
                    .collect(),
            ),
            LineCommand::Printwatches { state: None } => Output::PrintWatches(self.sink.printing()),
            LineCommand::Printwatches { state: Some(on) } => {
                self.sink.set_printing(on == "on");
                Output::Done
            }
            LineCommand::Quit => return Ok(Next::Quit),
            LineCommand::Close => {
                self.conn.close().await?;
                Output::Done
            }
            LineCommand::Connect { deployment } => {
                let deployment = match deployment {
                    Some(file) => Some(locate::deployment(Some(&file)).map_err(Failure::Usage)?),
                    None => None,
                };
                self.conn.reconnect(deployment).await?;
                Output::Done
            }
            LineCommand::Other(words) => return Err(unsupported::answer(&words)),
            LineCommand::Redo { .. } => unreachable!("replaced above"),
        };
        Ok(Next::Print(output))
    }

    /// The line that `redo cmdno` runs again (zkCli's checks).
    fn redo(&self, cmdno: &str, number: usize) -> Result<String, Failure> {
        let index: usize = cmdno
            .parse()
            .map_err(|_| Failure::Usage(format!("redo: not a command number: {cmdno}")))?;
        if index >= number {
            return Err(Failure::Usage("Command index out of range".into()));
        }
        Ok(self.history[&index].clone())
    }
}

enum Parsed {
    Command(LineCommand),
    /// `help`, or `--help` after a command: its text.
    Help(String),
}

fn parse(text: &str) -> Result<Parsed, Failure> {
    let words =
        shlex::split(text).ok_or_else(|| Failure::Usage("unbalanced quotes".to_string()))?;
    match Line::try_parse_from(words) {
        Ok(line) => Ok(Parsed::Command(line.command)),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                Ok(Parsed::Help(e.to_string().trim_end().to_string()))
            }
            _ => Err(Failure::Usage(one_line(&e.to_string()))),
        },
    }
}

/// clap's error message on one line: what is wrong, then the usage.
pub fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(text: &str) -> LineCommand {
        match parse(text) {
            Ok(Parsed::Command(c)) => c,
            Ok(Parsed::Help(h)) => panic!("help: {h}"),
            Err(e) => panic!("{}", e.message()),
        }
    }

    #[test]
    fn zkcli_options_parse_in_any_order_and_double_dash_ends_them() {
        let set = command("set -s /a -- -1");
        let late = command("set /a x -v 3");

        let LineCommand::Run(Command::Set {
            stat, path, data, ..
        }) = set
        else {
            panic!("{set:?}");
        };
        assert!(stat);
        assert_eq!((path.as_str(), data.as_deref()), ("/a", Some("-1")));
        assert!(matches!(
            late,
            LineCommand::Run(Command::Set {
                version: Some(3),
                ..
            })
        ));
    }

    #[test]
    fn an_unknown_command_is_not_a_parse_error() {
        assert!(matches!(command("frob /a"), LineCommand::Other(w) if w == ["frob", "/a"]));
    }

    #[test]
    fn a_bad_option_reads_on_one_line_with_the_usage() {
        let Err(failure) = parse("get -q /a") else {
            panic!("parsed");
        };
        let message = failure.message();
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("'-q'"), "{message}");
        assert!(message.contains("get [-s] [-w] path"), "{message}");
    }

    #[test]
    fn help_lists_the_commands() {
        let Ok(Parsed::Help(text)) = parse("help") else {
            panic!("no help");
        };
        for name in [
            "create",
            "deleteall",
            "addWatch",
            "history",
            "redo",
            "printwatches",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
    }
}
