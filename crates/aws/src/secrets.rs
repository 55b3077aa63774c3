//! Secrets Manager: the one secret a deployment may hold, the password of
//! an ElastiCache RBAC user (terraform/modules/user-storage-redis).

use fk_core::StoreError;

use crate::errors;

/// The string value of the secret `arn` (its current version).
pub async fn string(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<String, StoreError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| errors::sdk(errors::SECRETS_MANAGER, "GetSecretValue", e))?;
    out.secret_string
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            StoreError::permanent(
                errors::SECRETS_MANAGER,
                format!("secret {arn} has no string value (a Redis password is a string)"),
            )
        })
}
