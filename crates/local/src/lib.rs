//! Plays the Lambda service on one machine, against an AWS emulator (moto).
//!
//! The functions are the *real* binaries built from `lambdas/`: each runs as
//! a child process that talks to a Lambda Runtime API served here, exactly as
//! it would in a Lambda sandbox. The runner feeds them what Lambda's event
//! source mappings and EventBridge schedules would: batches received from
//! SQS FIFO queues, deleted only when the function succeeds, and scheduled
//! events on a timer.
//!
//! # Layout
//!
//! - [`stack`]: [`provision`] a stack's tables, bucket and queues in the
//!   emulator ([`StackConfig`] → [`Provisioned`]: the client's `Deployment`
//!   and each function's environment).
//! - [`runner`]: [`start`] the functions ([`FunctionSpec`] per queue-fed
//!   function, [`ScheduleSpec`] per scheduled one), [`RunnerHandle`] to count
//!   invocations and stop.
//! - [`terraform`]: the same, read from the outputs of the Terraform
//!   configuration `terraform/stacks/local` ([`TerraformStack`]), which is
//!   how `make run` provisions.
//! - [`queues`]: FIFO queues with their dead-letter queues.
//! - `queue_source`: one instance's receive → invoke → delete loop.
//! - `schedule`: the timer loop and its EventBridge event.
//! - `sandbox`: one execution environment (a process and its Runtime API),
//!   replaced when the process dies or times out.
//! - `runtime_api`: the Runtime API server.
//! - `sqs_event`: received SQS messages as Lambda's `SqsEvent`.
//! - `spawn`: child processes that die with the runner.
//!
//! # Differences from Lambda
//!
//! One process per instance and no scaling: the number of instances is fixed.
//! A success response deletes the whole batch (partial batch responses,
//! `ReportBatchItemFailures`, are not read, as in a mapping without that
//! setting). Stopping kills invocations still running after a short grace,
//! so SQS redelivers their batches.

mod queue_source;
pub mod queues;
pub mod runner;
pub mod runtime_api;
mod sandbox;
mod schedule;
pub mod spawn;
pub mod sqs_event;
pub mod stack;
pub mod terraform;

pub use runner::{start, FunctionSpec, RunnerConfig, RunnerHandle, ScheduleSpec};
pub use stack::{provision, Provisioned, StackConfig, StoreKind};
pub use terraform::TerraformStack;
