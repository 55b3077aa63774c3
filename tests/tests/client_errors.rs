//! What a client says when its deployment document is wrong: connect
//! fails, names the resource, keeps the backend's error as its source, and
//! a wrong bucket is never taken for a missing node.
//!
//! No functions run: connecting only needs the provisioned resources.

use std::error::Error as _;

use fk_aws::deployment::{Deployment, UserStoreConfig};
use fk_client::{Client, Code, FailureKind};
use fk_local::{StackConfig, StoreKind};

/// A freshly provisioned deployment with `store` (no functions running).
async fn deployment(store: StoreKind) -> Deployment {
    let (redis_url, redis_read_url) = match store {
        StoreKind::Redis => {
            let redis = fk_testkit::redis();
            (Some(redis.write_url.clone()), Some(redis.read_url.clone()))
        }
        _ => (None, None),
    };
    let config = StackConfig {
        name: fk_testkit::unique_name("cerr"),
        endpoint: fk_testkit::moto().endpoint.clone(),
        region: "us-east-1".into(),
        store,
        redis_url,
        redis_read_url,
        lock_ttl_ms: 10_000,
        visibility_timeout_s: 12,
        max_receive_count: 3,
    };
    fk_local::provision(&config)
        .await
        .expect("provisioning")
        .deployment
}

/// Connecting fails as a misconfiguration naming `resource`.
async fn assert_missing(deployment: &Deployment, resource: &str) {
    let err = Client::connect(deployment)
        .await
        .expect_err("connect to a deployment with a missing resource");
    assert_eq!(err.code(), Code::SystemError, "{err}");
    assert_eq!(err.kind(), Some(FailureKind::MissingResource), "{err}");
    assert!(!err.is_retryable(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(resource),
        "the message names {resource}: {text}"
    );
    assert!(err.source().is_some(), "the backend's error is the source");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_writer_queue_url_fails_connect_naming_the_queue() {
    // given a deployment whose writer queue URL names no queue
    let mut deployment = deployment(StoreKind::Dynamodb).await;
    deployment.writer_queue_url = deployment.writer_queue_url.replace("-writer", "-wrong");
    // when a client connects, then it fails naming the queue
    assert_missing(&deployment, &deployment.writer_queue_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_system_table_fails_connect_naming_the_table() {
    let mut deployment = deployment(StoreKind::Dynamodb).await;
    deployment.system_table = format!("{}-gone", deployment.system_table);
    assert_missing(&deployment, &deployment.system_table).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_sessions_table_fails_connect_naming_the_table() {
    let mut deployment = deployment(StoreKind::Dynamodb).await;
    deployment.sessions_table = format!("{}-gone", deployment.sessions_table);
    assert_missing(&deployment, &deployment.sessions_table).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_user_table_fails_connect_naming_the_table() {
    let mut deployment = deployment(StoreKind::Dynamodb).await;
    let UserStoreConfig::Dynamodb { table } = &mut deployment.user_store else {
        panic!("a DynamoDB user store");
    };
    table.push_str("-gone");
    let table = table.clone();
    assert_missing(&deployment, &table).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_fails_connect_and_is_never_taken_for_no_node() {
    // given a deployment whose bucket does not exist
    let mut deployment = deployment(StoreKind::S3).await;
    let UserStoreConfig::S3 { bucket } = &mut deployment.user_store else {
        panic!("an S3 user store");
    };
    bucket.push_str("-gone");
    let bucket = bucket.clone();

    // when a client (with a session, or read-only) connects, then it fails
    // naming the bucket
    assert_missing(&deployment, &bucket).await;
    let err = Client::builder(&deployment)
        .read_only(true)
        .connect()
        .await
        .expect_err("a read-only client checks the bucket too");
    assert_eq!(err.kind(), Some(FailureKind::MissingResource), "{err}");

    // and the store underneath answers a read with an error, not "no node"
    let sdk = fk_aws::clients::sdk_config(deployment.endpoint.as_deref(), &deployment.region).await;
    let calls = fk_aws::calls::CallCounter::new();
    let clients = fk_aws::clients::Clients::new(&sdk, &calls);
    let store = fk_aws::user::connect(&deployment.user_store, &clients, &calls)
        .await
        .unwrap();
    let read = store.get("/app").await;
    let err = read.expect_err("a read from a missing bucket is an error");
    assert_eq!(err.kind, FailureKind::MissingResource, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_is_not_allowed_and_names_the_server_without_the_password() {
    // given a deployment whose Redis URL has a wrong password
    let mut deployment = deployment(StoreKind::Redis).await;
    let UserStoreConfig::Redis { url, .. } = &mut deployment.user_store else {
        panic!("a Redis user store");
    };
    // (the password is the testkit's or scripts/backends.sh's random one)
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').unwrap();
    let user = userinfo.split(':').next().unwrap();
    *url = format!("{scheme}://{user}:not-the-password@{host}");
    assert!(url.contains("not-the-password"), "{url}");

    // when a client connects
    let err = Client::connect(&deployment)
        .await
        .expect_err("a wrong password");

    // then it is not allowed (NoAuth), for good, and the message names the
    // server but not the password
    assert_eq!(err.code(), Code::NoAuth, "{err}");
    assert_eq!(err.kind(), Some(FailureKind::AccessDenied), "{err}");
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("not allowed to use the user store's Redis server redis://127.0.0.1:"),
        "{text}"
    );
    assert!(
        !err.resource().unwrap().contains("not-the-password"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_is_a_retryable_connection_loss() {
    // given a deployment whose endpoint nothing listens on
    let mut deployment = deployment(StoreKind::Dynamodb).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    deployment.endpoint = Some(format!("http://127.0.0.1:{port}"));

    // when a client connects
    let err = Client::connect(&deployment)
        .await
        .expect_err("nothing answers");

    // then it cannot reach the backend, which may change: retryable
    assert_eq!(err.code(), Code::ConnectionLoss, "{err}");
    assert_eq!(err.kind(), Some(FailureKind::Unreachable), "{err}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("cannot reach"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_deployment_connects_and_a_missing_node_is_no_node() {
    let deployment = deployment(StoreKind::S3).await;
    let zk = Client::builder(&deployment)
        .read_only(true)
        .connect()
        .await
        .expect("a read-only client of a right deployment");
    let err = zk.get_data("/missing").await.unwrap_err();
    assert_eq!(err, Code::NoNode);
    assert_eq!(err.kind(), None, "an answer, not a failure");
    assert!(err.source().is_none());
}
