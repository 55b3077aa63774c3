//! ZooKeeper's error codes, and the errors of the storage ports.

use serde::{Deserialize, Serialize};

/// A ZooKeeper error, named and numbered as `KeeperException.Code`.
///
/// This is what a client sees; it crosses queues by name.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    #[error("system error")]
    SystemError,
    #[error("a previous operation of the multi failed")]
    RuntimeInconsistency,
    #[error("connection loss")]
    ConnectionLoss,
    #[error("marshalling error")]
    MarshallingError,
    #[error("operation unimplemented")]
    Unimplemented,
    #[error("operation timeout")]
    OperationTimeout,
    #[error("bad arguments")]
    BadArguments,
    #[error("no node")]
    NoNode,
    #[error("not authenticated")]
    NoAuth,
    #[error("bad version")]
    BadVersion,
    #[error("ephemeral nodes may not have children")]
    NoChildrenForEphemerals,
    #[error("node exists")]
    NodeExists,
    #[error("directory not empty")]
    NotEmpty,
    #[error("session expired")]
    SessionExpired,
    #[error("invalid ACL")]
    InvalidAcl,
    #[error("not read-only: a write needs a session")]
    NotReadOnly,
    #[error("no watcher")]
    NoWatcher,
    #[error("request timeout")]
    RequestTimeout,
    #[error("quota exceeded")]
    QuotaExceeded,
    #[error("throttled operation")]
    ThrottledOp,
}

impl Error {
    /// The numeric code of `KeeperException.Code`.
    pub fn code(self) -> i32 {
        match self {
            Error::SystemError => -1,
            Error::RuntimeInconsistency => -2,
            Error::ConnectionLoss => -4,
            Error::MarshallingError => -5,
            Error::Unimplemented => -6,
            Error::OperationTimeout => -7,
            Error::BadArguments => -8,
            Error::NoNode => -101,
            Error::NoAuth => -102,
            Error::BadVersion => -103,
            Error::NoChildrenForEphemerals => -108,
            Error::NodeExists => -110,
            Error::NotEmpty => -111,
            Error::SessionExpired => -112,
            Error::InvalidAcl => -114,
            Error::NotReadOnly => -119,
            Error::NoWatcher => -121,
            Error::RequestTimeout => -122,
            Error::QuotaExceeded => -125,
            Error::ThrottledOp => -127,
        }
    }

    /// The name users know from `KeeperException.Code`, e.g. `NONODE`.
    pub fn code_name(self) -> &'static str {
        match self {
            Error::SystemError => "SYSTEMERROR",
            Error::RuntimeInconsistency => "RUNTIMEINCONSISTENCY",
            Error::ConnectionLoss => "CONNECTIONLOSS",
            Error::MarshallingError => "MARSHALLINGERROR",
            Error::Unimplemented => "UNIMPLEMENTED",
            Error::OperationTimeout => "OPERATIONTIMEOUT",
            Error::BadArguments => "BADARGUMENTS",
            Error::NoNode => "NONODE",
            Error::NoAuth => "NOAUTH",
            Error::BadVersion => "BADVERSION",
            Error::NoChildrenForEphemerals => "NOCHILDRENFOREPHEMERALS",
            Error::NodeExists => "NODEEXISTS",
            Error::NotEmpty => "NOTEMPTY",
            Error::SessionExpired => "SESSIONEXPIRED",
            Error::InvalidAcl => "INVALIDACL",
            Error::NotReadOnly => "NOTREADONLY",
            Error::NoWatcher => "NOWATCHER",
            Error::RequestTimeout => "REQUESTTIMEOUT",
            Error::QuotaExceeded => "QUOTAEXCEEDED",
            Error::ThrottledOp => "THROTTLEDOP",
        }
    }

    /// Whether the same request may succeed if sent again unchanged.
    ///
    /// `ConnectionLoss` and `OperationTimeout` leave the outcome unknown to
    /// the caller, so a retry must be safe for the operation (a versioned
    /// write is; a sequential create is not).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Error::ConnectionLoss
                | Error::OperationTimeout
                | Error::RequestTimeout
                | Error::ThrottledOp
        )
    }
}

/// What kind of backend failure a [`StoreError`] is. A client tells its
/// user "cannot reach" from "not allowed" from "misconfigured" by it; the
/// functions only look at [`StoreError::retryable`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FailureKind {
    /// The backend did not answer: a connection refused or reset, a
    /// timeout, a 5xx answer.
    Unreachable,
    /// The backend asked the caller to slow down.
    Throttled,
    /// The caller has no credentials, or they do not allow the call.
    AccessDenied,
    /// The resource the call names (a queue, a table, a bucket) does not
    /// exist: the deployment is misconfigured, or was torn down.
    MissingResource,
    /// Anything else: a malformed record, a request the backend rejected.
    #[default]
    Other,
}

/// A failure of a storage or queue port.
///
/// Ports never answer ZooKeeper errors: a missing node or a failed condition
/// is an ordinary return value. This type is only for the backend itself
/// failing, and says whether the same call may succeed later.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{backend}: {message}")]
pub struct StoreError {
    pub backend: &'static str,
    pub message: String,
    pub retryable: bool,
    pub kind: FailureKind,
}

impl StoreError {
    /// A transient failure (throttling, timeout, connection reset).
    pub fn transient(backend: &'static str, message: impl Into<String>) -> Self {
        StoreError {
            backend,
            message: message.into(),
            retryable: true,
            kind: FailureKind::Unreachable,
        }
    }

    /// A failure that will repeat (malformed record, permission denied).
    pub fn permanent(backend: &'static str, message: impl Into<String>) -> Self {
        StoreError {
            backend,
            message: message.into(),
            retryable: false,
            kind: FailureKind::Other,
        }
    }

    /// The same failure, said to be of `kind`.
    pub fn with_kind(mut self, kind: FailureKind) -> Self {
        self.kind = kind;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_keeper_exception() {
        assert_eq!(Error::NoNode.code(), -101);
        assert_eq!(Error::NodeExists.code(), -110);
        assert_eq!(Error::BadVersion.code(), -103);
        assert_eq!(Error::NotEmpty.code(), -111);
        assert_eq!(Error::SessionExpired.code(), -112);
    }

    #[test]
    fn errors_cross_queues_by_name() {
        let json = serde_json::to_string(&Error::NoChildrenForEphemerals).unwrap();
        assert_eq!(json, "\"NoChildrenForEphemerals\"");
        let back: Error = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Error::NoChildrenForEphemerals);
    }

    #[test]
    fn only_unknown_outcomes_are_retryable() {
        assert!(Error::ConnectionLoss.is_retryable());
        assert!(!Error::BadVersion.is_retryable());
        assert!(!Error::NoNode.is_retryable());
    }
}
