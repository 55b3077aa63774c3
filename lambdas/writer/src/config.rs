//! The writer's configuration, read once at start-up.

use fk_aws::env;
use fk_lambda::config::{self, AwsConfig, ConfigError, Source};

#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsConfig,
    pub system_table: String,
    pub sessions_table: String,
    pub distributor_queue_url: String,
    pub dead_letter_url: String,
    pub lock_ttl_ms: i64,
    pub max_data_len: usize,
    /// Test hook: crash after locking a write to this path, on its first
    /// delivery only. Never set by Terraform.
    pub crash_after_lock: Option<String>,
    /// Handle each batch whole and push its validated writes together
    /// (`FK_GROUP_COMMIT`, default on); off, one write at a time.
    pub batched: bool,
}

/// The variable of the crash test hook.
pub const CRASH_AFTER_LOCK: &str = "FK_FAULT_CRASH_AFTER_LOCK";

impl Config {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Config {
            aws: AwsConfig::from_source(src)?,
            system_table: config::required(src, env::SYSTEM_TABLE)?,
            sessions_table: config::required(src, env::SESSIONS_TABLE)?,
            distributor_queue_url: config::required(src, env::DISTRIBUTOR_QUEUE_URL)?,
            dead_letter_url: config::required(src, env::DEAD_LETTER_QUEUE_URL)?,
            lock_ttl_ms: config::parsed_or(src, env::LOCK_TTL_MS, 30_000)?,
            max_data_len: config::max_data_len(src)?,
            crash_after_lock: src.get(CRASH_AFTER_LOCK),
            batched: config::parsed_or(src, env::GROUP_COMMIT, true)?,
        })
    }
}
