//! The SDK configuration and the three AWS clients, built once per process
//! and shared by every adapter.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

use crate::calls::CallCounter;
#[cfg(feature = "s3")]
use crate::lean::LeanS3;
use crate::lean::{LeanClient, Service};

/// Environment variable: set to `1` (or `true`) to sign with static test
/// credentials against an emulator that is not on this machine's loopback.
pub const EMULATOR_ENV: &str = "FK_AWS_EMULATOR";

/// Loads the SDK configuration for `region`. With an `endpoint` every
/// client talks to it instead of AWS.
///
/// Credentials come from the SDK's default chain (environment, profile,
/// web identity, instance role), with one exception: an emulator, meaning
/// an endpoint on the loopback (`127.0.0.0/8`, `localhost`, `[::1]`, as
/// `make run` and the tests start moto) or any endpoint with
/// `FK_AWS_EMULATOR=1`, gets static test credentials when the
/// environment names none. Any other endpoint without credentials fails
/// at its first call ("no credentials"), never signing with made-up ones.
pub async fn sdk_config(endpoint: Option<&str>, region: &str) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string()));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        let flagged =
            std::env::var(EMULATOR_ENV).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        let has_keys = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
        if !has_keys && (flagged || is_loopback(endpoint)) {
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

/// Whether `endpoint` (a URL) names this machine's loopback.
fn is_loopback(endpoint: &str) -> bool {
    let rest = endpoint
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(endpoint);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The AWS clients, each counting its calls.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The lean transport of the writer's lock ([`crate::lean`]); `None`
    /// when `FK_AWS_TRANSPORT=sdk` or it cannot be built.
    pub lean_dynamodb: Option<LeanClient>,
    /// The lean transport of a reply; `None` as for `lean_dynamodb`.
    pub lean_sqs: Option<LeanClient>,
    #[cfg(feature = "s3")]
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// Only for a Redis user store whose password is a secret.
    #[cfg(feature = "redis")]
    pub secrets: aws_sdk_secretsmanager::Client,
    /// What a bucket's lean client is built from ([`Clients::lean_s3`]).
    #[cfg(feature = "s3")]
    sdk: SdkConfig,
    #[cfg(feature = "s3")]
    counter: CallCounter,
}

impl Clients {
    /// Builds the clients from `sdk`, with `counter`'s interceptor on each.
    /// S3 uses path-style addressing when an endpoint is set: an emulator on
    /// `127.0.0.1` has no bucket subdomains.
    pub fn new(sdk: &SdkConfig, counter: &CallCounter) -> Self {
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(counter.interceptor())
            .build();
        #[cfg(feature = "s3")]
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style(sdk))
            .interceptor(counter.interceptor())
            .build();
        let sqs = aws_sdk_sqs::config::Builder::from(sdk)
            .interceptor(counter.interceptor())
            .build();
        #[cfg(feature = "redis")]
        let secrets = aws_sdk_secretsmanager::config::Builder::from(sdk)
            .interceptor(counter.interceptor())
            .build();
        Clients {
            lean_dynamodb: LeanClient::from_env(sdk, Service::DynamoDb, counter),
            lean_sqs: LeanClient::from_env(sdk, Service::Sqs, counter),
            #[cfg(feature = "redis")]
            secrets: aws_sdk_secretsmanager::Client::from_conf(secrets),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            #[cfg(feature = "s3")]
            s3: aws_sdk_s3::Client::from_conf(s3),
            sqs: aws_sdk_sqs::Client::from_conf(sqs),
            #[cfg(feature = "s3")]
            sdk: sdk.clone(),
            #[cfg(feature = "s3")]
            counter: counter.clone(),
        }
    }

    /// The lean transport of `bucket`'s objects, addressed as `s3` addresses
    /// them; `None` when `FK_AWS_TRANSPORT=sdk` or it cannot be built.
    #[cfg(feature = "s3")]
    pub fn lean_s3(&self, bucket: &str) -> Option<LeanS3> {
        LeanS3::from_env(&self.sdk, bucket, path_style(&self.sdk), &self.counter)
    }
}

/// Whether S3 is addressed path-style: when an endpoint is set (an
/// emulator on `127.0.0.1` has no bucket subdomains).
#[cfg(feature = "s3")]
fn path_style(sdk: &SdkConfig) -> bool {
    sdk.endpoint_url().is_some()
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_a_loopback_endpoint_is_taken_for_the_emulator() {
        for local in [
            "http://127.0.0.1:5000",
            "http://127.0.0.5",
            "http://localhost:4566/",
            "http://[::1]:5000",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "https://sqs.us-east-1.amazonaws.com",
            "https://vpce-1.sqs.us-east-1.vpce.amazonaws.com",
            "http://10.0.0.1:5000",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }
}
