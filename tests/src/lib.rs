//! A local stack per test: its own resources in the shared emulator, the
//! real `fk-writer` and `fk-distributor` binaries run by the local runner,
//! and the `fk` CLI pointed at it.
//!
//! The binaries come from the workspace's target directory: `make test`
//! builds them first (`cargo build --workspace --bins`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use fk_aws::deployment::Deployment;
use fk_local::{
    FunctionSpec, Provisioned, RunnerConfig, RunnerHandle, ScheduleSpec, StackConfig, StoreKind,
};
use fk_telemetry::ENDPOINT_VAR;

/// How a test wants its stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    pub store: StoreKind,
    pub lock_ttl_ms: i64,
    pub visibility_timeout_s: i32,
    pub max_receive_count: i32,
    pub writers: usize,
    /// Extra environment for the writer (fault injection).
    pub writer_env: BTreeMap<String, String>,
    /// The OTLP/HTTP base URL every function exports its spans to
    /// (`OTEL_EXPORTER_OTLP_ENDPOINT`); `None`: tracing off.
    pub otlp_endpoint: Option<String>,
}

impl StackOptions {
    pub fn new(store: StoreKind) -> Self {
        StackOptions {
            store,
            // Long enough that a write never outlives its locks in the
            // queues of a loaded test machine (docs/write-path.md); tests
            // of lock expiry and redelivery set their own.
            lock_ttl_ms: 10_000,
            visibility_timeout_s: 12,
            max_receive_count: 3,
            writers: 2,
            writer_env: BTreeMap::new(),
            otlp_endpoint: None,
        }
    }
}

pub mod jepsen;
pub mod procs;
pub mod stats;

pub struct Stack {
    pub deployment: Deployment,
    pub provisioned: Provisioned,
    pub deployment_file: PathBuf,
    pub log_dir: PathBuf,
    /// The `fk` commands' session cache (`FK_SESSION_DIR`): this stack's
    /// own, not the user's.
    pub session_dir: PathBuf,
    options: StackOptions,
    runner: Option<RunnerHandle>,
    _dir: tempfile::TempDir,
}

/// A traced test process: an OTLP/HTTP receiver, this process's spans
/// exported to it as service `fk-client` (the subscriber installed as the
/// global default), and an S3 stack whose functions export there too.
pub async fn traced_stack() -> (fk_traces::OtlpReceiver, fk_telemetry::Telemetry, Stack) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let receiver = fk_traces::OtlpReceiver::start().await.unwrap();
    let telemetry = fk_telemetry::init_with_endpoint(
        "fk-client",
        Some(fk_telemetry::traces_url(&receiver.endpoint())),
    )
    .unwrap();
    tracing_subscriber::registry()
        .with(telemetry.layer())
        .init();
    let mut options = StackOptions::new(StoreKind::S3);
    options.otlp_endpoint = Some(receiver.endpoint());
    let stack = Stack::start(options).await;
    (receiver, telemetry, stack)
}

impl Stack {
    pub async fn start(options: StackOptions) -> Stack {
        let moto = fk_testkit::moto();
        // The functions write as the distributor's user; the deployment
        // (every client) names the read-only user.
        let (redis_url, redis_read_url) = match options.store {
            StoreKind::Redis => {
                let redis = fk_testkit::redis();
                (Some(redis.write_url.clone()), Some(redis.read_url.clone()))
            }
            _ => (None, None),
        };
        let config = StackConfig {
            name: fk_testkit::unique_name("e2e"),
            endpoint: moto.endpoint.clone(),
            region: "us-east-1".into(),
            store: options.store,
            redis_url,
            redis_read_url,
            lock_ttl_ms: options.lock_ttl_ms,
            visibility_timeout_s: options.visibility_timeout_s,
            max_receive_count: options.max_receive_count,
        };
        let provisioned = fk_local::provision(&config).await.expect("provisioning");
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("logs");
        std::fs::create_dir_all(&log_dir).unwrap();
        let runner = start_runner(&options, &provisioned, &log_dir).await;
        let deployment_file = dir.path().join("deployment.json");
        std::fs::write(
            &deployment_file,
            serde_json::to_string_pretty(&provisioned.deployment).unwrap(),
        )
        .unwrap();
        Stack {
            deployment: provisioned.deployment.clone(),
            provisioned,
            deployment_file,
            log_dir,
            session_dir: dir.path().join("sessions"),
            options,
            runner: Some(runner),
            _dir: dir,
        }
    }

    /// Stops every function (as a whole-stack restart does) and starts them
    /// again on the same resources.
    pub async fn restart(&mut self) {
        if let Some(runner) = self.runner.take() {
            runner.stop().await;
        }
        self.runner = Some(start_runner(&self.options, &self.provisioned, &self.log_dir).await);
    }

    /// Stops every function, leaving the resources: writes queue up
    /// unanswered until [`Stack::start_functions`].
    pub async fn stop_functions(&mut self) {
        if let Some(runner) = self.runner.take() {
            runner.stop().await;
        }
    }

    /// Starts the functions again after [`Stack::stop_functions`].
    pub async fn start_functions(&mut self) {
        if self.runner.is_none() {
            self.runner = Some(start_runner(&self.options, &self.provisioned, &self.log_dir).await);
        }
    }

    /// Runs the `fk` CLI against this stack.
    pub fn fk(&self, args: &[&str]) -> Output {
        self.fk_with_stdin(args, None)
    }

    /// Starts the `fk` CLI against this stack without waiting for it.
    pub fn fk_spawn(&self, args: &[&str]) -> std::process::Child {
        use std::process::{Command, Stdio};
        Command::new(binary("fk"))
            .arg("--deployment")
            .arg(&self.deployment_file)
            .args(args)
            .env("FK_SESSION_DIR", &self.session_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the fk binary runs")
    }

    /// Runs the `fk` CLI with `stdin` as its standard input.
    pub fn fk_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new(binary("fk"))
            .arg("--deployment")
            .arg(&self.deployment_file)
            .args(args)
            .env("FK_SESSION_DIR", &self.session_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the fk binary runs");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// A client with a session.
    pub async fn client(&self) -> fk_client::Client {
        fk_client::Client::connect(&self.deployment)
            .await
            .expect("a session")
    }

    pub fn invocations(&self, function: &str) -> u64 {
        self.runner.as_ref().unwrap().invocations(function)
    }

    /// The "handled" log lines of a function: one per message.
    pub fn handled(&self, function: &str) -> Vec<serde_json::Value> {
        let mut lines = Vec::new();
        for entry in std::fs::read_dir(&self.log_dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with(function) {
                continue;
            }
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(line) {
                    if value["fields"]["message"] == "handled" {
                        lines.push(value["fields"].clone());
                    }
                }
            }
        }
        lines
    }

    pub async fn stop(mut self) {
        if let Some(runner) = self.runner.take() {
            runner.stop().await;
        }
    }
}

/// The local runner of a stack's functions.
async fn start_runner(
    options: &StackOptions,
    provisioned: &Provisioned,
    log_dir: &std::path::Path,
) -> RunnerHandle {
    let moto = fk_testkit::moto();
    let traced = |env: &BTreeMap<String, String>| {
        let mut env = env.clone();
        if let Some(endpoint) = &options.otlp_endpoint {
            env.insert(ENDPOINT_VAR.to_string(), endpoint.clone());
        }
        env
    };
    let mut writer_env = traced(&provisioned.writer_env);
    writer_env.extend(options.writer_env.clone());
    let timeout = Duration::from_secs((options.visibility_timeout_s.max(2) - 1) as u64);
    let runner = fk_local::start(RunnerConfig {
        endpoint: moto.endpoint.clone(),
        region: "us-east-1".into(),
        log_dir: log_dir.to_path_buf(),
        functions: vec![
            FunctionSpec {
                name: "writer".into(),
                binary: binary("fk-writer"),
                queue_url: provisioned.deployment.writer_queue_url.clone(),
                batch_size: 10,
                instances: options.writers,
                env: writer_env,
                timeout,
            },
            FunctionSpec {
                name: "distributor".into(),
                binary: binary("fk-distributor"),
                queue_url: provisioned.distributor_queue_url.clone(),
                batch_size: 10,
                instances: 1,
                env: traced(&provisioned.distributor_env),
                timeout,
            },
            FunctionSpec {
                name: "watch".into(),
                binary: binary("fk-watch"),
                queue_url: provisioned.watch_queue_url.clone(),
                batch_size: 10,
                instances: 1,
                env: traced(&provisioned.watch_env),
                timeout,
            },
        ],
        schedules: vec![ScheduleSpec {
            name: "heartbeat".into(),
            binary: binary("fk-heartbeat"),
            every: Duration::from_secs(1),
            timeout,
            env: traced(&provisioned.heartbeat_env),
        }],
    })
    .await
    .expect("starting the runner");
    runner
}

/// A binary built in the workspace's target directory, next to the running
/// test, example or binary.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // Binaries are in target/<profile>/; tests and examples one level below
    // (deps/<test>-<hash>, examples/<name>).
    let beside = exe.parent().unwrap();
    let dir = if beside.join(name).is_file() {
        beside
    } else {
        beside.parent().unwrap()
    };
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build --workspace --bins`, which `make test` does)",
        path.display()
    );
    path
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
