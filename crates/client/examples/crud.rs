//! Connect, create, read, update, delete, close.
//!
//! `cargo run -p fk-client --example crud -- [DEPLOYMENT.json]` against a
//! running deployment (`make run` writes `.fk/deployment.json`).

use std::time::Duration;

use fk_client::{Client, Code, CreateMode, Deployment, RetryPolicy};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let deployment = deployment()?;
    let zk = Client::builder(&deployment)
        .session_timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::exponential(
            Duration::from_millis(50),
            Duration::from_secs(2),
            4,
        ))
        .connect()
        .await?;
    println!("session {}", zk.session_id().expect("a session"));

    // mkdir -p, then the node itself.
    let (path, stat) = zk
        .create_all("/examples/crud/config", b"v1", CreateMode::Persistent)
        .await?;
    println!("created {path} at zxid {}", stat.czxid);

    let (data, stat) = zk.get_data(&path).await?;
    println!(
        "{path} = {:?} (version {})",
        String::from_utf8_lossy(&data),
        stat.version
    );

    // A conditional update: only over the version just read.
    let stat = zk.set_data(&path, b"v2", Some(stat.version)).await?;
    match zk.set_data(&path, b"stale", Some(stat.version - 1)).await {
        Err(e) if e == Code::BadVersion => println!("a stale update is refused: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    println!(
        "children of /examples/crud: {:?}",
        zk.get_children("/examples/crud").await?
    );
    zk.delete(&path, None).await?;
    assert!(zk.exists(&path).await?.is_none());

    zk.close().await?;
    Ok(())
}

/// The deployment document named by the first argument, `FK_DEPLOYMENT`,
/// or `.fk/deployment.json`.
fn deployment() -> Result<Deployment, Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("FK_DEPLOYMENT").ok())
        .unwrap_or_else(|| ".fk/deployment.json".into());
    Ok(Deployment::from_json(&std::fs::read_to_string(path)?)?)
}
