//! The conformance suite's harness: each scenario runs against Apache
//! ZooKeeper 3.8 (started by `fk_testkit::zookeeper`), against our local
//! stack through `fk_client` (one per test process, see
//! [`ours::deployment`]), and against the same stack through the ZooKeeper
//! gateway with ZooKeeper's client ([`gateway`]); the three transcripts
//! must be equal.
//!
//! # Layout
//!
//! - [`zk`]: the [`Zk`] trait over the operations both sides support, with
//!   their normalised results ([`Stat`], [`Event`], error [`Code`], …).
//! - [`zookeeper`] and [`ours`]: its two implementations; [`gateway`]:
//!   the first one pointed at the gateway.
//! - [`call`]: one operation as data ([`Call`]) and its [`Reply`].
//! - [`scenario`]: the [`Scenario`] DSL and the transcript, written as
//!   [`transcript`] says.
//! - [`scenarios!`]: declares scenarios; [`main`] runs them as tests (a
//!   libtest-like harness that runs [`DEFAULT_PARALLEL`] at once); [`run`]
//!   is what each test runs.
//!
//! # Adding a scenario
//!
//! In a module of `tests/scenarios/` (a new module is listed in its
//! `main.rs`):
//!
//! ```ignore
//! fk_conformance::scenarios! {
//!     /// What it shows.
//!     async fn a_name(t) {
//!         t.create("/a", "x", Persistent).await;
//!         t.get_data("/a").await;
//!     }
//! }
//! ```
//!
//! A scenario where our side disagrees with ZooKeeper stays as it is and
//! gets `#[ignore = "divergence: …"]` until the product is fixed
//! (`cargo test -p fk-conformance -- --ignored` runs those); a difference
//! made on purpose is written with [`Scenario::deliberate`], with its
//! reason. `FK_CONFORMANCE_SHOW=1` prints every transcript.

pub mod call;
pub mod gateway;
pub mod ours;
pub mod scenario;
pub mod transcript;
pub mod zk;
pub mod zookeeper;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures::FutureExt as _;

pub use call::{Call, Reply};
pub use futures::future::BoxFuture;
pub use scenario::{Expect, Scenario, Side, S};
pub use zk::{
    AddWatchMode, Code, Event, EventType, Mode, MultiError, MultiOp, MultiResult, SessionOptions,
    Stat, WatcherType, Zk,
};

use scenario::Backend;

/// How long one side may take for a whole scenario.
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(120);

/// A scenario's body.
pub type Body = for<'a> fn(&'a mut Scenario) -> BoxFuture<'a, ()>;

/// Declares scenarios: each becomes a function, and the block a
/// `scenarios()` that lists them for [`main`]. An `#[ignore = "…"]` on a
/// scenario skips it unless the tests run with `--ignored` or
/// `--include-ignored`; other attributes (doc comments) are for readers.
#[macro_export]
macro_rules! scenarios {
    ($( $(#[$($attr:tt)*])* async fn $name:ident($t:ident) $body:block )*) => {
        $(
            fn $name<'a>($t: &'a mut $crate::Scenario) -> $crate::BoxFuture<'a, ()> {
                Box::pin(async move $body)
            }
        )*

        /// The scenarios of this block.
        pub fn scenarios() -> Vec<$crate::Def> {
            vec![$(
                $crate::Def {
                    name: stringify!($name),
                    body: $name,
                    ignored: $crate::__ignore_reason!($(#[$($attr)*])*),
                }
            ),*]
        }
    };
}

/// The reason of the first `#[ignore]` among attributes, if any.
#[doc(hidden)]
#[macro_export]
macro_rules! __ignore_reason {
    () => { None };
    (#[ignore = $why:literal] $($rest:tt)*) => { Some($why) };
    (#[ignore] $($rest:tt)*) => { Some("") };
    (#[$($other:tt)*] $($rest:tt)*) => { $crate::__ignore_reason!($($rest)*) };
}

/// A scenario, as [`scenarios!`] declares it.
#[derive(Clone, Copy)]
pub struct Def {
    pub name: &'static str,
    pub body: Body,
    /// Why it is skipped by default, if it is.
    pub ignored: Option<&'static str>,
}

/// Environment variable: how many scenarios run at once (default
/// [`DEFAULT_PARALLEL`]; `--test-threads` and `RUST_TEST_THREADS` win).
pub const PARALLEL_ENV: &str = "FK_CONFORMANCE_PARALLEL";
/// Scenarios wait on servers, but our side's servers (the functions and the
/// emulator) share the machine: on 2 cores, 4 at once ran the suite in
/// 108 s and 8 at once in 129 s, with more lock expiries.
pub const DEFAULT_PARALLEL: usize = 4;
/// Environment variable: print every transcript, not only failing ones.
pub const SHOW_ENV: &str = "FK_CONFORMANCE_SHOW";

/// The test binary's `main`: runs the scenarios as tests, with libtest's
/// command line (`cargo test -p fk-conformance -- <filter> --ignored`, …).
pub fn main(defs: Vec<Def>) -> ! {
    let mut args = libtest_mimic::Arguments::from_args();
    if args.test_threads.is_none() {
        let from_env = |name| std::env::var(name).ok().and_then(|v| v.parse().ok());
        args.test_threads = from_env("RUST_TEST_THREADS")
            .or_else(|| from_env(PARALLEL_ENV))
            .or(Some(DEFAULT_PARALLEL));
    }
    let trials = defs
        .into_iter()
        .map(|def| {
            libtest_mimic::Trial::test(def.name, move || {
                run(def.name, def.body).map_err(libtest_mimic::Failed::from)
            })
            .with_ignored_flag(def.ignored.is_some())
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

struct ZooKeeperBackend;

#[async_trait::async_trait]
impl Backend for ZooKeeperBackend {
    async fn session(&self, options: SessionOptions) -> Result<Box<dyn Zk>, Code> {
        Ok(Box::new(
            zookeeper::ZooKeeperSession::connect(options).await?,
        ))
    }
}

struct OurBackend;

struct GatewayBackend;

#[async_trait::async_trait]
impl Backend for GatewayBackend {
    async fn session(&self, options: SessionOptions) -> Result<Box<dyn Zk>, Code> {
        Ok(Box::new(gateway::session(options).await?))
    }
}

#[async_trait::async_trait]
impl Backend for OurBackend {
    async fn session(&self, options: SessionOptions) -> Result<Box<dyn Zk>, Code> {
        Ok(Box::new(ours::OurSession::connect(options).await?))
    }
}

/// What one side's run produced.
struct Outcome {
    transcript: Vec<String>,
    /// Why the run did not finish, if it did not.
    failure: Option<String>,
    took: Duration,
}

/// Runs the scenario `body` on every side, at the same time; fails unless
/// all finish with transcripts equal to ZooKeeper's, and then says how
/// they differ.
pub fn run(name: &str, body: Body) -> Result<(), String> {
    // Start the servers first, so that their start-up is not counted
    // against the scenario's time limit.
    let _ = fk_testkit::zookeeper();
    let _ = ours::deployment();
    let _ = gateway::address();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let outcomes: Vec<Outcome> = runtime.block_on(async {
        let runs: Vec<_> = [Side::ZooKeeper, Side::Ours, Side::Gateway]
            .into_iter()
            .map(|side| tokio::spawn(run_side(side, name.to_string(), body)))
            .collect();
        let mut outcomes = Vec::new();
        for run in runs {
            outcomes.push(run.await.unwrap_or_else(panicked));
        }
        outcomes
    });
    let reference = &outcomes[0];
    let agree = outcomes
        .iter()
        .all(|o| o.transcript == reference.transcript && o.failure.is_none());
    let report = report(name, &outcomes);
    if !agree {
        return Err(report);
    }
    if std::env::var_os(SHOW_ENV).is_some() {
        println!("{report}");
    }
    Ok(())
}

fn panicked(e: tokio::task::JoinError) -> Outcome {
    let failure = match e.try_into_panic() {
        Ok(payload) => panic_message(&*payload),
        Err(e) => e.to_string(),
    };
    Outcome {
        transcript: Vec::new(),
        failure: Some(format!("the scenario panicked: {failure}")),
        took: Duration::ZERO,
    }
}

async fn run_side(side: Side, name: String, body: Body) -> Outcome {
    let backend: Box<dyn Backend> = match side {
        Side::ZooKeeper => Box::new(ZooKeeperBackend),
        Side::Ours => Box::new(OurBackend),
        Side::Gateway => Box::new(GatewayBackend),
    };
    let ns = format!("/{}", fk_testkit::unique_name(&format!("c-{name}")));
    let s0 = match backend.session(SessionOptions::default()).await {
        Ok(s0) => s0,
        Err(e) => return setup_failure(format!("cannot open a session: {e}")),
    };
    if let Err(e) = s0.create(&ns, b"", Mode::Persistent).await {
        return setup_failure(format!("cannot create the namespace {ns}: {e}"));
    }
    let mut t = Scenario::new(side, backend, ns, s0);
    let started = Instant::now();
    let finished = tokio::time::timeout(
        SCENARIO_TIMEOUT,
        AssertUnwindSafe(body(&mut t)).catch_unwind(),
    )
    .await;
    let took = started.elapsed();
    t.finish().await;
    let failure = match finished {
        Ok(Ok(())) => None,
        Ok(Err(panic)) => Some(format!("the scenario panicked: {}", panic_message(&*panic))),
        Err(_) => Some(format!(
            "the scenario did not finish within {SCENARIO_TIMEOUT:?}"
        )),
    };
    Outcome {
        transcript: t.transcript(),
        failure,
        took,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

fn setup_failure(why: String) -> Outcome {
    Outcome {
        transcript: Vec::new(),
        failure: Some(why),
        took: Duration::ZERO,
    }
}

/// The labels of the sides, in [`run`]'s order.
const LABELS: [&str; 3] = ["ZooKeeper 3.8", "ours", "ours through the gateway"];

/// Every transcript, each one's first difference from ZooKeeper's marked.
fn report(name: &str, outcomes: &[Outcome]) -> String {
    let took: Vec<String> = LABELS
        .iter()
        .zip(outcomes)
        .map(|(label, o)| format!("{label} {:.0?}", o.took))
        .collect();
    let mut out = format!("scenario {name}: {}\n", took.join(", "));
    let reference = &outcomes[0].transcript;
    let mut differences = Vec::new();
    for (label, outcome) in LABELS.iter().zip(outcomes) {
        let first_difference = (0..reference.len().max(outcome.transcript.len()))
            .find(|&i| reference.get(i) != outcome.transcript.get(i));
        out += &format!("--- {label}:\n");
        for (i, line) in outcome.transcript.iter().enumerate() {
            let mark = if Some(i) == first_difference {
                ">>"
            } else {
                "  "
            };
            out += &format!("{mark} {line}\n");
        }
        if first_difference.is_some_and(|i| i >= outcome.transcript.len()) {
            out += ">> (ends here)\n";
        }
        if let Some(failure) = &outcome.failure {
            out += &format!("!! {failure}\n");
        }
        if let Some(i) = first_difference {
            differences.push(format!("{label} from line {}", i + 1));
        }
    }
    if !differences.is_empty() {
        out += &format!(
            "the transcripts differ from ZooKeeper's: {}\n",
            differences.join(", ")
        );
    }
    out
}
