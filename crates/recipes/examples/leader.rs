//! Leader election against a running deployment (`make run` in another
//! terminal): start this twice; the second takes over when the first is
//! stopped with Ctrl-C (its session, and so its candidate node, goes).
//!
//!     cargo run -p fk-recipes --example leader -- [deployment.json]

use fk_recipes::LeaderElection;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ".fk/deployment.json".into());
    let deployment = fk_aws::deployment::Deployment::from_json(&std::fs::read_to_string(&file)?)?;
    let client = fk_client::Client::connect(&deployment).await?;
    let me = format!("pid {}", std::process::id());
    let election = LeaderElection::join(&client, "/examples/leader", me.as_bytes()).await?;
    println!("{me}: candidate {}", election.node());
    election.wait_leadership().await?;
    println!("{me}: leading; Ctrl-C to step down");
    tokio::signal::ctrl_c().await?;
    election.resign().await?;
    client.close().await?;
    Ok(())
}
