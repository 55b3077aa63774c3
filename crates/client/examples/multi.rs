//! An atomic multi: all ops or none, and ZooKeeper's per-op report when
//! one fails.
//!
//! `cargo run -p fk-client --example multi -- [DEPLOYMENT.json]`

use fk_client::{Client, CreateMode, Deployment, OpResult};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let deployment = deployment()?;
    let zk = Client::connect(&deployment).await?;
    let (_, stat) = zk
        .create_all("/examples/multi/config", b"v1", CreateMode::Persistent)
        .await?;

    // Move the configuration on and record who did, only if nobody else
    // changed it since it was read.
    let results = zk
        .new_multi()
        .check("/examples/multi/config", Some(stat.version))
        .set_data("/examples/multi/config", b"v2", None)
        .create(
            "/examples/multi/changed-by-",
            b"example",
            CreateMode::PersistentSequential,
        )
        .commit()
        .await?;
    for result in &results {
        match result {
            OpResult::Created { path, .. } => println!("created {path}"),
            OpResult::SetData { stat } => println!("set, now version {}", stat.version),
            other => println!("{other:?}"),
        }
    }

    // The same check again is stale: nothing applies, and the report says
    // which op failed.
    let failure = zk
        .new_multi()
        .check("/examples/multi/config", Some(stat.version))
        .set_data("/examples/multi/config", b"v3", None)
        .commit()
        .await
        .expect_err("the version moved on");
    println!("{failure}");
    println!("per op: {:?}", failure.results);

    zk.close().await?;
    Ok(())
}

fn deployment() -> Result<Deployment, Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("FK_DEPLOYMENT").ok())
        .unwrap_or_else(|| ".fk/deployment.json".into());
    Ok(Deployment::from_json(&std::fs::read_to_string(path)?)?)
}
