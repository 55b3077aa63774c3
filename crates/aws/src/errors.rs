//! SDK and Redis errors as [`StoreError`]s: retryable when the same call may
//! succeed later, with the service's error code in the message.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use fk_core::{FailureKind, StoreError};

pub(crate) const DYNAMODB: &str = "dynamodb";
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
pub(crate) const S3: &str = "s3";
pub(crate) const SQS: &str = "sqs";
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) const REDIS: &str = "redis";
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) const SECRETS_MANAGER: &str = "secretsmanager";

/// Service error codes that mean "slow down".
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "KMSThrottlingException",
];

/// Service error codes that mean "try again": contention and server-side
/// failures.
const TRANSIENT_CODES: &[&str] = &[
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Service error codes that mean the caller may not make the call: no
/// permission, or credentials the service does not accept.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AWS.SimpleQueueService.AccessDenied",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "AuthFailure",
    "KMS.AccessDeniedException",
    "KMSAccessDeniedException",
];

/// Whether `code` says the caller's credentials or permissions were refused.
pub(crate) fn is_denied(code: &str) -> bool {
    DENIED_CODES.contains(&code)
}

/// Service error codes that mean the named resource does not exist.
const MISSING_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "NoSuchBucket",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NonExistentQueue",
    "QueueDoesNotExist",
];

/// A conditional DynamoDB call's result: `Ok(true)` if it applied,
/// `Ok(false)` if its condition failed (an answer, not an error).
pub(crate) fn applied<O, E>(
    operation: &str,
    result: Result<O, SdkError<E, HttpResponse>>,
) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(err) => Err(sdk(DYNAMODB, operation, err)),
    }
}

/// Maps an SDK error of `operation` (e.g. `"UpdateItem"`): its kind from
/// the service's error code (or the HTTP status), retryable only when
/// transient.
pub(crate) fn sdk<E>(
    backend: &'static str,
    operation: &str,
    err: SdkError<E, HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let context = DisplayErrorContext(&err).to_string();
    let kind = match &err {
        // The SDK found no credentials: it reports that as a failure to
        // send, but sending again will not help.
        SdkError::DispatchFailure(d) if d.is_other() && context.contains("credentials") => {
            FailureKind::AccessDenied
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            FailureKind::Unreachable
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            match err.code() {
                Some(code) if DENIED_CODES.contains(&code) => FailureKind::AccessDenied,
                Some(code) if MISSING_CODES.contains(&code) => FailureKind::MissingResource,
                Some(code) if THROTTLING_CODES.contains(&code) => FailureKind::Throttled,
                Some(code) if TRANSIENT_CODES.contains(&code) => FailureKind::Unreachable,
                _ if status == 429 => FailureKind::Throttled,
                _ if status >= 500 => FailureKind::Unreachable,
                _ if status == 401 || status == 403 => FailureKind::AccessDenied,
                _ => FailureKind::Other,
            }
        }
        _ => FailureKind::Other,
    };
    let message = match err.code() {
        Some(code) => format!("{operation} failed with {code}: {context}"),
        None => format!("{operation} failed: {context}"),
    };
    StoreError {
        backend,
        message,
        retryable: matches!(kind, FailureKind::Unreachable | FailureKind::Throttled),
        kind,
    }
}

#[cfg(feature = "redis")]
/// Maps a Redis error: connection trouble and server-side busy states are
/// retryable (the client reconnects by itself); a refused login or a
/// command the user may not run is not.
pub(crate) fn redis(operation: &str, err: redis::RedisError) -> StoreError {
    let retryable = !matches!(err.retry_method(), redis::RetryMethod::NoRetry);
    let kind = if matches!(
        err.kind(),
        redis::ErrorKind::AuthenticationFailed
            | redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm)
    ) {
        FailureKind::AccessDenied
    } else if retryable {
        FailureKind::Unreachable
    } else {
        FailureKind::Other
    };
    StoreError {
        backend: REDIS,
        message: format!("{operation} failed: {err}"),
        retryable,
        kind,
    }
}

/// A record the backend returned that this code cannot read: permanent.
pub(crate) fn malformed(backend: &'static str, what: impl std::fmt::Display) -> StoreError {
    StoreError::permanent(backend, format!("malformed record: {what}"))
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn service_error(status: u16, code: &str) -> SdkError<UpdateItemError, HttpResponse> {
        let err = UpdateItemError::generic(ErrorMetadata::builder().code(code).build());
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn throttling_and_server_errors_are_retryable_with_their_code() {
        let throttled = sdk(
            DYNAMODB,
            "UpdateItem",
            service_error(400, "ThrottlingException"),
        );
        assert!(throttled.retryable);
        assert!(throttled
            .message
            .contains("UpdateItem failed with ThrottlingException"));
        assert!(sdk(DYNAMODB, "UpdateItem", service_error(503, "Whatever")).retryable);
        let timeout = SdkError::<UpdateItemError, HttpResponse>::timeout_error("slow");
        assert!(sdk(DYNAMODB, "UpdateItem", timeout).retryable);
    }

    #[test]
    fn client_errors_are_permanent() {
        let err = sdk(
            DYNAMODB,
            "UpdateItem",
            service_error(400, "ValidationException"),
        );
        assert!(!err.retryable);
        assert!(err.message.contains("ValidationException"));
        assert_eq!(err.backend, "dynamodb");
        assert_eq!(err.kind, FailureKind::Other);
    }

    #[test]
    fn a_missing_table_queue_or_bucket_is_a_permanent_missing_resource() {
        for code in [
            "ResourceNotFoundException",
            "NoSuchBucket",
            "AWS.SimpleQueueService.NonExistentQueue",
        ] {
            let err = sdk(DYNAMODB, "GetItem", service_error(400, code));
            assert_eq!(err.kind, FailureKind::MissingResource, "{code}");
            assert!(!err.retryable, "{code}");
        }
    }

    #[test]
    fn a_refused_call_is_a_permanent_access_denied() {
        for (status, code) in [
            (400, "AccessDeniedException"),
            (403, "AccessDenied"),
            (400, "UnrecognizedClientException"),
            (403, "SomethingNew"),
        ] {
            let err = sdk(DYNAMODB, "GetItem", service_error(status, code));
            assert_eq!(err.kind, FailureKind::AccessDenied, "{code}");
            assert!(!err.retryable, "{code}");
        }
    }

    #[test]
    fn throttling_is_its_own_kind_and_timeouts_are_unreachable() {
        let throttled = sdk(DYNAMODB, "GetItem", service_error(400, "SlowDown"));
        assert_eq!(throttled.kind, FailureKind::Throttled);
        let timeout = SdkError::<UpdateItemError, HttpResponse>::timeout_error("slow");
        assert_eq!(
            sdk(DYNAMODB, "UpdateItem", timeout).kind,
            FailureKind::Unreachable
        );
    }
}
