//! Provisioning creates the stack's resources idempotently, under the names
//! the deployment document and the functions' environment give.

mod common;

use aws_sdk_sqs::types::QueueAttributeName as Q;
use common::REGION;
use fk_aws::deployment::UserStoreConfig;
use fk_local::{provision, StackConfig, StoreKind};

fn config(store: StoreKind) -> StackConfig {
    StackConfig {
        name: fk_testkit::unique_name("stack"),
        endpoint: fk_testkit::moto().endpoint.clone(),
        region: REGION.into(),
        store,
        redis_url: None,
        redis_read_url: None,
        lock_ttl_ms: 1500,
        visibility_timeout_s: 7,
        max_receive_count: 4,
    }
}

async fn queue_attributes(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> std::collections::HashMap<Q, String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(Q::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default()
}

async fn partition_key(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> String {
    let out = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let table = out.table.unwrap();
    assert_eq!(
        table
            .billing_mode_summary
            .and_then(|b| b.billing_mode)
            .map(|m| m.as_str().to_owned()),
        Some("PAY_PER_REQUEST".to_owned())
    );
    table.key_schema.unwrap()[0].attribute_name.clone()
}

#[tokio::test]
async fn provisioning_twice_gives_one_stack_with_the_expected_names() {
    // given an s3 stack configuration
    let cfg = config(StoreKind::S3);
    let name = cfg.name.clone();

    // when it is provisioned twice
    let first = provision(&cfg).await.unwrap();
    let second = provision(&cfg).await.unwrap();

    // then the second run finds the same resources
    assert_eq!(first.deployment, second.deployment);
    assert_eq!(first.writer_env, second.writer_env);
    let d = &first.deployment;
    assert_eq!(d.system_table, format!("{name}-system"));
    assert_eq!(d.sessions_table, format!("{name}-sessions"));
    assert_eq!(d.reply_queue_prefix, format!("{name}-reply-"));
    assert_eq!(d.endpoint.as_deref(), Some(cfg.endpoint.as_str()));
    assert!(d.writer_queue_url.ends_with(&format!("{name}-writer.fifo")));
    assert!(first
        .distributor_queue_url
        .ends_with(&format!("{name}-distributor.fifo")));
    assert!(first
        .writer_dlq_url
        .ends_with(&format!("{name}-writer-dlq.fifo")));
    assert!(first
        .distributor_dlq_url
        .ends_with(&format!("{name}-distributor-dlq.fifo")));
    assert_eq!(
        d.user_store,
        UserStoreConfig::S3 {
            bucket: format!("{name}-user")
        }
    );

    // and the resources exist as specified
    let sdk = fk_aws::clients::sdk_config(Some(&cfg.endpoint), REGION).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    for (url, dlq) in [
        (&d.writer_queue_url, &first.writer_dlq_url),
        (&first.distributor_queue_url, &first.distributor_dlq_url),
        (&first.watch_queue_url, &first.watch_dlq_url),
    ] {
        let attrs = queue_attributes(&sqs, url).await;
        assert_eq!(attrs[&Q::FifoQueue], "true");
        assert_eq!(attrs[&Q::ContentBasedDeduplication], "false");
        assert_eq!(attrs[&Q::VisibilityTimeout], "7");
        let redrive: serde_json::Value = serde_json::from_str(&attrs[&Q::RedrivePolicy]).unwrap();
        let dlq_arn = &queue_attributes(&sqs, dlq).await[&Q::QueueArn];
        assert_eq!(redrive["deadLetterTargetArn"], dlq_arn.as_str());
        assert_eq!(
            redrive["maxReceiveCount"].to_string().trim_matches('"'),
            "4"
        );
    }
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    assert_eq!(partition_key(&dynamodb, &d.system_table).await, "path");
    assert_eq!(partition_key(&dynamodb, &d.sessions_table).await, "session");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    s3.head_bucket()
        .bucket(format!("{name}-user"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn each_function_gets_the_stack_and_its_own_dead_letter_queue_in_its_environment() {
    let p = provision(&config(StoreKind::S3)).await.unwrap();
    let w = &p.writer_env;
    assert_eq!(w["FK_SYSTEM_TABLE"], p.deployment.system_table);
    assert_eq!(w["FK_SESSIONS_TABLE"], p.deployment.sessions_table);
    assert_eq!(w["FK_DISTRIBUTOR_QUEUE_URL"], p.distributor_queue_url);
    assert_eq!(w["FK_USER_STORE"], "s3");
    assert_eq!(w["FK_USER_BUCKET"], format!("{}-user", p.deployment.name));
    assert_eq!(w["FK_LOCK_TTL_MS"], "1500");
    let transport = std::env::var("FK_AWS_TRANSPORT").unwrap_or_else(|_| "lean".into());
    assert_eq!(
        w["FK_AWS_TRANSPORT"], transport,
        "Terraform's default unless told otherwise"
    );
    assert_eq!(w["FK_AWS_ENDPOINT"], fk_testkit::moto().endpoint);
    assert_eq!(w["AWS_REGION"], REGION);
    assert_eq!(w["FK_DEAD_LETTER_QUEUE_URL"], p.writer_dlq_url);
    assert_eq!(
        p.distributor_env["FK_DEAD_LETTER_QUEUE_URL"],
        p.distributor_dlq_url
    );
    assert_eq!(p.distributor_env["FK_WATCH_QUEUE_URL"], p.watch_queue_url);
    assert_eq!(p.watch_env["FK_DEAD_LETTER_QUEUE_URL"], p.watch_dlq_url);
    let mut rest = p.distributor_env.clone();
    rest.insert("FK_DEAD_LETTER_QUEUE_URL".into(), p.writer_dlq_url.clone());
    rest.remove("FK_WATCH_QUEUE_URL");
    assert_eq!(&rest, w);
}

#[tokio::test]
async fn the_dynamodb_store_gets_a_user_table() {
    let cfg = config(StoreKind::Dynamodb);
    let p = provision(&cfg).await.unwrap();
    let table = format!("{}-user", cfg.name);
    assert_eq!(
        p.deployment.user_store,
        UserStoreConfig::Dynamodb {
            table: table.clone()
        }
    );
    assert_eq!(p.writer_env["FK_USER_TABLE"], table);
    let sdk = fk_aws::clients::sdk_config(Some(&cfg.endpoint), REGION).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    assert_eq!(partition_key(&dynamodb, &table).await, "path");
}

#[tokio::test]
async fn the_redis_store_needs_a_url_and_keys_go_under_the_stack_name() {
    let mut cfg = config(StoreKind::Redis);
    let error = provision(&cfg).await.unwrap_err();
    assert!(format!("{error:#}").contains("Redis URL"), "{error:#}");

    cfg.redis_url = Some("redis://127.0.0.1:6379".into());
    let p = provision(&cfg).await.unwrap();
    assert_eq!(
        p.deployment.user_store,
        UserStoreConfig::Redis {
            url: "redis://127.0.0.1:6379".into(),
            prefix: cfg.name.clone(),
            password_secret_arn: None,
        }
    );
    assert_eq!(p.writer_env["FK_REDIS_URL"], "redis://127.0.0.1:6379");
    assert_eq!(p.writer_env["FK_REDIS_PREFIX"], cfg.name);
}
