//! An exclusive lock against a running deployment (`make run` in another
//! terminal): run this in several terminals at once; they take turns.
//!
//!     cargo run -p fk-recipes --example lock -- [deployment.json]

use std::time::Duration;

use fk_recipes::Lock;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ".fk/deployment.json".into());
    let deployment = fk_aws::deployment::Deployment::from_json(&std::fs::read_to_string(&file)?)?;
    let client = fk_client::Client::connect(&deployment).await?;
    let lock = Lock::new(&client, "/examples/lock");
    for round in 1..=3 {
        let guard = lock.acquire().await?;
        println!(
            "pid {} holds the lock ({round}/3) as {}",
            std::process::id(),
            guard.node()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        guard.release().await?;
    }
    client.close().await?;
    Ok(())
}
