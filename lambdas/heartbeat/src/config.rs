//! The heartbeat's configuration, read once at start-up.

use fk_aws::env;
use fk_lambda::config::{self, AwsConfig, ConfigError, Source};

#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsConfig,
    pub system_table: String,
    pub sessions_table: String,
    pub writer_queue_url: String,
}

impl Config {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Config {
            aws: AwsConfig::from_source(src)?,
            system_table: config::required(src, env::SYSTEM_TABLE)?,
            sessions_table: config::required(src, env::SESSIONS_TABLE)?,
            writer_queue_url: config::required(src, env::WRITER_QUEUE_URL)?,
        })
    }
}
