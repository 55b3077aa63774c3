//! `fk shell` at a real terminal: tmux runs it in a pseudo-terminal, types
//! with `send-keys` and reads the screen with `capture-pane`.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fk_e2e::{binary, stderr, stdout, Stack, StackOptions};
use fk_local::StoreKind;

/// How long the screen may take to show what a step awaits.
const SHOWN: Duration = Duration::from_secs(30);

/// A tmux server of this test's own (its own socket), running one window.
struct Terminal {
    socket: String,
}

impl Terminal {
    /// Runs `command` in a 200x50 terminal; when it exits, its status is
    /// printed and the window stays a while, to be read.
    fn run(command: &str, env: &[(&str, &Path)]) -> Terminal {
        let socket = format!("fk-shell-test-{}", std::process::id());
        let mut tmux = Command::new("tmux");
        tmux.args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "200", "-y", "50", "-s", "fk"]);
        for (name, value) in env {
            tmux.arg("-e").arg(format!("{name}={}", value.display()));
        }
        tmux.arg(format!("{command}; echo \"fk exited with $?\"; sleep 60"));
        let started = tmux.output().expect("tmux runs (Debian's tmux package)");
        assert!(started.status.success(), "tmux: {}", stderr(&started));
        Terminal { socket }
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", stderr(&out));
        out
    }

    /// Types `text`, without pressing Enter.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "fk", "-l", text]);
    }

    /// Types `line` and presses Enter.
    fn enter(&self, line: &str) {
        self.type_text(line);
        self.tmux(&["send-keys", "-t", "fk", "Enter"]);
    }

    fn screen(&self) -> String {
        stdout(&self.tmux(&["capture-pane", "-p", "-t", "fk"]))
    }

    /// Waits until the screen satisfies `shown`; returns the screen.
    fn wait_for(&self, what: &str, shown: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SHOWN;
        loop {
            let screen = self.screen();
            if shown(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(text, |screen| screen.contains(text))
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // Only this test's server, by its socket.
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The last line with text on it.
fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_edits_lines_prints_events_as_they_arrive_and_quits() {
    // given: the shell in a terminal, with its history in a file of its own
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let command = format!(
        "{} --deployment {} shell",
        binary("fk").display(),
        stack.deployment_file.display()
    );
    let terminal = Terminal::run(&command, &[("FK_HISTORY", &history)]);
    // (capture-pane drops the space after it)
    let prompt = |n: usize| format!("[fk: {}(CONNECTED) {n}]", stack.deployment.name);

    // then: zkCli's prompt, its counter starting at 0
    terminal.wait_for_text(&prompt(0));

    // a create and a get round-trip, the counter counting them
    terminal.enter("create /sh hello");
    terminal.wait_for_text(&prompt(1));
    terminal.enter("get /sh");
    let screen = terminal.wait_for_text(&prompt(2));
    assert!(screen.contains("Created /sh\n"), "{screen}");
    assert!(screen.contains("get /sh\nhello\n"), "{screen}");

    // when: the shell watches the node and a line is half typed, another
    // client changes the node
    terminal.enter("create -e /sh/mine x");
    terminal.wait_for_text(&prompt(3));
    terminal.enter("get -w /sh");
    terminal.wait_for_text(&prompt(4));
    terminal.type_text("ls /s");
    terminal.wait_for_text(&format!("{} ls /s", prompt(4)));
    let set = stack.fk(&["set", "/sh", "changed"]);
    assert!(set.status.success(), "{}", stderr(&set));

    // then: the event is printed at once, and the prompt and the half typed
    // line are drawn again below it
    let event = "WatchedEvent state:SyncConnected type:NodeDataChanged path:/sh";
    let screen = terminal.wait_for_text(event);
    let screen = if last_line(&screen).starts_with("[fk:") {
        screen
    } else {
        terminal.wait_for("the prompt below the event", |s| {
            last_line(s).starts_with("[fk:")
        })
    };
    assert!(
        screen.contains(&format!("WATCHER::\n\n{event}\n")),
        "{screen}"
    );
    assert_eq!(last_line(&screen), format!("{} ls /s", prompt(4)));

    // the line typed on completes as if nothing had come between
    terminal.enter("h");
    let screen = terminal.wait_for_text(&prompt(5));
    assert!(screen.contains("ls /sh\n[mine]\n"), "{screen}");

    terminal.enter("history");
    let screen = terminal.wait_for_text(&prompt(6));
    assert!(screen.contains("0 - create /sh hello\n"), "{screen}");
    assert!(screen.contains("5 - history\n"), "{screen}");

    // quit closes the session (its ephemeral goes) and exits
    terminal.enter("quit");
    terminal.wait_for_text("fk exited with 0");
    let children = stack.fk(&["ls", "/sh"]);
    assert_eq!(stdout(&children), "[]\n");
    let kept = std::fs::read_to_string(&history).unwrap();
    assert!(kept.contains("create /sh hello\n"), "{kept}");
    assert!(kept.contains("quit\n"), "{kept}");
    stack.stop().await;
}
