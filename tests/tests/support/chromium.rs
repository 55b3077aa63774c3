//! Headless Chromium, to look at the page `fk trace --html` writes the
//! way a person's browser does: its script run, its layout done.
//!
//! A test that needs it skips, saying why, when no Chromium is installed,
//! except where one must be: under CI (`CI` set, as every CI service
//! sets it) or with `FK_REQUIRE_CHROMIUM` set, a missing Chromium fails
//! the test. `scripts/setup.sh` installs it (Debian's `chromium`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The names Chromium is installed under, looked for on `PATH`.
const NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "headless_shell",
];

pub struct Chromium {
    path: PathBuf,
}

/// A page as Chromium left it.
pub struct Rendered {
    /// The DOM after the page's scripts ran, serialised.
    pub dom: String,
    /// What the page wrote to its console, errors included.
    pub console: Vec<String>,
}

impl Chromium {
    /// `$FK_CHROMIUM`, else the first of [`NAMES`] on `PATH`. `None` (and
    /// a line saying the test is skipped) when there is none and none is
    /// required; a panic when one is.
    pub fn find(test: &str) -> Option<Chromium> {
        let explicit = std::env::var_os("FK_CHROMIUM").map(PathBuf::from);
        let found = explicit.or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .flat_map(|dir| NAMES.iter().map(move |name| dir.join(name)))
                .find(|candidate| candidate.is_file())
        });
        if let Some(path) = found {
            return Some(Chromium { path });
        }
        let required = ["CI", "FK_REQUIRE_CHROMIUM"].into_iter().find(|var| {
            std::env::var(var).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
        });
        if let Some(var) = required {
            panic!(
                "{test}: no Chromium ({} on PATH, or FK_CHROMIUM), and {var} is set: \
                 run scripts/setup.sh (it installs Debian's chromium)",
                NAMES.join(", ")
            );
        }
        eprintln!(
            "{test}: SKIPPED: no Chromium ({} on PATH, or FK_CHROMIUM); scripts/setup.sh \
             installs it. Set FK_REQUIRE_CHROMIUM=1 (or CI) to fail instead.",
            NAMES.join(", ")
        );
        None
    }

    /// Loads `page` in a window of `width` × 1000 CSS pixels and returns
    /// its DOM once its scripts ran.
    pub fn render(&self, page: &Path, width: u32) -> Rendered {
        let profile = tempfile::tempdir().unwrap();
        let url = format!("file://{}", page.canonicalize().unwrap().display());
        let mut command = Command::new(&self.path);
        command
            .args([
                "--headless",
                // Tests run as root in containers, where the sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                // The page's console, on standard error.
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=5000",
                "--dump-dom",
            ])
            .arg(format!("--window-size={width},1000"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(&url);
        let output = run_with_timeout(command, Duration::from_secs(120));
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "{} --dump-dom {url} failed ({}):\n{stderr}",
            self.path.display(),
            output.status
        );
        Rendered {
            dom: String::from_utf8_lossy(&output.stdout).into_owned(),
            // `[…:INFO:CONSOLE(12)] "message", source: file:///… (12)`
            console: stderr
                .lines()
                .filter(|l| l.contains(":CONSOLE"))
                .map(str::to_string)
                .collect(),
        }
    }
}

/// Runs `command`, killing it (by its pid) if it outlives `timeout`.
fn run_with_timeout(mut command: Command, timeout: Duration) -> std::process::Output {
    use std::process::Stdio;
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(output) => output.expect("chromium's output"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("chromium did not finish within {timeout:?}");
        }
    }
}
