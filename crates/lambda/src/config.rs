//! Typed configuration from environment variables.

use std::str::FromStr;

use fk_aws::deployment::UserStoreConfig;
use fk_aws::env;

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// Where variables come from: the process environment, or a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<S: std::hash::BuildHasher> Source for std::collections::HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::HashMap::get(self, name).cloned()
    }
}

/// A required variable.
pub fn required(src: &dyn Source, name: &'static str) -> Result<String, ConfigError> {
    src.get(name).ok_or(ConfigError::Missing(name))
}

/// An optional variable parsed as `T`, or `default`.
pub fn parsed_or<T: FromStr>(
    src: &dyn Source,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match src.get(name) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: e.to_string(),
            value,
        }),
    }
}

/// Where AWS is: the region and an optional emulator endpoint.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    pub region: String,
    pub endpoint: Option<String>,
}

impl AwsConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(AwsConfig {
            region: required(src, env::REGION)?,
            endpoint: src.get(env::AWS_ENDPOINT),
        })
    }
}

/// The user store named by `FK_USER_STORE` and its own variables.
pub fn user_store(src: &dyn Source) -> Result<UserStoreConfig, ConfigError> {
    let kind = required(src, env::USER_STORE)?;
    match kind.as_str() {
        "s3" => Ok(UserStoreConfig::S3 {
            bucket: required(src, env::USER_BUCKET)?,
        }),
        "dynamodb" => Ok(UserStoreConfig::Dynamodb {
            table: required(src, env::USER_TABLE)?,
        }),
        "redis" => Ok(UserStoreConfig::Redis {
            url: required(src, env::REDIS_URL)?,
            prefix: src.get(env::REDIS_PREFIX).unwrap_or_else(|| "fk".into()),
            password_secret_arn: src.get(env::REDIS_PASSWORD_SECRET_ARN),
        }),
        _ => Err(ConfigError::Invalid {
            name: env::USER_STORE,
            value: kind,
            reason: "expected s3, dynamodb or redis".into(),
        }),
    }
}

/// The largest node data the user store named by `FK_USER_STORE` holds;
/// the writer enforces it without needing the store itself.
pub fn max_data_len(src: &dyn Source) -> Result<usize, ConfigError> {
    let kind = required(src, env::USER_STORE)?;
    match kind.as_str() {
        "s3" => Ok(fk_aws::user::S3_MAX_DATA),
        "dynamodb" => Ok(fk_aws::user::DYNAMODB_MAX_DATA),
        "redis" => Ok(fk_aws::user::REDIS_MAX_DATA),
        _ => Err(ConfigError::Invalid {
            name: env::USER_STORE,
            value: kind,
            reason: "expected s3, dynamodb or redis".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = user_store(&vars(&[("FK_USER_STORE", "s3")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable FK_USER_BUCKET is not set"
        );
    }

    #[test]
    fn an_unknown_store_is_refused_with_the_choices() {
        let err = user_store(&vars(&[("FK_USER_STORE", "ftp")])).unwrap_err();
        assert!(err.to_string().contains("expected s3, dynamodb or redis"));
    }

    #[test]
    fn a_malformed_number_is_refused() {
        let err = parsed_or(
            &vars(&[("FK_LOCK_TTL_MS", "soon")]),
            "FK_LOCK_TTL_MS",
            5000i64,
        )
        .unwrap_err();
        assert!(err.to_string().contains("FK_LOCK_TTL_MS"));
    }

    #[test]
    fn redis_gets_a_default_prefix() {
        let cfg = user_store(&vars(&[
            ("FK_USER_STORE", "redis"),
            ("FK_REDIS_URL", "redis://127.0.0.1:1/"),
        ]))
        .unwrap();
        assert_eq!(
            cfg,
            UserStoreConfig::Redis {
                url: "redis://127.0.0.1:1/".into(),
                prefix: "fk".into(),
                password_secret_arn: None,
            }
        );
    }
}
