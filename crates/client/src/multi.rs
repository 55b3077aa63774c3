//! Multi: several writes as one atomic request, and ZooKeeper's per-op
//! report when it fails.

use bytes::Bytes;
use fk_core::{CreateMode, Op, OpResult, Outcome};

use crate::client::unexpected;
use crate::{Client, Code, Error};

/// Why a multi failed, as ZooKeeper reports it.
///
/// When one op failed, nothing applied, and `results` holds one entry per
/// op: `Ok` for those before the failing one (rolled back), its code,
/// then `RuntimeInconsistency` for the rest. When the request as a whole
/// failed (no reply, a session gone, a multi too large), `results` is
/// empty and `error` says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("multi failed{}: {error}", at(.results))]
pub struct MultiFailure {
    #[source]
    pub error: Error,
    pub results: Vec<Result<(), Code>>,
}

fn at(results: &[Result<(), Code>]) -> String {
    failing(results)
        .map(|i| format!(" at op {i}"))
        .unwrap_or_default()
}

fn failing(results: &[Result<(), Code>]) -> Option<usize> {
    results
        .iter()
        .position(|r| matches!(r, Err(code) if *code != Code::RuntimeInconsistency))
}

impl MultiFailure {
    /// The index of the op that failed, if one did.
    pub fn index(&self) -> Option<usize> {
        failing(&self.results)
    }

    fn of_request(error: Error) -> Self {
        MultiFailure {
            error,
            results: Vec::new(),
        }
    }
}

/// Builds a multi: `client.new_multi().create(..).set_data(..).check(..)
/// .delete(..).commit().await`. All ops apply, in order, or none.
#[derive(Debug, Clone)]
#[must_use = "a multi does nothing until `commit`"]
pub struct MultiBuilder<'a> {
    client: &'a Client,
    ops: Vec<Op>,
}

impl<'a> MultiBuilder<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        MultiBuilder {
            client,
            ops: Vec::new(),
        }
    }

    /// Creates a node; its result is `OpResult::Created` with the path
    /// actually created.
    pub fn create(mut self, path: &str, data: &[u8], mode: CreateMode) -> Self {
        self.ops.push(Op::Create {
            path: path.to_string(),
            data: Bytes::copy_from_slice(data),
            mode,
        });
        self
    }

    /// Replaces a node's data if its version is `version` (`None`: any).
    pub fn set_data(mut self, path: &str, data: &[u8], version: Option<i32>) -> Self {
        self.ops.push(Op::SetData {
            path: path.to_string(),
            data: Bytes::copy_from_slice(data),
            version,
        });
        self
    }

    /// Deletes a childless node if its version is `version` (`None`: any).
    pub fn delete(mut self, path: &str, version: Option<i32>) -> Self {
        self.ops.push(Op::Delete {
            path: path.to_string(),
            version,
        });
        self
    }

    /// Requires the node to exist at `version` (`None`: at any version).
    pub fn check(mut self, path: &str, version: Option<i32>) -> Self {
        self.ops.push(Op::Check {
            path: path.to_string(),
            version,
        });
        self
    }

    /// How many ops the multi holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Sends the multi; each op's result, in order.
    pub async fn commit(self) -> Result<Vec<OpResult>, MultiFailure> {
        self.client.multi(self.ops).await
    }
}

impl Client {
    /// A multi to build and [`commit`](MultiBuilder::commit).
    pub fn new_multi(&self) -> MultiBuilder<'_> {
        MultiBuilder::new(self)
    }

    /// Runs `ops` (create, set_data, delete, check) as one atomic write:
    /// all apply, in order, or none. See [`MultiFailure`] for its report.
    pub async fn multi(&self, ops: Vec<Op>) -> Result<Vec<OpResult>, MultiFailure> {
        let outcome = Box::pin(self.send_retrying_refusals(Op::multi(ops)))
            .await
            .map_err(MultiFailure::of_request)?;
        match outcome {
            Outcome::Ok(OpResult::Multi { results }) => Ok(results),
            Outcome::Ok(other) => Err(MultiFailure::of_request(unexpected(other))),
            Outcome::Err(code) => Err(MultiFailure::of_request(code.into())),
            Outcome::MultiErr(f) => Err(MultiFailure {
                error: f.error.into(),
                results: f.results,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_op_that_failed() {
        let failure = MultiFailure {
            error: Code::BadVersion.into(),
            results: vec![
                Ok(()),
                Err(Code::BadVersion),
                Err(Code::RuntimeInconsistency),
            ],
        };
        assert_eq!(failure.index(), Some(1));
        assert_eq!(failure.to_string(), "multi failed at op 1: bad version");
        assert_eq!(
            MultiFailure::of_request(Code::ConnectionLoss.into()).index(),
            None
        );
    }
}
