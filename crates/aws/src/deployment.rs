//! Where a deployment's resources are: what a client needs to find them,
//! and what the functions read from their environment.
//!
//! `make run` writes a [`Deployment`] as JSON to `.fk/deployment.json`;
//! Terraform outputs the same document (`client_config`).

use serde::{Deserialize, Serialize};

/// Which user store holds node data, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UserStoreConfig {
    /// One S3 object per node.
    S3 { bucket: String },
    /// One DynamoDB item per node.
    Dynamodb { table: String },
    /// One Redis hash (and child set) per node, keys under `prefix`.
    /// `rediss://` URLs speak TLS. The password is the URL's, or the value
    /// of the Secrets Manager secret `password_secret_arn` (ElastiCache's
    /// RBAC users, terraform/modules/user-storage-redis), which replaces it.
    Redis {
        url: String,
        prefix: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_secret_arn: Option<String>,
    },
}

impl UserStoreConfig {
    /// The short name used in configuration and reports: `s3`, `dynamodb`, `redis`.
    pub fn kind(&self) -> &'static str {
        match self {
            UserStoreConfig::S3 { .. } => "s3",
            UserStoreConfig::Dynamodb { .. } => "dynamodb",
            UserStoreConfig::Redis { .. } => "redis",
        }
    }
}

/// Everything a client needs to use a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The deployment's name; every resource name starts with it.
    pub name: String,
    pub region: String,
    /// An endpoint that replaces AWS's (the local emulator), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The writer FIFO queue clients send writes to.
    pub writer_queue_url: String,
    /// DynamoDB table of node system state and the commit counter.
    pub system_table: String,
    /// DynamoDB table of sessions.
    pub sessions_table: String,
    /// Reply queues are named `<reply_queue_prefix><session>.fifo`.
    pub reply_queue_prefix: String,
    pub user_store: UserStoreConfig,
}

impl Deployment {
    /// Reads a deployment document.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
