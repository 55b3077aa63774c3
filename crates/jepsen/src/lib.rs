//! Checks Jepsen-style histories of FaaSKeeper for linearizability.
//!
//! A test drives several ZooKeeper sessions ("processes") against a few
//! nodes, using each node as a *versioned register*: unconditional
//! `setData`, `setData` with an expected version (a CAS), and `sync` +
//! `getData` reads. It logs one [`Operation`] per request, with the times it
//! was invoked and completed, and this crate decides whether some total order
//! of the operations, consistent with those times, explains every result.
//!
//! # Layout
//!
//! - [`history`]: operations, calls and outcomes, and their JSON-lines form.
//! - [`model`]: the sequential specification of a versioned register.
//! - [`wgl`]: the Wing–Gong search with Lowe's memoization, and [`check`].
//! - [`report`]: verdicts, witnesses and per-key counts.
//! - [`session`]: monotonic reads and read-your-writes, which need no search.
//!
//! # How the check works
//!
//! Linearizability is P-compositional for registers: a history is
//! linearizable if and only if each key's sub-history is. Checking keys one
//! at a time turns one search whose size multiplies across keys into several
//! that only add up. Within a key, the Wing–Gong search tries operations in
//! time order and backtracks; Lowe's cache remembers every (set of
//! linearized operations, register state) pair already explored, because two
//! orders that linearize the same operations into the same state have the
//! same future, so the second one can be abandoned at once. That turns an
//! exponential search into one bounded by the distinct configurations, which
//! for a register with versions is small. A step budget still bounds it, and
//! a history that exhausts it is reported as [`Verdict::Unknown`].
//!
//! An [`Outcome::Info`] operation is one whose reply never came (timeout,
//! connection loss). It may have taken effect at any moment after its
//! invocation — including after the client gave up — or never, so it is
//! treated as completing at +infinity and as optional: the search succeeds
//! once every `Ok` and `Fail` operation is linearized, whether or not the
//! `Info` ones are. Such an operation stays a candidate for the rest of the
//! history, so many of them could multiply the search; because versions only
//! grow, the search never places one where it would push the version past
//! what a pending `Ok` operation reported, which keeps that in check.

pub mod history;
pub mod model;
pub mod report;
pub mod session;
pub mod wgl;

pub use history::{
    read_jsonl, validate, write_jsonl, Call, HistoryError, Observed, Operation, Outcome, ProcessId,
};
pub use model::RegisterState;
pub use report::{IndexedOp, KeyReport, Placed, Report, Verdict, Witness};
pub use session::{check_sessions, Anomaly, Sighting};
pub use wgl::{check, check_with, Config};
