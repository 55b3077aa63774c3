//! The Redis user store over TLS with RBAC users, as ElastiCache runs it
//! (terraform/modules/user-storage-redis): `rediss://` URLs, a password
//! from Secrets Manager, a read-only user for clients.

mod common;

use std::sync::{Arc, OnceLock};

use fk_aws::calls::CallCounter;
use fk_aws::deployment::UserStoreConfig;
use fk_aws::user::{self, RedisAccess, RedisUserStore};
use fk_core::user::UserStore;

use common::user_contract::{create, path, BINARY};

/// Points `FK_REDIS_CA_FILE` at the test server's CA, once, before any
/// store of this process connects through `user::connect`.
fn trust_test_ca() {
    static SET: OnceLock<()> = OnceLock::new();
    SET.get_or_init(|| {
        let file = std::env::temp_dir().join(format!("fk-redis-tls-ca-{}.pem", std::process::id()));
        std::fs::write(&file, &fk_testkit::redis_tls().ca_pem).unwrap();
        std::env::set_var(fk_aws::env::REDIS_CA_FILE, &file);
    });
}

/// The URL without its password: what Terraform gives the functions when
/// the password is a secret.
fn without_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').unwrap();
    let user = userinfo.split(':').next().unwrap();
    format!("{scheme}://{user}@{host}")
}

async fn store() -> Arc<dyn UserStore> {
    trust_test_ca();
    let (clients, counter) = common::unused_clients().await;
    let cfg = UserStoreConfig::Redis {
        url: fk_testkit::redis_tls().write_url.clone(),
        prefix: fk_testkit::unique_name("tls"),
        password_secret_arn: None,
    };
    user::connect(&cfg, &clients, &counter).await.unwrap()
}

user_store_contract!(store().await);

#[tokio::test]
async fn a_server_certificate_from_an_unknown_ca_is_refused() {
    // Given a TLS server whose CA is not among the public roots
    let url = &fk_testkit::redis_tls().write_url;

    // When a store connects trusting the public roots only
    let result =
        RedisUserStore::connect_with(url, "tls", &RedisAccess::default(), &CallCounter::new())
            .await;

    // Then the handshake fails: nothing is sent to an unverified server
    let err = result.expect_err("an unverified certificate must be refused");
    assert!(
        err.message.to_lowercase().contains("certificate"),
        "the error names the certificate: {err}"
    );
}

#[tokio::test]
async fn the_password_of_a_url_without_one_comes_from_secrets_manager() {
    // Given the distributor's password in a secret, and its URL without it
    trust_test_ca();
    let (clients, counter) = common::clients().await;
    let secret = clients
        .secrets
        .create_secret()
        .name(fk_testkit::unique_name("redis-distributor"))
        .secret_string("distributor")
        .send()
        .await
        .unwrap();
    let cfg = UserStoreConfig::Redis {
        url: without_password(&fk_testkit::redis_tls().write_url),
        prefix: fk_testkit::unique_name("secret"),
        password_secret_arn: secret.arn,
    };

    // When the store connects through the deployment's configuration
    let store = user::connect(&cfg, &clients, &counter).await.unwrap();

    // Then it is authenticated as the distributor: it writes and reads back
    let p = path("from-secret");
    store.apply(1, &create(&p, BINARY)).await.unwrap();
    assert_eq!(store.get(&p).await.unwrap().unwrap().data, BINARY);
}

#[tokio::test]
async fn a_wrong_password_in_the_secret_is_an_authentication_error() {
    // Given a secret whose value is not the user's password
    trust_test_ca();
    let (clients, counter) = common::clients().await;
    let secret = clients
        .secrets
        .create_secret()
        .name(fk_testkit::unique_name("redis-wrong"))
        .secret_string("not-the-password")
        .send()
        .await
        .unwrap();
    let cfg = UserStoreConfig::Redis {
        url: without_password(&fk_testkit::redis_tls().write_url),
        prefix: "wrong".into(),
        password_secret_arn: secret.arn,
    };

    // When the store connects, then Redis refuses the credentials
    let Err(err) = user::connect(&cfg, &clients, &counter).await else {
        panic!("a wrong password must not connect");
    };
    assert!(
        err.message.contains("WRONGPASS") || err.message.to_lowercase().contains("auth"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_secret_is_a_clear_error() {
    let (clients, counter) = common::clients().await;
    let cfg = UserStoreConfig::Redis {
        url: without_password(&fk_testkit::redis_tls().write_url),
        prefix: "missing".into(),
        password_secret_arn: Some(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:fk-no-such-secret".into(),
        ),
    };

    let Err(err) = user::connect(&cfg, &clients, &counter).await else {
        panic!("a missing secret must not connect");
    };
    assert_eq!(err.backend, "secretsmanager");
    assert!(err.message.contains("GetSecretValue"), "{err}");
}

#[tokio::test]
async fn the_clients_user_reads_over_tls_but_cannot_write() {
    // Given a node the distributor wrote
    let writer = store().await;
    let p = path("read-only");
    writer.apply(1, &create(&p, BINARY)).await.unwrap();

    // When the clients' read-only user connects over TLS
    let tls = fk_testkit::redis_tls();
    let info = {
        use redis::IntoConnectionInfo;
        tls.read_url.as_str().into_connection_info().unwrap()
    };
    let raw = redis::Client::build_with_tls(
        info,
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(tls.ca_pem.clone()),
        },
    )
    .unwrap();
    let mut conn = raw.get_multiplexed_async_connection().await.unwrap();

    // Then it may read, and any write is refused by the server's ACL
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    let write: redis::RedisResult<()> = redis::cmd("SET")
        .arg("tls:anything")
        .arg("x")
        .query_async(&mut conn)
        .await;
    let err = write.expect_err("the read-only user must not write");
    assert!(err.to_string().to_lowercase().contains("noperm"), "{err}");
}
