//! `fk script` (and `fk` with no command when standard input is not a
//! terminal): commands read from standard input, each run and answered
//! before the next line is read, in one session.
//!
//! A line that fails (unknown command, bad option, error result) is
//! reported on stderr as `line N: ...` and the script goes on; the exit
//! status is 1 if any line failed.

use std::process::ExitCode;

use fk_aws::deployment::Deployment;

use super::lines::{Lines, Read};
use super::{Connection, EventSink, Repl};

pub async fn run(deployment: Deployment, json: bool) -> ExitCode {
    let sink = EventSink::stdout(json);
    let mut repl = Repl::new(Connection::new(deployment, sink.clone()), sink, json);
    let mut lines = Lines::stdin();
    let mut failed = false;
    let mut number = 0;
    loop {
        match lines.next(String::new()).await {
            Read::Line(line) => {
                number += 1;
                let answer = repl.execute(&line, Some(number)).await;
                failed |= answer.failed;
                if answer.quit {
                    break;
                }
            }
            Read::Interrupted => {}
            Read::End => break,
            Read::Failed(message) => {
                eprintln!("fk: {message}");
                failed = true;
                break;
            }
        }
    }
    failed |= repl.finish().await;
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
