//! What connecting checks: the SDK clients and the user store, built once,
//! and one cheap call to each resource of the deployment, so that a
//! deployment document naming a missing queue, table or bucket (or
//! credentials that may not use them) fails at connect, naming the
//! resource, rather than at the first write or, for a wrong bucket, as
//! `NoNode` on every read.

use std::sync::Arc;

use fk_aws::calls::CallCounter;
use fk_aws::clients::{sdk_config, Clients};
use fk_aws::deployment::{Deployment, UserStoreConfig};
use fk_core::UserStore;

use crate::{Code, Error};

/// The backends a client talks to.
pub(crate) struct Backends {
    pub clients: Clients,
    pub user: Arc<dyn UserStore>,
    pub calls: CallCounter,
}

/// Builds the SDK clients and opens the user store (for Redis, a
/// connection).
pub(crate) async fn open(deployment: &Deployment) -> Result<Backends, Error> {
    if let Some(feature) = fk_aws::user::missing_feature(&deployment.user_store) {
        return Err(Error::because(
            Code::Unimplemented,
            format!(
                "this build of fk-client cannot read a {feature} user store: \
                 enable its cargo feature `{feature}`"
            ),
        ));
    }
    let calls = CallCounter::new();
    let sdk = sdk_config(deployment.endpoint.as_deref(), &deployment.region).await;
    let clients = Clients::new(&sdk, &calls);
    let user = fk_aws::user::connect(&deployment.user_store, &clients, &calls)
        .await
        .map_err(|e| Error::store(user_store(deployment), e))?;
    Ok(Backends {
        clients,
        user,
        calls,
    })
}

/// Checks, concurrently, that the resources a client uses exist and may be
/// used: the user store always; with a session, also the writer queue and
/// the system table (the sessions table is checked by opening the
/// session). One call each, none of which changes anything.
pub(crate) async fn check(
    deployment: &Deployment,
    backends: &Backends,
    with_session: bool,
) -> Result<(), Error> {
    let user = async {
        backends
            .user
            .get(fk_core::path::ROOT)
            .await
            .map(|_| ())
            .map_err(|e| Error::store(user_store(deployment), e))
    };
    let queue = async {
        if !with_session {
            return Ok(());
        }
        fk_aws::probe::queue(&backends.clients.sqs, &deployment.writer_queue_url)
            .await
            .map_err(|e| Error::store(writer_queue(deployment), e))
    };
    let system = async {
        if !with_session {
            return Ok(());
        }
        fk_aws::probe::system_table(&backends.clients.dynamodb, &deployment.system_table)
            .await
            .map_err(|e| Error::store(system_table(deployment), e))
    };
    tokio::try_join!(user, queue, system).map(|_| ())
}

pub(crate) fn writer_queue(deployment: &Deployment) -> String {
    format!("the writer queue {}", deployment.writer_queue_url)
}

pub(crate) fn system_table(deployment: &Deployment) -> String {
    format!("the system table {}", deployment.system_table)
}

pub(crate) fn sessions_table(deployment: &Deployment) -> String {
    format!("the sessions table {}", deployment.sessions_table)
}

pub(crate) fn reply_queue(name: &str) -> String {
    format!("the session's reply queue {name}")
}

/// The user store, as a message names it: never with a password.
pub(crate) fn user_store(deployment: &Deployment) -> String {
    match &deployment.user_store {
        UserStoreConfig::S3 { bucket } => format!("the user store's S3 bucket {bucket}"),
        UserStoreConfig::Dynamodb { table } => format!("the user store's DynamoDB table {table}"),
        UserStoreConfig::Redis { url, .. } => {
            format!("the user store's Redis server {}", without_userinfo(url))
        }
    }
}

/// `scheme://user:password@host/…` without `user:password@`.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_url_is_named_without_its_password() {
        assert_eq!(
            without_userinfo("rediss://client:s3cret@cache.example:6379/0"),
            "rediss://cache.example:6379/0"
        );
        assert_eq!(
            without_userinfo("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
