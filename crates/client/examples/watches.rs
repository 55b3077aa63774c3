//! A handle per watch: a one-shot watch's event, then every change below
//! a path through a persistent-recursive watch.
//!
//! `cargo run -p fk-client --example watches -- [DEPLOYMENT.json]`

use fk_client::{AddWatchMode, Client, CreateMode, Deployment};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let deployment = deployment()?;
    let watcher = Client::connect(&deployment).await?;
    let writer = Client::connect(&deployment).await?;
    writer
        .create_all("/examples/watches/flag", b"off", CreateMode::Persistent)
        .await?;

    // One-shot: read the flag and watch it; the handle yields one event.
    let (data, _stat, flag) = watcher.get_and_watch_data("/examples/watches/flag").await?;
    println!("flag is {:?}", String::from_utf8_lossy(&data));
    writer
        .set_data("/examples/watches/flag", b"on", None)
        .await?;
    let event = flag.changed().await?;
    println!(
        "one-shot: {:?} {} (zxid {})",
        event.event_type, event.path, event.zxid
    );

    // Persistent-recursive: every change below the path, in commit order.
    let mut below = watcher
        .watch("/examples/watches", AddWatchMode::PersistentRecursive)
        .await?;
    for name in ["a", "b", "c"] {
        writer
            .create(
                &format!("/examples/watches/{name}"),
                b"",
                CreateMode::Ephemeral,
            )
            .await?;
    }
    for _ in 0..3 {
        let event = below.changed().await?;
        println!("persistent: {:?} {}", event.event_type, event.path);
    }
    below.remove().await?;

    // The writer's ephemeral nodes go with its session.
    writer.close().await?;
    watcher.close().await?;
    Ok(())
}

fn deployment() -> Result<Deployment, Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("FK_DEPLOYMENT").ok())
        .unwrap_or_else(|| ".fk/deployment.json".into());
    Ok(Deployment::from_json(&std::fs::read_to_string(path)?)?)
}
