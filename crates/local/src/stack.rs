//! Provisioning a whole stack in the emulator: what Terraform creates in
//! AWS, under the same names, plus the environment each function gets.

use std::collections::BTreeMap;

use anyhow::Context as _;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use fk_aws::deployment::{Deployment, UserStoreConfig};
use fk_aws::env;

use crate::queues;

/// Where node data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// One S3 object per node (bucket `<name>-user`).
    S3,
    /// One DynamoDB item per node (table `<name>-user`).
    Dynamodb,
    /// A Redis server (keys under `<name>:`); nothing to create.
    Redis,
}

/// What to provision.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Prefix of every resource name: lowercase letters, digits and `-`.
    pub name: String,
    /// The emulator's endpoint.
    pub endpoint: String,
    pub region: String,
    pub store: StoreKind,
    /// Required for [`StoreKind::Redis`]: the functions' user, which may
    /// write.
    pub redis_url: Option<String>,
    /// The clients' (read-only) user of the same server, which goes into
    /// the deployment document; `None`: clients use `redis_url` too.
    pub redis_read_url: Option<String>,
    /// Lifetime of a node lock (`FK_LOCK_TTL_MS`).
    pub lock_ttl_ms: i64,
    /// Of both FIFO queues: how long a received message stays invisible.
    pub visibility_timeout_s: i32,
    /// Receives without a delete before a message moves to its DLQ.
    pub max_receive_count: i32,
}

/// The provisioned stack: what clients need, and what the functions need.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// Its `reply_queue_prefix` is `<name>-reply-`.
    pub deployment: Deployment,
    pub distributor_queue_url: String,
    pub writer_dlq_url: String,
    pub distributor_dlq_url: String,
    /// The queue that feeds the watch function.
    pub watch_queue_url: String,
    pub watch_dlq_url: String,
    /// The writer function's environment (see `fk_aws::env`).
    pub writer_env: BTreeMap<String, String>,
    /// The distributor function's environment.
    pub distributor_env: BTreeMap<String, String>,
    /// The heartbeat function's environment.
    pub heartbeat_env: BTreeMap<String, String>,
    /// The watch function's environment.
    pub watch_env: BTreeMap<String, String>,
}

/// Creates every resource of the stack unless it exists (and brings queue
/// settings to `cfg`'s): the system and sessions tables, the user bucket or
/// table, and the writer, distributor and watch FIFO queues with their DLQs.
pub async fn provision(cfg: &StackConfig) -> anyhow::Result<Provisioned> {
    check_name(&cfg.name)?;
    let name = &cfg.name;
    let sdk = fk_aws::clients::sdk_config(Some(&cfg.endpoint), &cfg.region).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    let system_table = format!("{name}-system");
    let sessions_table = format!("{name}-sessions");
    let user_name = format!("{name}-user");
    let user_store = match cfg.store {
        StoreKind::S3 => {
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .build(),
            );
            create_bucket(&s3, &user_name, &cfg.region).await?;
            UserStoreConfig::S3 { bucket: user_name }
        }
        StoreKind::Dynamodb => UserStoreConfig::Dynamodb { table: user_name },
        StoreKind::Redis => {
            let url = cfg
                .redis_url
                .clone()
                .context("the redis user store needs a Redis URL")?;
            UserStoreConfig::Redis {
                url: cfg.redis_read_url.clone().unwrap_or(url),
                prefix: name.clone(),
                password_secret_arn: None,
            }
        }
    };
    let user_table = match &user_store {
        UserStoreConfig::Dynamodb { table } => Some(table.as_str()),
        _ => None,
    };
    fk_aws::schema::create_tables(&dynamodb, &system_table, &sessions_table, user_table)
        .await
        .context("cannot create the DynamoDB tables")?;

    let writer = queues::fifo_with_dlq(
        &sqs,
        &format!("{name}-writer"),
        cfg.visibility_timeout_s,
        cfg.max_receive_count,
    )
    .await?;
    let distributor = queues::fifo_with_dlq(
        &sqs,
        &format!("{name}-distributor"),
        cfg.visibility_timeout_s,
        cfg.max_receive_count,
    )
    .await?;
    let watch = queues::fifo_with_dlq(
        &sqs,
        &format!("{name}-watch"),
        cfg.visibility_timeout_s,
        cfg.max_receive_count,
    )
    .await?;

    let deployment = Deployment {
        name: name.clone(),
        region: cfg.region.clone(),
        endpoint: Some(cfg.endpoint.clone()),
        writer_queue_url: writer.url.clone(),
        system_table,
        sessions_table,
        reply_queue_prefix: format!("{name}-reply-"),
        user_store,
    };
    let common = common_env(cfg, &deployment, &distributor.url);
    let with_dlq = |dlq: &str| {
        let mut env = common.clone();
        env.insert(env::DEAD_LETTER_QUEUE_URL.into(), dlq.into());
        env
    };
    let mut heartbeat_env = common.clone();
    heartbeat_env.insert(env::WRITER_QUEUE_URL.into(), writer.url.clone());
    let mut distributor_env = with_dlq(&distributor.dlq_url);
    distributor_env.insert(env::WATCH_QUEUE_URL.into(), watch.url.clone());
    Ok(Provisioned {
        heartbeat_env,
        writer_env: with_dlq(&writer.dlq_url),
        distributor_env,
        // The watch function reads the session and system tables only
        // (what terraform/modules/faaskeeper gives it).
        watch_env: with_dlq(&watch.dlq_url)
            .into_iter()
            .filter(|(k, _)| {
                [
                    env::AWS_ENDPOINT,
                    env::REGION,
                    env::SYSTEM_TABLE,
                    env::SESSIONS_TABLE,
                    env::DEAD_LETTER_QUEUE_URL,
                ]
                .contains(&k.as_str())
            })
            .collect(),
        deployment,
        distributor_queue_url: distributor.url,
        writer_dlq_url: writer.dlq_url,
        distributor_dlq_url: distributor.dlq_url,
        watch_queue_url: watch.url,
        watch_dlq_url: watch.dlq_url,
    })
}

/// The variables both functions read.
fn common_env(
    cfg: &StackConfig,
    deployment: &Deployment,
    distributor_queue_url: &str,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::from([
        (env::AWS_ENDPOINT, cfg.endpoint.clone()),
        (env::REGION, cfg.region.clone()),
        (env::SYSTEM_TABLE, deployment.system_table.clone()),
        (env::SESSIONS_TABLE, deployment.sessions_table.clone()),
        (env::DISTRIBUTOR_QUEUE_URL, distributor_queue_url.to_owned()),
        (env::LOCK_TTL_MS, cfg.lock_ttl_ms.to_string()),
        // Terraform's default (`group_commit`).
        (env::GROUP_COMMIT, "true".to_owned()),
        // Terraform's default (`aws_transport`), unless this process is told
        // otherwise: `FK_AWS_TRANSPORT=sdk` compares the two on one build.
        (
            env::AWS_TRANSPORT,
            std::env::var(env::AWS_TRANSPORT).unwrap_or_else(|_| "lean".to_owned()),
        ),
        (env::USER_STORE, deployment.user_store.kind().to_owned()),
    ]);
    match &deployment.user_store {
        UserStoreConfig::S3 { bucket } => vars.insert(env::USER_BUCKET, bucket.clone()),
        UserStoreConfig::Dynamodb { table } => vars.insert(env::USER_TABLE, table.clone()),
        UserStoreConfig::Redis { url, prefix, .. } => {
            // The functions write: their own user, not the clients'.
            let url = cfg.redis_url.clone().unwrap_or_else(|| url.clone());
            vars.insert(env::REDIS_URL, url);
            vars.insert(env::REDIS_PREFIX, prefix.clone())
        }
    };
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Every resource name starts with `name`; S3 is the strictest about it.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = (3..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    anyhow::ensure!(
        ok,
        "stack name {name:?}: use 3 to 40 lowercase letters, digits and '-', starting with a letter or digit"
    );
    Ok(())
}

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str, region: &str) -> anyhow::Result<()> {
    let mut request = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(CreateBucketError::BucketAlreadyOwnedByYou(_))
            ) =>
        {
            Ok(())
        }
        Err(err) => Err(anyhow::anyhow!(
            "CreateBucket {bucket}: {}",
            DisplayErrorContext(err)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_s3_would_refuse_are_refused() {
        assert!(check_name("fk-local").is_ok());
        assert!(check_name("FK").is_err());
        assert!(check_name("-fk").is_err());
        assert!(check_name("fk_local").is_err());
    }
}
