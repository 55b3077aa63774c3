//! [`UserStore`] adapters: what clients read directly. Every read is
//! strongly consistent and every [`UserWrite`](fk_core::user::UserWrite)
//! idempotent, so a redelivered commit may apply it again.

#[cfg(feature = "dynamodb")]
mod dynamodb;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "s3")]
mod s3;

use std::sync::Arc;

use fk_core::{StoreError, UserStore};

use crate::calls::CallCounter;
use crate::clients::Clients;
use crate::deployment::UserStoreConfig;

/// How a batch of user-storage writes splits into DynamoDB transactions,
/// for models of the design that count them (`make bench`).
#[cfg(feature = "dynamodb")]
pub use self::dynamodb::chunks as dynamodb_transactions;
#[cfg(feature = "dynamodb")]
pub use self::dynamodb::DynamoUserStore;
#[cfg(feature = "redis")]
pub use self::redis::{RedisAccess, RedisUserStore};
#[cfg(feature = "s3")]
pub use self::s3::{object_key as s3_object_key, S3UserStore};

/// The largest node data in S3. An object may be far larger; this keeps a
/// node within a Lambda payload and the client's memory.
pub const S3_MAX_DATA: usize = 1_000_000;
/// The largest node data in DynamoDB: an item is at most 400 KB, with the
/// stat and the child names beside the data.
pub const DYNAMODB_MAX_DATA: usize = 300_000;
/// The largest node data in Redis, as in S3.
pub const REDIS_MAX_DATA: usize = 1_000_000;

/// The cargo feature of this crate that the user store `cfg` needs, if
/// this build left it out.
pub fn missing_feature(cfg: &UserStoreConfig) -> Option<&'static str> {
    let built = match cfg {
        UserStoreConfig::S3 { .. } => cfg!(feature = "s3"),
        UserStoreConfig::Dynamodb { .. } => cfg!(feature = "dynamodb"),
        UserStoreConfig::Redis { .. } => cfg!(feature = "redis"),
    };
    (!built).then(|| cfg.kind())
}

/// The user store `cfg` names, counting its calls with `counter` (the AWS
/// ones count through `clients`' interceptors). A store whose feature
/// this build left out is a permanent error naming the feature.
// Built without any store, every arm returns early.
#[allow(unreachable_code)]
pub async fn connect(
    cfg: &UserStoreConfig,
    clients: &Clients,
    counter: &CallCounter,
) -> Result<Arc<dyn UserStore>, StoreError> {
    let _ = (clients, counter);
    Ok(match cfg {
        #[cfg(feature = "s3")]
        UserStoreConfig::S3 { bucket } => Arc::new(
            S3UserStore::new(clients.s3.clone(), bucket).with_lean(clients.lean_s3(bucket)),
        ),
        #[cfg(feature = "dynamodb")]
        UserStoreConfig::Dynamodb { table } => Arc::new(
            DynamoUserStore::new(clients.dynamodb.clone(), table)
                .with_lean(clients.lean_dynamodb.clone()),
        ),
        #[cfg(feature = "redis")]
        UserStoreConfig::Redis {
            url,
            prefix,
            password_secret_arn,
        } => {
            let access = RedisAccess {
                password: match password_secret_arn {
                    Some(arn) => Some(crate::secrets::string(&clients.secrets, arn).await?),
                    None => None,
                },
                ca_pem: redis_ca_from_env()?,
            };
            Arc::new(RedisUserStore::connect_with(url, prefix, &access, counter).await?)
        }
        #[allow(unreachable_patterns)]
        other => {
            return Err(StoreError::permanent(
                other.kind(),
                format!(
                    "this build has no {} user store (the fk-aws feature `{}`)",
                    other.kind(),
                    other.kind()
                ),
            ))
        }
    })
}

/// The CA certificate `FK_REDIS_CA_FILE` names, if it is set.
#[cfg(feature = "redis")]
fn redis_ca_from_env() -> Result<Option<Vec<u8>>, StoreError> {
    let Some(path) = std::env::var_os(crate::env::REDIS_CA_FILE) else {
        return Ok(None);
    };
    std::fs::read(&path).map(Some).map_err(|e| {
        StoreError::permanent(
            crate::errors::REDIS,
            format!(
                "{} ({}): {e}",
                crate::env::REDIS_CA_FILE,
                std::path::Path::new(&path).display()
            ),
        )
    })
}
