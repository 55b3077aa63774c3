//! SDK and Redis errors as [`StoreError`]s: retryable when the same call may
//! succeed later, with the service's error code in the message.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use fk_core::StoreError;

pub(crate) const DYNAMODB: &str = "dynamodb";
pub(crate) const S3: &str = "s3";
pub(crate) const SQS: &str = "sqs";
pub(crate) const REDIS: &str = "redis";
pub(crate) const SECRETS_MANAGER: &str = "secretsmanager";

/// Service error codes that mean "try again": throttling, capacity and
/// server-side failures.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
    "KMSThrottlingException",
];

/// Maps an SDK error of `operation` (e.g. `"UpdateItem"`).
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

pub(crate) fn sdk<E>(
    backend: &'static str,
    operation: &str,
    err: SdkError<E, HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status >= 500
                || status == 429
                || err
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        _ => false,
    };
    let message = match err.code() {
        Some(code) => format!(
            "{operation} failed with {code}: {}",
            DisplayErrorContext(&err)
        ),
        None => format!("{operation} failed: {}", DisplayErrorContext(&err)),
    };
    StoreError {
        backend,
        message,
        retryable,
    }
}

/// Maps a Redis error: connection trouble and server-side busy states are
/// retryable (the client reconnects by itself).
pub(crate) fn redis(operation: &str, err: redis::RedisError) -> StoreError {
    let retryable = !matches!(err.retry_method(), redis::RetryMethod::NoRetry);
    StoreError {
        backend: REDIS,
        message: format!("{operation} failed: {err}"),
        retryable,
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
    }
}
