//! `fk-local`: a whole FaaSKeeper stack on one machine, against an AWS
//! emulator. `fk-local up` provisions the stack, writes the deployment
//! document clients read, and runs the writer and distributor functions
//! until interrupted. `make run` starts the emulator and calls it.
//!
//! Unless an OpenTelemetry endpoint is already set, it also runs an
//! OTLP/HTTP receiver (`fk_traces`) that every function exports to and
//! that keeps the spans in `<state dir>/traces.jsonl`, where `fk trace`
//! reads them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use fk_local::{FunctionSpec, RunnerConfig, ScheduleSpec, StackConfig, StoreKind, TerraformStack};

#[derive(Debug, Parser)]
#[command(
    name = "fk-local",
    version,
    about = "Plays AWS Lambda for a FaaSKeeper stack on one machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Provision the stack in the emulator and run its functions until
    /// SIGINT or SIGTERM.
    Up(Up),
}

#[derive(Debug, Args)]
struct Up {
    /// The AWS emulator (moto).
    #[arg(long, env = "FK_AWS_ENDPOINT")]
    endpoint: String,
    /// Where node data lives.
    #[arg(long, value_enum, default_value = "s3")]
    store: StoreKind,
    /// The Redis server of `--store redis`, as the user the functions
    /// write as.
    #[arg(long, env = "FK_REDIS_URL")]
    redis_url: Option<String>,
    /// The same server as the read-only user clients read as (what
    /// `deployment.json` names); default: `--redis-url`.
    #[arg(long, env = "FK_REDIS_READ_URL")]
    redis_read_url: Option<String>,
    /// Prefix of every resource name.
    #[arg(long, default_value = "fk-local")]
    name: String,
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Where the function binaries (fk-writer, fk-distributor) are.
    #[arg(long, default_value = "target/debug")]
    bin_dir: PathBuf,
    /// Receives deployment.json, env and the functions' logs.
    #[arg(long, default_value = ".fk")]
    state_dir: PathBuf,
    /// Concurrent writer instances (sessions are spread over them).
    #[arg(long, default_value_t = 2)]
    writers: usize,
    /// Lifetime of a node lock in milliseconds: how long a write may wait
    /// for the distributor before a later write may take its nodes over
    /// (docs/write-path.md, "Sizing the lock lifetime").
    #[arg(long, default_value_t = 30_000)]
    lock_ttl_ms: i64,
    /// Function timeout; a message whose function times out or crashes is
    /// retried after the queue's visibility timeout (this plus 2 s).
    #[arg(long, default_value_t = 8)]
    timeout_s: u64,
    /// Receives before a message moves to its dead-letter queue.
    #[arg(long, default_value_t = 5)]
    max_receive_count: i32,
    /// Seconds between heartbeat runs (which expire silent sessions).
    #[arg(long, default_value_t = 5)]
    heartbeat_s: u64,
    /// Run the stack Terraform created (terraform/stacks/local) instead of
    /// provisioning one: the file `terraform output -json` wrote. `make run`
    /// does this; --store, --name, --lock-ttl-ms and --max-receive-count
    /// are then the configuration's.
    #[arg(long, value_name = "FILE")]
    terraform_outputs: Option<PathBuf>,
    /// Where the trace receiver listens (port 0: a free one). It is not
    /// started when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-only
    /// variable) names a collector already: the functions use that one.
    #[arg(long, default_value = "127.0.0.1:0")]
    otlp_listen: SocketAddr,
    /// Run no trace receiver: the functions trace only if an
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set.
    #[arg(long)]
    no_trace_receiver: bool,
    /// Where the ZooKeeper gateway (`fk gateway`, from --bin-dir; none if
    /// that binary is missing) listens for ZooKeeper clients (port 0: a
    /// free one).
    #[arg(long, default_value = "127.0.0.1:0", env = "FK_GATEWAY_LISTEN")]
    gateway_listen: SocketAddr,
    /// Run no ZooKeeper gateway.
    #[arg(long)]
    no_gateway: bool,
}

/// The file the trace receiver appends spans to, in the state directory.
const SPANS_FILE: &str = "traces.jsonl";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Up(up) => up.run().await,
    }
}

impl Up {
    async fn run(self) -> anyhow::Result<()> {
        let writer = self.binary("fk-writer", "lambdas/writer")?;
        let distributor = self.binary("fk-distributor", "lambdas/distributor")?;
        let heartbeat = self.binary("fk-heartbeat", "lambdas/heartbeat")?;
        let watch = self.binary("fk-watch", "lambdas/watch")?;
        anyhow::ensure!(self.writers >= 1, "--writers must be at least 1");
        anyhow::ensure!(self.timeout_s >= 1, "--timeout-s must be at least 1");

        let stack = match &self.terraform_outputs {
            Some(outputs) => TerraformStack::from_outputs_file(outputs)?.to_provisioned()?,
            None => fk_local::provision(&StackConfig {
                name: self.name.clone(),
                endpoint: self.endpoint.clone(),
                region: self.region.clone(),
                store: self.store,
                redis_url: self.redis_url.clone(),
                redis_read_url: self.redis_read_url.clone(),
                lock_ttl_ms: self.lock_ttl_ms,
                visibility_timeout_s: self.timeout_s as i32 + 2,
                max_receive_count: self.max_receive_count,
            })
            .await
            .with_context(|| format!("cannot provision the stack at {}", self.endpoint))?,
        };

        std::fs::create_dir_all(&self.state_dir)
            .with_context(|| format!("cannot create {}", self.state_dir.display()))?;
        let deployment_file = self.state_dir.join("deployment.json");
        write(
            &deployment_file,
            &(serde_json::to_string_pretty(&stack.deployment)? + "\n"),
        )?;
        let receiver = self.trace_receiver().await?;
        let traced = |env: &BTreeMap<String, String>| {
            let mut env = env.clone();
            if let Some(receiver) = &receiver {
                env.insert(fk_telemetry::ENDPOINT_VAR.into(), receiver.endpoint());
            }
            env
        };
        let env_file = self.state_dir.join("env");
        write(
            &env_file,
            &client_env(
                &deployment_file,
                &self,
                receiver.as_ref().map(|r| r.endpoint()),
            ),
        )?;

        let timeout = Duration::from_secs(self.timeout_s);
        let runner = fk_local::start(RunnerConfig {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            log_dir: self.state_dir.join("logs"),
            functions: vec![
                FunctionSpec {
                    name: "writer".into(),
                    binary: writer,
                    queue_url: stack.deployment.writer_queue_url.clone(),
                    batch_size: 10,
                    instances: self.writers,
                    env: traced(&stack.writer_env),
                    timeout,
                },
                // One distributor: its queue's order is the commit order.
                FunctionSpec {
                    name: "distributor".into(),
                    binary: distributor,
                    queue_url: stack.distributor_queue_url.clone(),
                    batch_size: 10,
                    instances: 1,
                    env: traced(&stack.distributor_env),
                    timeout,
                },
                // One watch instance: its queue's order is the commit order.
                FunctionSpec {
                    name: "watch".into(),
                    binary: watch,
                    queue_url: stack.watch_queue_url.clone(),
                    batch_size: 10,
                    instances: 1,
                    env: traced(&stack.watch_env),
                    timeout,
                },
            ],
            // EventBridge runs it every minute in AWS; locally, more often.
            schedules: vec![ScheduleSpec {
                name: "heartbeat".into(),
                binary: heartbeat,
                every: Duration::from_secs(self.heartbeat_s),
                timeout,
                env: traced(&stack.heartbeat_env),
            }],
        })
        .await?;

        let fk = self.bin_dir.join("fk");
        let gateway = match (self.no_gateway, fk.is_file()) {
            (true, _) => Err("off (--no-gateway)".to_string()),
            (false, false) => Err(format!(
                "off ({} not found: `cargo build -p fk-cli`)",
                fk.display()
            )),
            (false, true) => Ok(self
                .start_gateway(&fk, &deployment_file, receiver.as_ref())
                .await?),
        };
        let gateway_line = match &gateway {
            Ok((_, address)) => format!("{address}  (zkCli.sh -server {address})"),
            Err(why) => why.clone(),
        };
        let traces = match (&receiver, fk_telemetry::endpoint_from_env()) {
            (Some(receiver), _) => format!(
                "{endpoint}   (spans in {spans}; `{fk} trace` prints the last writes)",
                endpoint = receiver.endpoint(),
                spans = self.state_dir.join(SPANS_FILE).display(),
                fk = fk.display(),
            ),
            (None, Some(collector)) => format!("{collector}   (from the environment)"),
            (None, None) => "off".into(),
        };
        println!(
            "fk-local: stack {name} is up ({store} user store, {writers} writer(s), 1 distributor)\n\
             \x20 endpoint:    {endpoint}\n\
             \x20 deployment:  {deployment}\n\
             \x20 environment: {env}   (for other AWS tools: `. {env}`)\n\
             \x20 logs:        {logs}/<function>-<instance>.log\n\
             \x20 traces:      {traces}\n\
             \x20 gateway: {gateway_line}\n\
             Try, from another shell in this directory (after `. {env}`, the CLI is traced too):\n\
             \x20 {fk} create /app hello\n\
             \x20 {fk} get /app\n\
             \x20 {fk} ls /\n\
             \x20 {fk} trace\n\
             Stop with Ctrl-C.",
            name = stack.deployment.name,
            store = stack.deployment.user_store.kind(),
            writers = self.writers,
            endpoint = self.endpoint,
            deployment = deployment_file.display(),
            env = env_file.display(),
            logs = self.state_dir.join("logs").display(),
            fk = fk.display(),
        );

        shutdown_signal().await?;
        eprintln!("fk-local: stopping");
        if let Ok((mut child, _)) = gateway {
            // SIGTERM first: the gateway exports its last spans on the way out.
            if let Some(pid) = child.id() {
                // SAFETY: a signal to our own child, by its pid.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
            if tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
        let invocations = (
            runner.invocations("writer"),
            runner.invocations("distributor"),
        );
        runner.stop().await;
        eprintln!(
            "fk-local: stopped after {} writer and {} distributor invocations",
            invocations.0, invocations.1
        );
        Ok(())
    }

    /// The function binary `name` in `--bin-dir`, or an error saying how to
    /// build it.
    fn binary(&self, name: &str, package_dir: &str) -> anyhow::Result<PathBuf> {
        let path = self.bin_dir.join(name);
        anyhow::ensure!(
            path.is_file(),
            "function binary {} not found: build it with `cargo build -p {name}` ({package_dir}) \
             or `make build`, or point --bin-dir at where it is",
            path.display()
        );
        Ok(path)
    }

    /// Starts `fk gateway` for the deployment (traced like the functions,
    /// its log in the logs directory) and waits for the address it prints.
    async fn start_gateway(
        &self,
        fk: &Path,
        deployment_file: &Path,
        receiver: Option<&fk_traces::OtlpReceiver>,
    ) -> anyhow::Result<(tokio::process::Child, String)> {
        use tokio::io::AsyncBufReadExt as _;
        let log_dir = self.state_dir.join("logs");
        std::fs::create_dir_all(&log_dir)?;
        let log = std::fs::File::create(log_dir.join("gateway.log"))?;
        let mut command = tokio::process::Command::new(fk);
        command
            .arg("--deployment")
            .arg(deployment_file)
            .args(["gateway", "--listen", &self.gateway_listen.to_string()])
            .env("FK_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(log);
        if let Some(receiver) = receiver {
            command.env(fk_telemetry::ENDPOINT_VAR, receiver.endpoint());
        }
        // Dies with fk-local, as the functions do, even on SIGKILL.
        let mut child = fk_local::spawn::spawn(command)
            .await
            .with_context(|| format!("cannot run {}", fk.display()))?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        let address = match first {
            Ok(Ok(Some(line))) => line
                .strip_prefix("gateway: ")
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string),
            _ => None,
        };
        let address = address.with_context(|| {
            format!(
                "the gateway did not start; see {}",
                log_dir.join("gateway.log").display()
            )
        })?;
        Ok((child, address))
    }

    /// Starts the trace receiver, unless told not to or a collector is
    /// configured already.
    async fn trace_receiver(&self) -> anyhow::Result<Option<fk_traces::OtlpReceiver>> {
        if self.no_trace_receiver || fk_telemetry::endpoint_from_env().is_some() {
            return Ok(None);
        }
        let spans = self.state_dir.join(SPANS_FILE);
        let receiver = fk_traces::OtlpReceiver::start_with_file(self.otlp_listen, &spans, false)
            .await
            .with_context(|| {
                format!(
                    "cannot run the trace receiver on {} (spans in {})",
                    self.otlp_listen,
                    spans.display()
                )
            })?;
        Ok(Some(receiver))
    }
}

/// Variables that point clients and AWS tools at the local stack.
fn client_env(deployment_file: &Path, up: &Up, otlp_endpoint: Option<String>) -> String {
    let deployment =
        std::fs::canonicalize(deployment_file).unwrap_or_else(|_| deployment_file.to_path_buf());
    let mut text = format!(
        "# Written by `fk-local up`: `. {}` points clients at the local stack.\n",
        up.state_dir.join("env").display()
    );
    for (name, value) in [
        ("FK_DEPLOYMENT", deployment.display().to_string()),
        ("AWS_ENDPOINT_URL", up.endpoint.clone()),
        ("AWS_REGION", up.region.clone()),
        // The emulator accepts any credentials.
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
    ] {
        text += &format!("export {name}='{value}'\n");
    }
    if let Some(endpoint) = otlp_endpoint {
        // The CLI and client programs trace their operations into the
        // same receiver as the functions.
        text += &format!("export {}='{endpoint}'\n", fk_telemetry::ENDPOINT_VAR);
    }
    text
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    Ok(())
}
