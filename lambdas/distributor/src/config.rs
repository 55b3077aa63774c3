//! The distributor's configuration, read once at start-up.

use fk_aws::deployment::UserStoreConfig;
use fk_aws::env;
use fk_lambda::config::{self, AwsConfig, ConfigError, Source};

#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsConfig,
    pub system_table: String,
    pub sessions_table: String,
    pub dead_letter_url: String,
    pub watch_queue_url: String,
    pub user_store: UserStoreConfig,
    /// Commit each batch's writes as groups (`FK_GROUP_COMMIT`, default
    /// on); off, one write at a time as before.
    pub group_commit: bool,
}

impl Config {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Config {
            aws: AwsConfig::from_source(src)?,
            system_table: config::required(src, env::SYSTEM_TABLE)?,
            sessions_table: config::required(src, env::SESSIONS_TABLE)?,
            dead_letter_url: config::required(src, env::DEAD_LETTER_QUEUE_URL)?,
            watch_queue_url: config::required(src, env::WATCH_QUEUE_URL)?,
            user_store: config::user_store(src)?,
            group_commit: config::parsed_or(src, env::GROUP_COMMIT, true)?,
        })
    }
}
