//! The client's error: a ZooKeeper code, and for a backend failure the
//! failure underneath it.
//!
//! The deployment answers with ZooKeeper's codes (`NoNode`, `BadVersion`,
//! …), and so does this client; a program written against ZooKeeper
//! matches on [`Error::code`]. A failure of AWS or Redis under the client
//! keeps its cause: what kind of failure it was ([`FailureKind`]: cannot
//! reach, not allowed, a resource that does not exist), which resource of
//! the deployment it concerns, and the backend's own error as
//! [`std::error::Error::source`]. Without that, a wrong queue URL, a missing
//! permission and throttling would all read "connection loss".

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use fk_core::{FailureKind, StoreError};

/// ZooKeeper's error codes (`KeeperException.Code`): what [`Error::code`]
/// answers, and what the deployment's replies carry.
pub use fk_core::Error as Code;

/// An error of the client: a ZooKeeper [`Code`], and for a failure of the
/// backend under it, its cause.
///
/// Compare with a code directly (`err == Code::NoNode`) or through
/// [`Error::code`]. A failure of the backend maps to:
///
/// | Cause ([`Error::kind`]) | Code | Retryable |
/// |---|---|---|
/// | cannot reach (connection, timeout, 5xx) | `ConnectionLoss` | yes |
/// | throttled | `ThrottledOp` | yes |
/// | not allowed (`AccessDenied`, no credentials) | `NoAuth` | no |
/// | a queue, table or bucket that does not exist | `SystemError` | no |
/// | anything else (a malformed record) | `SystemError` | no |
#[derive(Clone)]
pub struct Error {
    code: Code,
    cause: Option<Arc<Cause>>,
}

struct Cause {
    kind: Option<FailureKind>,
    /// The deployment's resource the failure concerns, e.g. `writer queue
    /// https://…`.
    resource: Option<String>,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl Error {
    /// ZooKeeper's code for this error.
    pub fn code(&self) -> Code {
        self.code
    }

    /// For a failure of the backend, what kind of failure; `None` for an
    /// answer of the deployment (or of this client's own checks), which
    /// the code says all about.
    pub fn kind(&self) -> Option<FailureKind> {
        self.cause.as_ref().and_then(|c| c.kind)
    }

    /// The deployment's resource the failure concerns (a queue, a table,
    /// a bucket, a Redis server), if any.
    pub fn resource(&self) -> Option<&str> {
        self.cause.as_ref().and_then(|c| c.resource.as_deref())
    }

    /// Whether the same request may succeed if sent again: a transient
    /// cause (cannot reach, throttled, no reply in time), never a missing
    /// resource, a refused permission or an answer such as `NoNode`.
    ///
    /// Whether sending it again is *safe* is another question: see
    /// [`RetryPolicy`](crate::RetryPolicy).
    pub fn is_retryable(&self) -> bool {
        match self.kind() {
            Some(kind) => matches!(kind, FailureKind::Unreachable | FailureKind::Throttled),
            None => self.code.is_retryable(),
        }
    }

    /// A failure of the backend while using `resource`.
    pub(crate) fn store(resource: impl Into<String>, source: StoreError) -> Error {
        let kind = source.kind;
        let code = match kind {
            FailureKind::Unreachable => Code::ConnectionLoss,
            FailureKind::Throttled => Code::ThrottledOp,
            FailureKind::AccessDenied => Code::NoAuth,
            _ if source.retryable => Code::ConnectionLoss,
            _ => Code::SystemError,
        };
        Error {
            code,
            cause: Some(Arc::new(Cause {
                kind: Some(kind),
                resource: Some(resource.into()),
                source: Box::new(source),
            })),
        }
    }

    /// A write whose reply did not come within `waited`.
    pub(crate) fn no_reply(seq: u64, waited: Duration) -> Error {
        Error {
            code: Code::ConnectionLoss,
            cause: Some(Arc::new(Cause {
                kind: None,
                resource: None,
                source: format!("no reply to write {seq} within {waited:?}").into(),
            })),
        }
    }

    /// `code`, with a reason in words.
    pub(crate) fn because(code: Code, reason: impl Into<String>) -> Error {
        Error {
            code,
            cause: Some(Arc::new(Cause {
                kind: None,
                resource: None,
                source: reason.into().into(),
            })),
        }
    }
}

impl From<Code> for Error {
    fn from(code: Code) -> Self {
        Error { code, cause: None }
    }
}

impl PartialEq<Code> for Error {
    fn eq(&self, other: &Code) -> bool {
        self.code == *other
    }
}

impl PartialEq<Error> for Code {
    fn eq(&self, other: &Error) -> bool {
        *self == other.code
    }
}

/// Two errors are equal if their codes and kinds of failure are.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.kind() == other.kind()
    }
}

impl Eq for Error {}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            None => write!(f, "{:?}", self.code),
            Some(cause) => f
                .debug_struct("Error")
                .field("code", &self.code)
                .field("kind", &cause.kind)
                .field("resource", &cause.resource)
                .field("source", &cause.source)
                .finish(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        let Some(cause) = &self.cause else {
            return Ok(());
        };
        let resource = cause.resource.as_deref().unwrap_or("the backend");
        match cause.kind {
            Some(FailureKind::Unreachable) => write!(f, ": cannot reach {resource}")?,
            Some(FailureKind::Throttled) => write!(f, ": {resource} throttled the call")?,
            Some(FailureKind::AccessDenied) => write!(f, ": not allowed to use {resource}")?,
            Some(FailureKind::MissingResource) => write!(
                f,
                ": {resource} does not exist (is the deployment document right?)"
            )?,
            Some(_) => write!(f, ": {resource} failed")?,
            None => {}
        }
        write!(f, ": {}", cause.source)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_ref()
            .map(|c| &*c.source as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn an_answer_is_its_code_alone() {
        let err = Error::from(Code::NoNode);
        assert_eq!(err, Code::NoNode);
        assert_eq!(err.code(), Code::NoNode);
        assert_eq!(err.kind(), None);
        assert!(err.source().is_none());
        assert_eq!(err.to_string(), "no node");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_missing_queue_is_a_permanent_system_error_naming_the_queue() {
        let store = StoreError::permanent("sqs", "GetQueueAttributes failed with NonExistentQueue")
            .with_kind(FailureKind::MissingResource);
        let err = Error::store("writer queue https://q/x.fifo", store);
        assert_eq!(err.code(), Code::SystemError);
        assert_eq!(err.kind(), Some(FailureKind::MissingResource));
        assert!(!err.is_retryable());
        assert_eq!(err.resource(), Some("writer queue https://q/x.fifo"));
        let text = err.to_string();
        assert!(
            text.contains("writer queue https://q/x.fifo does not exist"),
            "{text}"
        );
        assert!(text.contains("NonExistentQueue"), "{text}");
        let source = err.source().expect("the store error underneath");
        assert!(source.downcast_ref::<StoreError>().is_some());
    }

    #[test]
    fn only_transient_causes_are_retryable() {
        let denied = StoreError::permanent("dynamodb", "AccessDeniedException")
            .with_kind(FailureKind::AccessDenied);
        let denied = Error::store("system table t", denied);
        assert_eq!(denied.code(), Code::NoAuth);
        assert!(!denied.is_retryable());

        let unreachable = Error::store("s3 bucket b", StoreError::transient("s3", "timeout"));
        assert_eq!(unreachable.code(), Code::ConnectionLoss);
        assert!(unreachable.is_retryable());

        let throttled =
            StoreError::transient("dynamodb", "SlowDown").with_kind(FailureKind::Throttled);
        assert_eq!(Error::store("t", throttled).code(), Code::ThrottledOp);

        assert!(Error::no_reply(3, Duration::from_secs(1)).is_retryable());
    }
}
