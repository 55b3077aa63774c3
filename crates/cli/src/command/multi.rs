//! `multi`: several writes in one atomic batch, each step given as one
//! quoted argument in zkCli's syntax (`create`, `set`, `delete`, and
//! `check` for a version condition).

use std::path::PathBuf;

use clap::Subcommand;
use fk_client::{Client, MultiFailure};
use fk_core::Op;

use super::{data, write, Failure, Output, Stdin, StepResult};

/// One step of `multi`.
#[derive(Debug, Clone, Subcommand)]
enum Step {
    Create {
        #[arg(short = 's')]
        sequential: bool,
        #[arg(short = 'e')]
        ephemeral: bool,
        #[arg(short = 'c')]
        container: bool,
        #[arg(short = 't')]
        ttl: Option<i64>,
        path: String,
        data: Option<String>,
        #[arg(long, conflicts_with = "data")]
        data_file: Option<PathBuf>,
    },
    Set {
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
        path: String,
        #[arg(required_unless_present = "data_file")]
        data: Option<String>,
        #[arg(long, conflicts_with = "data")]
        data_file: Option<PathBuf>,
    },
    Delete {
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
        path: String,
    },
    Check {
        #[arg(short = 'v', long, allow_negative_numbers = true)]
        version: Option<i32>,
        path: String,
    },
}

pub async fn run(zk: &Client, steps: &[String], stdin: Stdin) -> Result<Output, Failure> {
    let ops = steps
        .iter()
        .map(|s| parse(s, stdin))
        .collect::<Result<Vec<_>, _>>()?;
    let named: Vec<(&'static str, String)> = ops
        .iter()
        .map(|op| (name(op), op.path().to_string()))
        .collect();
    match zk.multi(ops).await {
        Ok(results) => Ok(Output::Multi { results }),
        Err(failure) => Err(refused(named, failure)),
    }
}

/// The per-op report of a refused multi; a multi that never reached the
/// deployment (no per-op results) fails as a whole.
fn refused(named: Vec<(&'static str, String)>, failure: MultiFailure) -> Failure {
    if failure.results.len() != named.len() {
        let path = named.first().map(|(_, p)| p.clone()).unwrap_or_default();
        return Failure::keeper(path, failure.error);
    }
    let steps = named
        .into_iter()
        .zip(failure.results)
        .map(|((op, path), result)| StepResult {
            op,
            path,
            error: result.err(),
        })
        .collect();
    Failure::Multi {
        error: failure.error.code(),
        steps,
    }
}

/// zkCli's name of an op.
fn name(op: &Op) -> &'static str {
    match op {
        Op::Create { .. } => "create",
        Op::SetData { .. } => "set",
        Op::Delete { .. } => "delete",
        Op::Check { .. } => "check",
        other => other.name(),
    }
}

/// Parses one quoted step.
fn parse(text: &str, stdin: Stdin) -> Result<Op, Failure> {
    #[derive(Debug, clap::Parser)]
    #[command(name = "multi step", no_binary_name = true)]
    struct One {
        #[command(subcommand)]
        step: Step,
    }
    let words = shlex::split(text)
        .ok_or_else(|| Failure::Usage(format!("multi step {text:?}: unbalanced quotes")))?;
    let one = <One as clap::Parser>::try_parse_from(words).map_err(|e| {
        Failure::Usage(format!(
            "multi step {text:?}: {}",
            crate::repl::one_line(&e.to_string())
        ))
    })?;
    let any = |v: Option<i32>| v.filter(|v| *v != -1);
    Ok(match one.step {
        Step::Create {
            sequential,
            ephemeral,
            container,
            ttl,
            path,
            data,
            data_file,
        } => Op::Create {
            mode: write::create_mode(sequential, ephemeral, container, ttl)?,
            data: data::resolve(data, data_file, stdin)?.into(),
            path,
        },
        Step::Set {
            path,
            data,
            data_file,
            version,
        } => Op::SetData {
            path,
            data: data::resolve(data, data_file, stdin)?.into(),
            version: any(version),
        },
        Step::Delete { path, version } => Op::Delete {
            path,
            version: any(version),
        },
        Step::Check { path, version } => Op::Check {
            path,
            version: any(version),
        },
    })
}

#[cfg(test)]
mod tests {
    /// A client-side failure from the core's description of it (tests).
    fn client_failure(core: fk_core::op::MultiFailure) -> MultiFailure {
        MultiFailure {
            error: core.error.into(),
            results: core.results,
        }
    }

    use fk_client::Code as Error;

    use super::*;

    #[test]
    fn steps_parse_in_zkclis_syntax() {
        let create = parse("create -e /a 'x y'", Stdin::Commands).unwrap();
        let check = parse("check /a -v 3", Stdin::Commands).unwrap();

        assert_eq!(
            create,
            Op::Create {
                path: "/a".into(),
                data: "x y".as_bytes().to_vec().into(),
                mode: fk_client::CreateMode::Ephemeral,
            }
        );
        assert_eq!(
            check,
            Op::Check {
                path: "/a".into(),
                version: Some(3)
            }
        );
    }

    #[test]
    fn a_bad_step_is_a_usage_failure_naming_the_step() {
        let failure = parse("frobnicate /a", Stdin::Commands).unwrap_err();
        assert!(matches!(failure, Failure::Usage(_)));
        assert!(
            failure.message().contains("frobnicate"),
            "{}",
            failure.message()
        );
    }

    #[test]
    fn a_refused_multi_reports_each_op() {
        let named = vec![("create", "/a".to_string()), ("check", "/b".to_string())];
        let failure = refused(
            named,
            client_failure(fk_core::op::MultiFailure::at(1, Error::BadVersion, 2)),
        );

        let Failure::Multi { steps, .. } = &failure else {
            panic!("{failure:?}");
        };
        assert_eq!(steps[0].error, None);
        assert_eq!(steps[1].error, Some(Error::BadVersion));
        assert_eq!(failure.path(), "/b");
    }
}
