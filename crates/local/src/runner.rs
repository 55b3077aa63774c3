//! The runner: functions fed by queues and by schedules, until stopped.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::queue_source::{QueueSource, STOP_GRACE};
use crate::sandbox::SandboxSpec;
use crate::schedule::{Schedule, ACCOUNT};

/// A function fed by an SQS queue (an event source mapping).
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function's name (`writer`); names its log files and counter.
    pub name: String,
    /// The function binary (built from `lambdas/`, on `lambda_runtime`).
    pub binary: PathBuf,
    pub queue_url: String,
    /// At most this many messages per invocation (SQS allows 1..=10).
    pub batch_size: i32,
    /// Concurrent copies; each polls the queue on its own. SQS FIFO gives
    /// concurrent receivers different message groups.
    pub instances: usize,
    /// The function's configured environment.
    pub env: BTreeMap<String, String>,
    /// The function's timeout: the invocation is abandoned and its process
    /// killed after this long.
    pub timeout: Duration,
}

/// A function invoked on a timer with an EventBridge scheduled event.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub name: String,
    pub binary: PathBuf,
    /// The rule's rate. A tick that comes while an invocation still runs
    /// is skipped.
    pub every: Duration,
    /// The invocation's timeout (the function's, as on Lambda): past it
    /// the process is killed and started again for the next tick.
    pub timeout: Duration,
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// The AWS endpoint the queues are at (moto).
    pub endpoint: String,
    pub region: String,
    /// Function output goes to `<log_dir>/<function>-<instance>.log`.
    pub log_dir: PathBuf,
    pub functions: Vec<FunctionSpec>,
    pub schedules: Vec<ScheduleSpec>,
}

/// The running functions. Dropping it aborts them (and kills their
/// processes); [`RunnerHandle::stop`] lets running invocations finish first.
pub struct RunnerHandle {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    invocations: HashMap<String, Arc<AtomicU64>>,
}

impl RunnerHandle {
    /// Stops polling and scheduling, lets invocations in progress finish
    /// (for a few seconds at most) and stops every function process.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let all_done = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(STOP_GRACE + Duration::from_secs(2), all_done)
            .await
            .is_err()
        {
            tracing::warn!("functions did not stop in time; killing them");
            self.tasks.shutdown().await;
        }
    }

    /// How many times `function` has been invoked so far (every batch, and
    /// every scheduled event, counts once, whatever its outcome).
    pub fn invocations(&self, function: &str) -> u64 {
        self.invocations
            .get(function)
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }
}

impl Drop for RunnerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Starts every function instance and schedule. Fails if a binary is missing
/// or a queue cannot be found.
pub async fn start(cfg: RunnerConfig) -> anyhow::Result<RunnerHandle> {
    let missing: Vec<_> = (cfg.functions.iter().map(|f| &f.binary))
        .chain(cfg.schedules.iter().map(|s| &s.binary))
        .filter(|b| !b.is_file())
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "function binaries not found: {missing:?} (build them with `cargo build --workspace --bins`)"
    );
    std::fs::create_dir_all(&cfg.log_dir)
        .with_context(|| format!("cannot create {}", cfg.log_dir.display()))?;
    let sdk = fk_aws::clients::sdk_config(Some(&cfg.endpoint), &cfg.region).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    let (stop, stopped) = watch::channel(false);
    let mut handle = RunnerHandle {
        stop,
        tasks: JoinSet::new(),
        invocations: HashMap::new(),
    };
    let spec =
        |name: &str, instance, binary: &PathBuf, env: &BTreeMap<String, String>| SandboxSpec {
            function: name.to_owned(),
            instance,
            binary: binary.clone(),
            env: env.clone(),
            region: cfg.region.clone(),
            function_arn: format!("arn:aws:lambda:{}:{ACCOUNT}:function:{name}", cfg.region),
            log_file: cfg.log_dir.join(format!("{name}-{instance}.log")),
        };

    for function in &cfg.functions {
        anyhow::ensure!(
            (1..=10).contains(&function.batch_size),
            "{}: batch size must be 1..=10",
            function.name
        );
        let queue_arn = crate::queues::arn(&sqs, &function.queue_url)
            .await
            .with_context(|| {
                format!(
                    "{}: cannot read queue {}",
                    function.name, function.queue_url
                )
            })?;
        let counter = handle.counter(&function.name);
        for instance in 0..function.instances {
            let source = QueueSource {
                sqs: sqs.clone(),
                queue_url: function.queue_url.clone(),
                queue_arn: queue_arn.clone(),
                region: cfg.region.clone(),
                batch_size: function.batch_size,
                timeout: function.timeout,
                sandbox: spec(&function.name, instance, &function.binary, &function.env),
                invocations: counter.clone(),
            };
            handle.tasks.spawn(source.run(stopped.clone()));
        }
    }
    for schedule in &cfg.schedules {
        anyhow::ensure!(
            !schedule.every.is_zero() && !schedule.timeout.is_zero(),
            "{}: the period and the timeout must not be zero",
            schedule.name
        );
        let schedule_task = Schedule {
            every: schedule.every,
            timeout: schedule.timeout,
            rule_arn: format!(
                "arn:aws:events:{}:{ACCOUNT}:rule/{}-schedule",
                cfg.region, schedule.name
            ),
            region: cfg.region.clone(),
            sandbox: spec(&schedule.name, 0, &schedule.binary, &schedule.env),
            invocations: handle.counter(&schedule.name),
        };
        handle.tasks.spawn(schedule_task.run(stopped.clone()));
    }
    Ok(handle)
}

impl RunnerHandle {
    fn counter(&mut self, function: &str) -> Arc<AtomicU64> {
        self.invocations
            .entry(function.to_owned())
            .or_default()
            .clone()
    }
}
