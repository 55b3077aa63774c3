//! `fk shell` (and `fk` with no command at a terminal): zkCli's interactive
//! shell, with line editing and a history kept across runs.
//!
//! The session opens at once and lasts until `quit`, Ctrl-D or `close`.
//! Watch events are printed above the prompt as they arrive, and the line
//! being typed is drawn again below them.

use std::path::PathBuf;
use std::process::ExitCode;

use fk_aws::deployment::Deployment;
use rustyline::{Config, DefaultEditor};

use super::lines::{Lines, Read};
use super::{Connection, EventSink, Repl};
use crate::render;

/// Overrides where the history is kept; empty: no history file.
const HISTORY_VAR: &str = "FK_HISTORY";

pub async fn run(deployment: Deployment, json: bool) -> ExitCode {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .build();
    let mut editor = match DefaultEditor::with_config(config) {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("fk: cannot start the line editor: {e}");
            return ExitCode::from(2);
        }
    };
    let history = history_file();
    if let Some(file) = &history {
        // A first run has no history yet.
        let _ = editor.load_history(file);
    }
    // Not at a terminal (`fk shell < file`), events go to stdout.
    let sink = match editor.create_external_printer() {
        Ok(printer) => EventSink::editor(json, printer),
        Err(_) => EventSink::stdout(json),
    };
    let mut repl = Repl::new(
        Connection::new(deployment.clone(), sink.clone()),
        sink,
        json,
    );
    println!("Connecting to {}", deployment.name);
    if let Err(failure) = repl.connection().open_session().await {
        // The prompt says NOT_CONNECTED; the next command tries again.
        render::failure(&failure, json, None);
    }
    println!("Welcome to FaaSKeeper! Type help for the commands, quit to leave.");
    let mut lines = Lines::editor(editor, history);
    loop {
        match lines.next(repl.prompt()).await {
            Read::Line(line) => {
                if repl.execute(&line, None).await.quit {
                    break;
                }
            }
            Read::Interrupted => {}
            Read::End => break,
            Read::Failed(message) => {
                eprintln!("fk: {message}");
                break;
            }
        }
    }
    if repl.finish().await {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `$FK_HISTORY`, else `$XDG_DATA_HOME/fk/history`, else `~/.fk_history`.
fn history_file() -> Option<PathBuf> {
    if let Some(value) = std::env::var_os(HISTORY_VAR) {
        return (!value.is_empty()).then(|| PathBuf::from(value));
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(data).join("fk");
        return std::fs::create_dir_all(&dir)
            .ok()
            .map(|()| dir.join("history"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".fk_history"))
}
