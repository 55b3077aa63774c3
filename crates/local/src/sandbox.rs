//! One execution environment: a function process and its Runtime API.
//!
//! Lambda runs each concurrent copy of a function in its own sandbox, hands
//! it one event at a time, and throws the sandbox away when the process dies
//! or an invocation times out. [`Sandbox`] does the same with a child process
//! of the real function binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Bytes;
use tokio::io::AsyncWriteExt as _;
use tokio::process::{Child, Command};

use crate::runtime_api::{Answer, RuntimeApi};
use crate::spawn;

/// Variables of the runner's own environment a function process keeps;
/// everything else comes from the function's configuration, as on Lambda.
const INHERITED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "LANG",
    "TZ",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    // Where the functions send their spans (see observability/README.md).
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
];

/// The memory size functions are told they have (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
const MEMORY_MB: u32 = 256;

/// How to start the processes of one function instance.
#[derive(Debug, Clone)]
pub struct SandboxSpec {
    /// The function's name (`writer`).
    pub function: String,
    /// Which concurrent copy this is (0-based); names the log file.
    pub instance: usize,
    pub binary: PathBuf,
    pub env: BTreeMap<String, String>,
    pub region: String,
    pub function_arn: String,
    /// `<log_dir>/<function>-<instance>.log`, appended to.
    pub log_file: PathBuf,
}

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    /// The handler returned `Ok` with this payload.
    Success(Bytes),
    /// The handler returned `Err` with this error document.
    FunctionError(Bytes),
    /// No answer within the timeout; the sandbox has been killed.
    TimedOut,
    /// The process exited before answering.
    Died(ExitStatus),
}

/// A running function process with its own Runtime API server.
pub struct Sandbox {
    api: RuntimeApi,
    child: Child,
    started: Instant,
    log_file: PathBuf,
}

impl Sandbox {
    /// Starts a Runtime API server and the function process that uses it.
    /// `generation` counts restarts of this instance (it names the log stream).
    pub async fn start(spec: &SandboxSpec, generation: u64) -> anyhow::Result<Self> {
        anyhow::ensure!(
            spec.binary.is_file(),
            "function binary {} not found",
            spec.binary.display()
        );
        let api = RuntimeApi::start(spec.function_arn.clone())
            .await
            .context("cannot start the Runtime API server")?;
        let (stdout, stderr) = open_log(&spec.log_file, &spec.binary, generation)
            .await
            .with_context(|| format!("cannot open {}", spec.log_file.display()))?;

        let mut command = Command::new(&spec.binary);
        command.env_clear();
        for name in INHERITED_ENV {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        let stream = format!(
            "{}/[$LATEST]{}-{generation}",
            chrono::Utc::now().format("%Y/%m/%d"),
            spec.instance
        );
        command
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", &spec.function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", spec.function),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", stream)
            .env("AWS_REGION", &spec.region)
            .env("AWS_DEFAULT_REGION", &spec.region);
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            if std::env::var_os(name).is_none() {
                command.env(name, "test");
            }
        }
        command
            .envs(&spec.env)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            // Its own process group: a Ctrl-C at the terminal goes to the
            // runner, which then stops its functions in order.
            .process_group(0);
        let child = spawn::spawn(command)
            .await
            .with_context(|| format!("cannot start {}", spec.binary.display()))?;
        Ok(Sandbox {
            api,
            child,
            started: Instant::now(),
            log_file: spec.log_file.clone(),
        })
    }

    /// Hands `payload` to the function and waits for its answer, its death
    /// or `timeout`, whichever comes first. After [`Outcome::TimedOut`] and
    /// [`Outcome::Died`] the sandbox is dead and must be replaced.
    pub async fn invoke(&mut self, payload: Bytes, timeout: Duration) -> Outcome {
        let deadline = tokio::time::Instant::now() + timeout;
        let pending = tokio::select! {
            pending = self.api.invoke(payload, timeout) => pending,
            status = self.child.wait() => return self.died(status),
        };
        let request_id = pending.request_id;
        tokio::select! {
            biased;
            answer = pending.answer => match answer {
                Ok(Answer::Response(body)) => Outcome::Success(body),
                Ok(Answer::Error(body)) => Outcome::FunctionError(body),
                // The server dropped the waiter: only when it is shutting down.
                Err(_) => Outcome::TimedOut,
            },
            status = self.child.wait() => self.died(status),
            _ = tokio::time::sleep_until(deadline) => {
                self.api.abandon(&request_id);
                self.kill().await;
                Outcome::TimedOut
            }
        }
    }

    fn died(&self, status: std::io::Result<ExitStatus>) -> Outcome {
        if let Some(error) = self.api.init_error() {
            tracing::warn!(
                error = %String::from_utf8_lossy(&error),
                log = %self.log_file.display(),
                "function failed to initialise"
            );
        }
        Outcome::Died(
            status.unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(-1)),
        )
    }

    /// Whether the process has exited (without waiting).
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// How long ago the process was started.
    pub fn age(&self) -> Duration {
        self.started.elapsed()
    }

    /// Kills the process and waits for it.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// Opens the instance's log for appending and writes a start marker.
async fn open_log(path: &Path, binary: &Path, generation: u64) -> std::io::Result<(Stdio, Stdio)> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    let marker = format!(
        "=== fk-local {}: start {} (sandbox {generation}) ===\n",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        binary.display()
    );
    file.write_all(marker.as_bytes()).await?;
    let file = file.into_std().await;
    let err = file.try_clone()?;
    Ok((Stdio::from(file), Stdio::from(err)))
}
