//! The SDK configuration for the emulator.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;

/// SDK configuration for `endpoint`; static test credentials unless the
/// environment names some.
pub(crate) async fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint);
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader =
            loader.credentials_provider(Credentials::new("test", "test", None, None, "fk-local"));
    }
    loader.load().await
}
