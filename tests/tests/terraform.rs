//! The local stack as Terraform creates it (`terraform/stacks/local`): the
//! real writer, distributor and watch functions, given the environments the
//! configuration outputs, serve a client that knows only the configuration's
//! `client_config`; and what the configuration created carries the settings
//! it promises (FIFO queues without content-based deduplication, encrypted,
//! each redriven to its dead-letter queue, and the heartbeat's encrypted
//! standard failure queue; encrypted tables with
//! point-in-time recovery; IAM policies that name every action and grant
//! each principal the calls its code makes, no more).
//!
//! `make test` applies the configuration into its emulator and runs this
//! with `FK_TF_LOCAL_OUTPUTS` (the file `terraform output -json` wrote) and
//! `FK_REQUIRE_TERRAFORM=1` (scripts/terraform.sh). Without the outputs the
//! test says why it did nothing, and fails only when they are required.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;

use fk_client::{Client, Code, CreateMode, EventType};
use fk_e2e::binary;
use fk_local::{FunctionSpec, RunnerConfig, TerraformStack};

/// The applied stack, or `None` (with the reason printed) when there is none.
fn applied_stack() -> Option<(TerraformStack, PathBuf)> {
    let Some(path) = std::env::var_os("FK_TF_LOCAL_OUTPUTS") else {
        assert!(
            std::env::var("FK_REQUIRE_TERRAFORM").as_deref() != Ok("1"),
            "FK_REQUIRE_TERRAFORM=1 but FK_TF_LOCAL_OUTPUTS is not set: apply \
             terraform/stacks/local and point it at `terraform output -json` \
             (scripts/terraform.sh around does both)"
        );
        eprintln!(
            "skipped: FK_TF_LOCAL_OUTPUTS is not set, so no Terraform-applied stack to test \
             (`make test` applies one; scripts/terraform.sh around STATE -- cargo test)"
        );
        return None;
    };
    let path = PathBuf::from(path);
    let stack = TerraformStack::from_outputs_file(&path).expect("the Terraform outputs");
    // The functions' logs go beside the outputs, where a failure leaves them.
    let logs = path.parent().unwrap_or(Path::new(".")).join("logs");
    Some((stack, logs))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terraform_applied_stack_serves_writes_reads_and_watch_events() {
    let Some((stack, log_dir)) = applied_stack() else {
        return;
    };
    let deployment = stack.deployment.clone();
    let endpoint = deployment
        .endpoint
        .clone()
        .expect("the local configuration names its emulator");
    std::fs::create_dir_all(&log_dir).unwrap();
    let timeout = Duration::from_secs(8);
    let runner = fk_local::start(RunnerConfig {
        endpoint,
        region: deployment.region.clone(),
        log_dir: log_dir.clone(),
        functions: vec![
            FunctionSpec {
                name: "writer".into(),
                binary: binary("fk-writer"),
                queue_url: deployment.writer_queue_url.clone(),
                batch_size: 10,
                instances: 1,
                env: stack.environment("writer").unwrap().clone(),
                timeout,
            },
            FunctionSpec {
                name: "distributor".into(),
                binary: binary("fk-distributor"),
                queue_url: stack.distributor_queue_url().unwrap().to_string(),
                batch_size: 10,
                instances: 1,
                env: stack.environment("distributor").unwrap().clone(),
                timeout,
            },
            FunctionSpec {
                name: "watch".into(),
                binary: binary("fk-watch"),
                queue_url: stack.environment("distributor").unwrap()["FK_WATCH_QUEUE_URL"].clone(),
                batch_size: 10,
                instances: 1,
                env: stack.environment("watch").unwrap().clone(),
                timeout,
            },
        ],
        schedules: vec![],
    })
    .await
    .expect("the runner starts");

    // Given a client that knows only the configuration's client_config,
    let zk = Client::connect(&deployment).await.expect("a session");
    eprintln!("functions' logs: {}", log_dir.display());
    let path = format!("/terraform-{}", std::process::id());

    // when it watches for a node, then creates, reads, updates and deletes it,
    let mut events = zk.subscribe().expect("a session's events");
    assert_eq!(zk.exists_and_watch(&path).await.expect("exists"), None);
    let (created, stat) = zk
        .create(&path, b"applied", CreateMode::Persistent)
        .await
        .expect("create");
    assert_eq!(created, path);
    assert_eq!(stat.version, 0);
    let (data, stat) = zk.get_data(&path).await.expect("get");
    assert_eq!(data, b"applied");
    assert_eq!(stat.version, 0);

    let stat = zk.set_data(&path, b"changed", Some(0)).await.expect("set");
    assert_eq!(stat.version, 1);
    assert_eq!(zk.get_data(&path).await.expect("get").0, b"changed");
    assert_eq!(
        zk.set_data(&path, b"stale", Some(0)).await.unwrap_err(),
        Code::BadVersion
    );

    zk.delete(&path, Some(1)).await.expect("delete");

    // then every step took effect, the node is gone, and the watch
    // function delivered the creation.
    assert_eq!(zk.get_data(&path).await.unwrap_err(), Code::NoNode);
    let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("the watch event within 20 s")
        .expect("the event stream is open");
    assert_eq!(
        (event.event_type, event.path),
        (EventType::NodeCreated, path.clone())
    );
    zk.close().await.expect("close");
    runner.stop().await;
}

/// A queue's attributes, by name.
async fn queue_attributes(sqs: &aws_sdk_sqs::Client, url: &str) -> HashMap<String, String> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetQueueAttributes {url}: {e:?}"));
    out.attributes()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str().to_string(), v.clone()))
        .collect()
}

#[tokio::test]
async fn the_terraform_applied_queues_are_encrypted_fifo_queues_redriven_to_their_dead_letter_queues(
) {
    let Some((stack, _)) = applied_stack() else {
        return;
    };
    let deployment = &stack.deployment;
    let sdk = fk_aws::clients::sdk_config(deployment.endpoint.as_deref(), &deployment.region).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    // Given each queue a function consumes, and the dead-letter queue its
    // consumer names in FK_DEAD_LETTER_QUEUE_URL,
    let dlq =
        |function: &str| stack.environment(function).unwrap()["FK_DEAD_LETTER_QUEUE_URL"].clone();
    let queues = [
        ("writer", deployment.writer_queue_url.clone(), dlq("writer")),
        (
            "distributor",
            stack.distributor_queue_url().unwrap().to_string(),
            dlq("distributor"),
        ),
        (
            "watch",
            stack.environment("distributor").unwrap()["FK_WATCH_QUEUE_URL"].clone(),
            dlq("watch"),
        ),
    ];
    for (function, queue, dead_letters) in queues {
        // when SQS describes them,
        let attributes = queue_attributes(&sqs, &queue).await;
        let dlq_attributes = queue_attributes(&sqs, &dead_letters).await;

        // then both are FIFO, deduplicated by explicit ids only, encrypted,
        for (url, a) in [(&queue, &attributes), (&dead_letters, &dlq_attributes)] {
            assert_eq!(
                a.get("FifoQueue").map(String::as_str),
                Some("true"),
                "{url}"
            );
            assert_eq!(
                a.get("ContentBasedDeduplication").map(String::as_str),
                Some("false"),
                "{url}"
            );
            assert!(
                a.get("KmsMasterKeyId").is_some_and(|k| !k.is_empty()),
                "{url} is not encrypted: {a:?}"
            );
            // and takes the largest message the writer and client accept,
            assert_eq!(
                a.get("MaximumMessageSize").map(String::as_str),
                Some(fk_core::message::MAX_MESSAGE_BYTES.to_string().as_str()),
                "{url}"
            );
        }
        // and the queue hands a message to that dead-letter queue after
        // maxReceiveCount receives.
        let redrive: serde_json::Value = serde_json::from_str(
            attributes
                .get("RedrivePolicy")
                .unwrap_or_else(|| panic!("the {function} queue has no RedrivePolicy")),
        )
        .unwrap();
        assert_eq!(
            redrive["deadLetterTargetArn"].as_str(),
            dlq_attributes.get("QueueArn").map(String::as_str),
            "the {function} queue's dead letters go elsewhere than its function's FK_DEAD_LETTER_QUEUE_URL"
        );
        assert!(redrive["maxReceiveCount"].as_u64().unwrap_or(0) >= 1);
    }

    // The heartbeat's failure queue (its on-failure destination) is
    // encrypted like the others, and standard: Lambda cannot send to FIFO.
    let name = format!("{}-heartbeat-failures", deployment.name);
    let url = sqs
        .get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetQueueUrl {name}: {e:?}"))
        .queue_url
        .unwrap_or_else(|| panic!("GetQueueUrl {name} returned no URL"));
    let attributes = queue_attributes(&sqs, &url).await;
    assert!(
        attributes
            .get("KmsMasterKeyId")
            .is_some_and(|k| !k.is_empty()),
        "{url} is not encrypted: {attributes:?}"
    );
    assert_ne!(
        attributes.get("FifoQueue").map(String::as_str),
        Some("true"),
        "{url}"
    );
}

#[tokio::test]
async fn the_terraform_applied_tables_are_encrypted_with_point_in_time_recovery() {
    let Some((stack, _)) = applied_stack() else {
        return;
    };
    let deployment = &stack.deployment;
    let sdk = fk_aws::clients::sdk_config(deployment.endpoint.as_deref(), &deployment.region).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let mut tables = vec![
        deployment.system_table.clone(),
        deployment.sessions_table.clone(),
    ];
    if let fk_aws::deployment::UserStoreConfig::Dynamodb { table } = &deployment.user_store {
        tables.push(table.clone());
    }
    for table in tables {
        let described = dynamodb
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeTable {table}: {e:?}"));
        let sse = described
            .table()
            .and_then(|t| t.sse_description())
            .and_then(|d| d.status())
            .map(|s| s.as_str().to_string());
        assert_eq!(sse.as_deref(), Some("ENABLED"), "{table} is not encrypted");

        let backups = dynamodb
            .describe_continuous_backups()
            .table_name(&table)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeContinuousBackups {table}: {e:?}"));
        let pitr = backups
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
            .map(|s| s.as_str().to_string());
        assert_eq!(
            pitr.as_deref(),
            Some("ENABLED"),
            "{table} has no point-in-time recovery"
        );
    }
}

#[test]
fn the_terraform_applied_policies_grant_named_actions_only_what_each_principal_calls() {
    let Some((stack, _)) = applied_stack() else {
        return;
    };
    let path = std::env::var_os("FK_TF_LOCAL_OUTPUTS").unwrap();
    let outputs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let granted: HashMap<String, Vec<String>> =
        serde_json::from_value(outputs["iam_actions"]["value"].clone())
            .expect("the iam_actions output: actions by principal");

    // What crates/aws, lambdas/* and crates/client call, per principal.
    let logs = ["logs:CreateLogStream", "logs:PutLogEvents"];
    let consume = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ];
    let user_store: &[&str] = match &stack.deployment.user_store {
        fk_aws::deployment::UserStoreConfig::S3 { .. } => {
            &["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
        }
        fk_aws::deployment::UserStoreConfig::Dynamodb { .. } => &["dynamodb:PutItem"],
        _ => &[],
    };
    let client_reads: &[&str] = match &stack.deployment.user_store {
        fk_aws::deployment::UserStoreConfig::S3 { .. } => &["s3:GetObject", "s3:ListBucket"],
        _ => &[],
    };
    let expected: HashMap<&str, Vec<&str>> = HashMap::from([
        (
            "writer",
            [
                &[
                    "dynamodb:GetItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                ][..],
                &["sqs:SendMessage"],
                &consume,
                &logs,
            ]
            .concat(),
        ),
        (
            "distributor",
            [
                &[
                    "dynamodb:GetItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                ][..],
                user_store,
                &["sqs:SendMessage", "sqs:DeleteQueue"],
                &consume,
                &logs,
            ]
            .concat(),
        ),
        (
            "watch",
            [&["sqs:SendMessage"][..], &consume, &logs].concat(),
        ),
        (
            "heartbeat",
            [&["dynamodb:Scan", "sqs:SendMessage"][..], &logs].concat(),
        ),
        (
            "client",
            [
                &[
                    "sqs:SendMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:CreateQueue",
                    "sqs:DeleteQueue",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:GetItem",
                ][..],
                client_reads,
            ]
            .concat(),
        ),
    ]);

    for (principal, actions) in &granted {
        assert!(
            actions.iter().all(|a| !a.contains('*')),
            "{principal} is granted a wildcard action: {actions:?}"
        );
        let mut want: Vec<String> = expected
            .get(principal.as_str())
            .unwrap_or_else(|| panic!("a policy for an unknown principal {principal}"))
            .iter()
            .map(|a| a.to_string())
            .collect();
        want.sort();
        want.dedup();
        assert_eq!(actions, &want, "the {principal}'s actions");
    }
    assert_eq!(granted.len(), expected.len(), "{granted:?}");
}

/// What a table is, beyond its name: keys, billing, encryption, backups
/// and expiry.
async fn table_shape(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> std::collections::BTreeMap<&'static str, String> {
    let described = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeTable {table}: {e:?}"));
    let t = described.table().expect("a described table");
    let backups = dynamodb
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeContinuousBackups {table}: {e:?}"));
    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeTimeToLive {table}: {e:?}"));
    let debug = |v: &dyn std::fmt::Debug| format!("{v:?}");
    std::collections::BTreeMap::from([
        ("key schema", debug(&t.key_schema())),
        ("attributes", debug(&t.attribute_definitions())),
        (
            "billing",
            debug(&t.billing_mode_summary().and_then(|b| b.billing_mode())),
        ),
        (
            "encryption",
            debug(&t.sse_description().and_then(|d| d.status())),
        ),
        (
            "point-in-time recovery",
            debug(
                &backups
                    .continuous_backups_description()
                    .and_then(|d| d.point_in_time_recovery_description())
                    .and_then(|p| p.point_in_time_recovery_status()),
            ),
        ),
        (
            "time to live",
            debug(&ttl.time_to_live_description().map(|d| {
                (
                    d.time_to_live_status().map(|s| s.as_str().to_string()),
                    d.attribute_name().map(str::to_string),
                )
            })),
        ),
    ])
}

/// What a queue is, beyond its name and the timeouts each stack chooses:
/// the attributes the write path relies on.
fn queue_shape(a: &HashMap<String, String>) -> std::collections::BTreeMap<&'static str, String> {
    let get = |k: &str| a.get(k).cloned().unwrap_or_default();
    let redrive: Option<serde_json::Value> = a
        .get("RedrivePolicy")
        .and_then(|r| serde_json::from_str(r).ok());
    std::collections::BTreeMap::from([
        ("FifoQueue", get("FifoQueue")),
        (
            "ContentBasedDeduplication",
            get("ContentBasedDeduplication"),
        ),
        ("MaximumMessageSize", get("MaximumMessageSize")),
        ("MessageRetentionPeriod", get("MessageRetentionPeriod")),
        ("DelaySeconds", get("DelaySeconds")),
        (
            "encrypted",
            (a.get("KmsMasterKeyId").is_some_and(|k| !k.is_empty())
                || get("SqsManagedSseEnabled") == "true")
                .to_string(),
        ),
        (
            "maxReceiveCount",
            redrive
                .map(|r| r["maxReceiveCount"].to_string())
                .unwrap_or_default(),
        ),
    ])
}

#[tokio::test]
async fn the_stacks_the_tests_provision_are_the_stack_terraform_applies() {
    // The end-to-end tests provision a stack per test through the SDK
    // (fk_local::provision: seconds instead of an apply, and isolated);
    // this holds that provisioning to what terraform/stacks/local makes.
    let Some((stack, _)) = applied_stack() else {
        return;
    };
    let applied = stack.to_provisioned().unwrap();
    let deployment = &stack.deployment;
    let endpoint = deployment.endpoint.clone().unwrap();
    let store = match &deployment.user_store {
        fk_aws::deployment::UserStoreConfig::S3 { .. } => fk_local::StoreKind::S3,
        fk_aws::deployment::UserStoreConfig::Dynamodb { .. } => fk_local::StoreKind::Dynamodb,
        fk_aws::deployment::UserStoreConfig::Redis { .. } => fk_local::StoreKind::Redis,
    };
    // Given a stack provisioned as the tests do, beside the applied one,
    let sdk_stack = fk_local::provision(&fk_local::StackConfig {
        name: fk_testkit::unique_name("parity"),
        endpoint: endpoint.clone(),
        region: deployment.region.clone(),
        store,
        redis_url: std::env::var("FK_REDIS_URL").ok(),
        redis_read_url: std::env::var("FK_REDIS_READ_URL").ok(),
        lock_ttl_ms: 5_000,
        visibility_timeout_s: 10,
        max_receive_count: 5,
    })
    .await
    .unwrap();
    let sdk = fk_aws::clients::sdk_config(Some(&endpoint), &deployment.region).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    let mut differences = Vec::new();
    let mut compare = |what: String,
                       terraform: std::collections::BTreeMap<&str, String>,
                       tests: std::collections::BTreeMap<&str, String>| {
        for (key, value) in &terraform {
            if tests.get(key) != Some(value) {
                differences.push(format!(
                    "{what} {key}: Terraform {value}, tests {}",
                    tests.get(key).map(String::as_str).unwrap_or("(none)")
                ));
            }
        }
    };

    // when both are described,
    let mut tables = vec![
        (
            "system",
            applied.deployment.system_table.clone(),
            sdk_stack.deployment.system_table.clone(),
        ),
        (
            "sessions",
            applied.deployment.sessions_table.clone(),
            sdk_stack.deployment.sessions_table.clone(),
        ),
    ];
    if let (
        fk_aws::deployment::UserStoreConfig::Dynamodb { table: a },
        fk_aws::deployment::UserStoreConfig::Dynamodb { table: b },
    ) = (
        &applied.deployment.user_store,
        &sdk_stack.deployment.user_store,
    ) {
        tables.push(("user", a.clone(), b.clone()));
    }
    for (role, terraform, tests) in tables {
        compare(
            format!("{role} table"),
            table_shape(&dynamodb, &terraform).await,
            table_shape(&dynamodb, &tests).await,
        );
    }
    let queues = [
        (
            "writer queue",
            &applied.deployment.writer_queue_url,
            &sdk_stack.deployment.writer_queue_url,
        ),
        (
            "writer dead-letter queue",
            &applied.writer_dlq_url,
            &sdk_stack.writer_dlq_url,
        ),
        (
            "distributor queue",
            &applied.distributor_queue_url,
            &sdk_stack.distributor_queue_url,
        ),
        (
            "distributor dead-letter queue",
            &applied.distributor_dlq_url,
            &sdk_stack.distributor_dlq_url,
        ),
        (
            "watch queue",
            &applied.watch_queue_url,
            &sdk_stack.watch_queue_url,
        ),
        (
            "watch dead-letter queue",
            &applied.watch_dlq_url,
            &sdk_stack.watch_dlq_url,
        ),
    ];
    for (role, terraform, tests) in queues {
        compare(
            role.to_string(),
            queue_shape(&queue_attributes(&sqs, terraform).await),
            queue_shape(&queue_attributes(&sqs, tests).await),
        );
    }
    // and each function is given the same variables (by name),
    let names = |env: &std::collections::BTreeMap<String, String>| {
        env.keys()
            .filter(|k| k.starts_with("FK_"))
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (function, terraform, tests) in [
        ("writer", &applied.writer_env, &sdk_stack.writer_env),
        (
            "distributor",
            &applied.distributor_env,
            &sdk_stack.distributor_env,
        ),
        ("watch", &applied.watch_env, &sdk_stack.watch_env),
        (
            "heartbeat",
            &applied.heartbeat_env,
            &sdk_stack.heartbeat_env,
        ),
    ] {
        compare(
            format!("{function} function"),
            [("FK_ variables", names(terraform))].into(),
            [("FK_ variables", names(tests))].into(),
        );
    }

    // then they are the same stack.
    assert!(
        differences.is_empty(),
        "the tests' stacks differ from terraform/stacks/local:\n  {}",
        differences.join("\n  ")
    );
}
