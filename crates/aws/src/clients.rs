//! The SDK configuration and the three AWS clients, built once per process
//! and shared by every adapter.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

use crate::calls::CallCounter;

/// Loads the SDK configuration for `region`. With an `endpoint` (the local
/// emulator) every client talks to it, and static test credentials are used
/// unless the environment names some.
pub async fn sdk_config(endpoint: Option<&str>, region: &str) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string()));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(Credentials::new(
                "test",
                "test",
                None,
                None,
                "fk-aws-emulator",
            ));
        }
    }
    loader.load().await
}

/// The AWS clients, each counting its calls.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// Only for a Redis user store whose password is a secret.
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Builds the clients from `sdk`, with `counter`'s interceptor on each.
    /// S3 uses path-style addressing when an endpoint is set: an emulator on
    /// `127.0.0.1` has no bucket subdomains.
    pub fn new(sdk: &SdkConfig, counter: &CallCounter) -> Self {
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(counter.interceptor())
            .build();
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .interceptor(counter.interceptor())
            .build();
        let sqs = aws_sdk_sqs::config::Builder::from(sdk)
            .interceptor(counter.interceptor())
            .build();
        let secrets = aws_sdk_secretsmanager::config::Builder::from(sdk)
            .interceptor(counter.interceptor())
            .build();
        Clients {
            secrets: aws_sdk_secretsmanager::Client::from_conf(secrets),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            s3: aws_sdk_s3::Client::from_conf(s3),
            sqs: aws_sdk_sqs::Client::from_conf(sqs),
        }
    }
}
