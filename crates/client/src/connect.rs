//! Connecting: the SDK clients and the user store, built once,
//! and one cheap call to each resource of the deployment, so that a
//! deployment document naming a missing queue, table or bucket (or
//! credentials that may not use them) fails at connect, naming the
//! resource, rather than at the first write or, for a wrong bucket, as
//! `NoNode` on every read.

use std::sync::Arc;

use fk_aws::calls::CallCounter;
use fk_aws::clients::{sdk_config, Clients};
use fk_aws::deployment::{Deployment, UserStoreConfig};
use fk_aws::sqs::ReplyQueue;
use fk_aws::system::DynamoSystemStore;
use fk_core::system::{SessionRecord, SystemStore as _};
use fk_core::{SessionId, UserStore};

use crate::client::{Inner, Session};
use crate::options::ConnectOptions;
use crate::outbox::{Destination, Outbox};
use crate::session::{spawn_keepalive, spawn_listener, Pending};
use crate::state::{SessionState, Status};
use crate::watches::Registry;
use crate::{Client, Code, Error};

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
/// used: the user store always (S3: HeadBucket; DynamoDB: a GetItem of no
/// node; Redis: a read of the root); with a session, also the writer queue and
/// the system table (the sessions table is checked by opening the
/// session). One call each, none of which changes anything.
pub(crate) async fn check(
    deployment: &Deployment,
    backends: &Backends,
    with_session: bool,
) -> Result<(), Error> {
    let user = async {
        let checked = match &deployment.user_store {
            #[cfg(feature = "s3")]
            UserStoreConfig::S3 { bucket } => {
                fk_aws::probe::bucket(&backends.clients.s3, bucket).await
            }
            UserStoreConfig::Dynamodb { table } => {
                fk_aws::probe::user_table(&backends.clients.dynamodb, table).await
            }
            // Redis: connecting (which logs in) was the check of the server;
            // a read of the root is the check of the permission to read.
            _ => backends.user.get(fk_core::path::ROOT).await.map(|_| ()),
        };
        checked.map_err(|e| Error::store(user_store(deployment), e))
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

impl Client {
    /// Checks the deployment's resources, creates the reply queue (at the
    /// same time) and registers the session.
    pub(crate) async fn open(
        deployment: &Deployment,
        options: ConnectOptions,
    ) -> Result<Client, Error> {
        let backends = open(deployment).await?;
        let id = SessionId::random();
        let queue_name = format!(
            "{}{}.fifo",
            deployment.reply_queue_prefix,
            id.to_string().trim_start_matches("0x")
        );
        let (checked, created) = tokio::join!(
            check(deployment, &backends, true),
            ReplyQueue::create(backends.clients.sqs.clone(), &queue_name),
        );
        let reply_queue = match (checked, created) {
            (Ok(()), Ok(queue)) => Arc::new(queue),
            (Err(e), created) => {
                if let Ok(queue) = created {
                    let _ = queue.delete().await;
                }
                return Err(e);
            }
            (Ok(()), Err(e)) => return Err(Error::store(reply_queue(&queue_name), e)),
        };
        let system = DynamoSystemStore::new(
            backends.clients.dynamodb.clone(),
            deployment.system_table.clone(),
            deployment.sessions_table.clone(),
        );
        let record = SessionRecord {
            id,
            timeout_ms: options.session_timeout.as_millis() as i64,
            reply_to: reply_queue.url.clone(),
            last_seq: 0,
            refused: Vec::new(),
            ephemerals: Vec::new(),
            heartbeat_ms: fk_core::Clock::now_ms(&fk_core::SystemClock),
        };
        let created = match system.create_session(&record).await {
            Ok(created) => created,
            Err(e) => {
                let _ = reply_queue.delete().await;
                return Err(Error::store(sessions_table(deployment), e));
            }
        };
        if !created {
            // 62 random bits collided: vanishingly rare, and safe to refuse.
            let _ = reply_queue.delete().await;
            return Err(Error::because(Code::SystemError, "session id collision"));
        }
        Ok(Client::with_session(
            deployment,
            backends,
            options,
            id,
            reply_queue,
            system,
            0,
        ))
    }

    pub(crate) async fn open_read_only(
        deployment: &Deployment,
        options: ConnectOptions,
    ) -> Result<Client, Error> {
        let backends = open(deployment).await?;
        check(deployment, &backends, false).await?;
        Ok(Client {
            inner: Arc::new(Inner {
                deployment: deployment.clone(),
                user: backends.user,
                calls: backends.calls,
                options,
                session: None,
                read_only: Status::new(SessionState::ReadOnly),
            }),
        })
    }
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

impl Client {
    /// A client on session `id`, whose reply queue and record exist: starts
    /// its listener and keep-alive. `last_seq` is the seq the next write
    /// goes above (0 for a new session).
    pub(crate) fn with_session(
        deployment: &Deployment,
        backends: Backends,
        options: ConnectOptions,
        id: SessionId,
        reply_queue: Arc<ReplyQueue>,
        system: DynamoSystemStore,
        last_seq: u64,
    ) -> Client {
        let pending = Arc::new(Pending::default());
        let watches = Arc::new(Registry::new());
        let status = Arc::new(Status::new(SessionState::Connected));
        let listener = spawn_listener(
            reply_queue.clone(),
            id,
            pending.clone(),
            watches.clone(),
            status.clone(),
        );
        let keepalive = spawn_keepalive(
            system.clone(),
            id,
            options.session_timeout,
            status.clone(),
            watches.clone(),
        );
        let Backends {
            clients,
            user,
            calls,
        } = backends;
        let outbox = Outbox::start(
            Destination {
                sqs: clients.sqs.clone(),
                queue_url: deployment.writer_queue_url.clone(),
                group: id.to_string(),
                resource: writer_queue(deployment),
                policy: options.retry_policy,
                max_batch: options.max_batch_sends(deployment.user_store.kind()),
            },
            last_seq,
        );
        Client {
            inner: Arc::new(Inner {
                deployment: deployment.clone(),
                user,
                calls,
                options,
                session: Some(Session {
                    id,
                    clients,
                    reply_queue,
                    pending,
                    outbox,
                    listener,
                    keepalive,
                    status,
                    system,
                    watches,
                }),
                read_only: Status::new(SessionState::ReadOnly),
            }),
        }
    }
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
