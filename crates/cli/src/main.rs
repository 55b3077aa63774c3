//! `fk`: a zkCli-like command line for FaaSKeeper deployments.
//!
//! # Layout
//!
//! - `command`: the commands, parsed by clap, and what each does.
//! - `render`: text (zkCli's format) and `--json` output.
//! - `locate`: finding the deployment document.
//! - `trace`: `fk trace`, the waterfall of the last writes (needs no
//!   deployment). Every command is traced (`fk-cli` spans) when
//!   OTEL_EXPORTER_OTLP_ENDPOINT is set.
//! - `cost`: `fk cost`, the monthly bill model (needs no deployment).

mod command;
mod cost;
mod locate;
mod render;
mod trace;

use std::io::BufRead;
use std::process::ExitCode;

use clap::Parser;
use command::{Command, EventCount, Failure};
use fk_client::{Client, SessionState};

#[derive(Debug, Parser)]
#[command(
    name = "fk",
    version,
    about = "ZooKeeper's commands against a FaaSKeeper deployment"
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
    command: TopLevel,
}

#[derive(Debug, clap::Subcommand)]
enum TopLevel {
    #[command(flatten)]
    One(Command),
    /// Run commands read from standard input, one per line, in one session.
    Script,
    /// Print where the last writes spent their time (from the spans of
    /// the local stack's trace receiver).
    Trace(trace::TraceArgs),
    /// The monthly AWS bill of a workload, against ZooKeeper on VMs.
    Cost(cost::CostArgs),
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
    // With OTEL_EXPORTER_OTLP_ENDPOINT set, every operation is the root of
    // a trace that runs through the functions; a bad endpoint only warns.
    let telemetry = fk_telemetry::init("fk-cli").unwrap_or_else(|e| {
        eprintln!("fk: tracing off: {e}");
        fk_telemetry::Telemetry::off()
    });
    tracing_subscriber::registry()
        .with(logs)
        .with(telemetry.layer())
        .init();
    let status = run().await;
    // Spans are exported in batches: send the last ones before exiting.
    telemetry.shutdown();
    status
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    if let TopLevel::Trace(args) = &cli.command {
        return trace::run(args, cli.deployment.as_deref(), cli.json);
    }
    if let TopLevel::Cost(args) = &cli.command {
        return cost::run(args, cli.json);
    }
    let deployment = match locate::deployment(cli.deployment.as_deref()) {
        Ok(d) => d,
        Err(message) => {
            eprintln!("fk: {message}");
            return ExitCode::from(2);
        }
    };
    let commands = match cli.command {
        TopLevel::One(command) => vec![command],
        TopLevel::Cost(_) => unreachable!("answered above"),
        TopLevel::Trace(_) => unreachable!("answered above"),
        TopLevel::Script => match read_script() {
            Ok(commands) => commands,
            Err(message) => {
                eprintln!("fk: {message}");
                return ExitCode::from(2);
            }
        },
    };
    let needs_session = commands.iter().any(Command::needs_session);
    // A lone command that leaves a watch waits for its event(s).
    let await_events = match commands.as_slice() {
        [only] => only.events_to_await(),
        _ => None,
    };
    let client = if needs_session {
        Client::connect(&deployment).await
    } else {
        Client::read_only(&deployment).await
    };
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            render::failure(
                &Failure {
                    path: String::new(),
                    error: e,
                },
                cli.json,
            );
            return ExitCode::from(1);
        }
    };
    let events = EventCount::default();
    if needs_session {
        if let Ok(mut stream) = client.subscribe() {
            let (events, json) = (events.clone(), cli.json);
            tokio::spawn(async move {
                while let Some(event) = stream.recv().await {
                    render::event(&event, json);
                    events.printed_one();
                }
            });
        }
    }
    let mut failed = false;
    let mut watch_set = true;
    for command in commands {
        // `exists -w` on a missing node answers NoNode and still watches.
        let watches_anyway = command.watches_a_missing_node();
        match command.run(&client, &events).await {
            Ok(output) => render::success(&output, cli.json),
            Err(failure) => {
                watch_set = watches_anyway && failure.error == fk_client::Code::NoNode;
                render::failure(&failure, cli.json);
                failed = true;
            }
        }
    }
    if let (Some(count), true) = (await_events, watch_set) {
        // Until the event(s) arrive, or Ctrl-C.
        tokio::select! {
            _ = events.wait_for_total(count, None) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    if matches!(client.state(), SessionState::Expired | SessionState::Closed) {
        // Closed by the script (or expired): nothing left to close.
    } else if let Err(e) = client.close().await {
        render::failure(
            &Failure {
                path: String::new(),
                error: e,
            },
            cli.json,
        );
        failed = true;
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Parses standard input: one command per line, shell quoting, `#` comments.
fn read_script() -> Result<Vec<Command>, String> {
    #[derive(Debug, Parser)]
    #[command(name = "fk", no_binary_name = true)]
    struct Line {
        #[command(subcommand)]
        command: Command,
    }
    let mut commands = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| format!("reading standard input: {e}"))?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let words =
            shlex::split(trimmed).ok_or_else(|| format!("line {}: unbalanced quotes", n + 1))?;
        let parsed = Line::try_parse_from(words).map_err(|e| format!("line {}: {e}", n + 1))?;
        commands.push(parsed.command);
    }
    Ok(commands)
}
