//! One command from the command line (`fk get /a`): a session only if the
//! command needs one; a command that leaves a watch waits for its event
//! (`addWatch`: for every event, until Ctrl-C).

use std::process::ExitCode;

use fk_aws::deployment::Deployment;
use fk_client::Code;

use crate::command::{Command, Failure, Stdin};
use crate::render;
use crate::repl::{Connection, EventSink};

pub async fn run(command: Command, deployment: Deployment, json: bool) -> ExitCode {
    let keep = !command.binds_the_session();
    let mut conn = Connection::one_shot(deployment, EventSink::stdout(json), keep);
    let await_events = command.events_to_await();
    // `stat -w` on a missing node answers NoNode and still watches.
    let watches_anyway = command.watches_a_missing_node();
    let mut status = ExitCode::SUCCESS;
    let mut watch_set = true;
    match command.run(&mut conn, Stdin::Free).await {
        Ok(output) => render::success(&output, json),
        Err(failure) => {
            watch_set = watches_anyway
                && matches!(&failure, Failure::Keeper { error, .. } if *error == Code::NoNode);
            render::failure(&failure, json, None);
            status = ExitCode::from(1);
        }
    }
    if let (Some(count), true) = (await_events, watch_set) {
        tokio::select! {
            _ = conn.events().wait_for_total(count, None) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    if let Err(failure) = conn.finish().await {
        render::failure(&failure, json, None);
        status = ExitCode::from(1);
    }
    status
}

/// A command that is not one of ours: unsupported (exit status 1) or
/// unknown (2, as a usage error).
pub fn other(words: &[String], json: bool) -> ExitCode {
    let failure = match words.first().map(String::as_str) {
        Some(name @ ("history" | "redo" | "printwatches" | "close" | "connect" | "quit")) => {
            Failure::Usage(format!(
                "{name} is a command of the shell and of scripts (fk shell, fk script)"
            ))
        }
        _ => crate::unsupported::answer(words),
    };
    render::failure(&failure, json, None);
    match failure {
        Failure::Unsupported(_) => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}
