//! Lines read one at a time, only when asked: a script's next line is read
//! once the one before has been answered, and the shell's prompt shows the
//! counter and state that line's command left.
//!
//! Reading blocks, so it happens on a thread of its own, while the runtime
//! goes on printing watch events.

use std::io::BufRead as _;
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use tokio::sync::oneshot;

/// What reading a line gave.
#[derive(Debug)]
pub enum Read {
    Line(String),
    /// Ctrl-C at the prompt: the line is dropped.
    Interrupted,
    /// End of input (Ctrl-D at the prompt).
    End,
    Failed(String),
}

/// The reading thread, waiting for the next request.
pub struct Lines {
    requests: std::sync::mpsc::Sender<(String, oneshot::Sender<Read>)>,
}

impl Lines {
    /// Lines of standard input.
    pub fn stdin() -> Self {
        Self::spawn(|_prompt: &str| {
            let mut line = Vec::new();
            match std::io::stdin().lock().read_until(b'\n', &mut line) {
                Ok(0) => Read::End,
                // A byte that is not UTF-8 fails its own line, not the script.
                Ok(_) => Read::Line(
                    String::from_utf8_lossy(&line)
                        .trim_end_matches(['\n', '\r'])
                        .to_string(),
                ),
                Err(e) => Read::Failed(format!("reading standard input: {e}")),
            }
        })
    }

    /// Lines typed at the line editor's prompt; each non-empty one goes to
    /// its history and is appended to `history` (when given) at once.
    /// A history file that cannot be written is reported once.
    pub fn editor(mut editor: DefaultEditor, mut history: Option<PathBuf>) -> Self {
        Self::spawn(move |prompt: &str| match editor.readline(prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                    if let Some(file) = &history {
                        if let Err(e) = editor.append_history(file) {
                            eprintln!("fk: history not saved to {}: {e}", file.display());
                            history = None;
                        }
                    }
                }
                Read::Line(line)
            }
            Err(ReadlineError::Interrupted) => Read::Interrupted,
            Err(ReadlineError::Eof) => Read::End,
            Err(e) => Read::Failed(format!("reading the terminal: {e}")),
        })
    }

    fn spawn(mut read: impl FnMut(&str) -> Read + Send + 'static) -> Self {
        let (requests, asked) = std::sync::mpsc::channel::<(String, oneshot::Sender<Read>)>();
        std::thread::spawn(move || {
            for (prompt, answer) in asked {
                let read = read(&prompt);
                let end = matches!(read, Read::End | Read::Failed(_));
                if answer.send(read).is_err() || end {
                    return;
                }
            }
        });
        Lines { requests }
    }

    /// Reads the next line, showing `prompt` where there is a prompt.
    pub async fn next(&mut self, prompt: String) -> Read {
        let (answer, read) = oneshot::channel();
        if self.requests.send((prompt, answer)).is_err() {
            return Read::End;
        }
        read.await.unwrap_or(Read::End)
    }
}
