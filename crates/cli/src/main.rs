//! `fk`: zkCli's commands against a FaaSKeeper deployment: one command
//! from the command line, a script on standard input, or the interactive
//! shell.
//!
//! # Layout
//!
//! - `command`: zkCli's commands, parsed by clap, and what each does.
//! - `oneshot`: `fk <command>`.
//! - `repl`: `fk script` and `fk shell` (one session, line by line).
//! - `render`: text (zkCli's format) and `--json` output.
//! - `unsupported`: the zkCli commands this service lacks, and why.
//! - `locate`: finding the deployment document.
//! - `trace`: `fk trace`, the waterfall of the last writes (needs no
//!   deployment). Every command is traced (`fk-cli` spans) when
//!   OTEL_EXPORTER_OTLP_ENDPOINT is set.
//! - `cost`: `fk cost`, the monthly bill model (needs no deployment).
//! - `gateway`: `fk gateway`, ZooKeeper's wire protocol for the
//!   deployment (the `fk-gateway` crate).

mod command;
mod cost;
mod gateway;
mod locate;
mod oneshot;
mod render;
mod repl;
mod session_cache;
mod trace;
mod unsupported;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use command::Command;

#[derive(Debug, Parser)]
#[command(
    name = "fk",
    version,
    about = "ZooKeeper's commands against a FaaSKeeper deployment",
    after_help = concat!(
        "With no command: the shell at a terminal, else `fk script`.\n",
        "Not supported (each says why): getAcl, setAcl, addauth, setquota, listquota, ",
        "delquota, config, reconfig."
    )
)]
struct Cli {
    /// The deployment document (JSON). Default: $FK_DEPLOYMENT, then
    /// .fk/deployment.json in this directory or any parent.
    #[arg(long, global = true, env = "FK_DEPLOYMENT")]
    deployment: Option<std::path::PathBuf>,
    /// Print results as JSON, one document per command.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<TopLevel>,
}

#[derive(Debug, clap::Subcommand)]
enum TopLevel {
    #[command(flatten)]
    One(Command),
    /// Run the commands on standard input in one session, each answered
    /// before the next line is read.
    Script,
    /// zkCli's interactive shell, in one session.
    Shell,
    /// Print where the last writes spent their time (from the spans of
    /// the local stack's trace receiver).
    Trace(trace::TraceArgs),
    /// The monthly AWS bill of a workload, against ZooKeeper on VMs.
    Cost(cost::CostArgs),
    /// Serve ZooKeeper's wire protocol (zkCli.sh, kazoo, Curator, …) for
    /// the deployment.
    Gateway(gateway::GatewayArgs),
    #[command(external_subcommand)]
    Other(Vec<String>),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::Layer as _;
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(
            tracing_subscriber::EnvFilter::try_from_env("FK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        );
    let cli = Cli::parse();
    // The gateway's spans are a service of their own in a waterfall.
    let service = match cli.command {
        Some(TopLevel::Gateway(_)) => "fk-gateway",
        _ => "fk-cli",
    };
    // With OTEL_EXPORTER_OTLP_ENDPOINT set, every operation is the root of
    // a trace that runs through the functions; a bad endpoint only warns.
    let telemetry = fk_telemetry::init(service).unwrap_or_else(|e| {
        eprintln!("fk: tracing off: {e}");
        fk_telemetry::Telemetry::off()
    });
    tracing_subscriber::registry()
        .with(logs)
        .with(telemetry.layer())
        .init();
    let status = run(cli).await;
    // Spans are exported in batches: send the last ones before exiting.
    telemetry.shutdown();
    status
}

async fn run(cli: Cli) -> ExitCode {
    let json = cli.json;
    // What needs no deployment.
    match &cli.command {
        Some(TopLevel::Trace(args)) => return trace::run(args, cli.deployment.as_deref(), json),
        Some(TopLevel::Cost(args)) => return cost::run(args, json),
        Some(TopLevel::Other(words)) => return oneshot::other(words, json),
        Some(TopLevel::One(Command::Version)) => {
            render::success(&command::version(), json);
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let deployment = match locate::deployment(cli.deployment.as_deref()) {
        Ok(d) => d,
        Err(message) => {
            eprintln!("fk: {message}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(TopLevel::One(command)) => oneshot::run(command, deployment, json).await,
        Some(TopLevel::Script) => repl::script::run(deployment, json).await,
        Some(TopLevel::Shell) => repl::shell::run(deployment, json).await,
        Some(TopLevel::Gateway(args)) => gateway::run(args, deployment).await,
        None if std::io::stdin().is_terminal() => repl::shell::run(deployment, json).await,
        None => repl::script::run(deployment, json).await,
        Some(TopLevel::Trace(_) | TopLevel::Cost(_) | TopLevel::Other(_)) => {
            unreachable!("answered above")
        }
    }
}
