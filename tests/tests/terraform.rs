//! The local stack as Terraform creates it (`terraform/stacks/local`): the
//! real writer and distributor, given the environments the configuration
//! outputs, serve a client that knows only the configuration's
//! `client_config`.
//!
//! `make test` applies the configuration into its emulator and runs this
//! with `FK_TF_LOCAL_OUTPUTS` (the file `terraform output -json` wrote) and
//! `FK_REQUIRE_TERRAFORM=1` (scripts/terraform.sh). Without the outputs the
//! test says why it did nothing, and fails only when they are required.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fk_client::{Client, CreateMode, Error};
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
async fn the_terraform_applied_stack_serves_create_get_set_delete() {
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
        ],
        schedules: vec![],
    })
    .await
    .expect("the runner starts");

    // Given a client that knows only the configuration's client_config,
    let zk = Client::connect(&deployment).await.expect("a session");
    eprintln!("functions' logs: {}", log_dir.display());
    let path = format!("/terraform-{}", std::process::id());

    // when it creates, reads, updates and deletes a node,
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
    assert!(matches!(
        zk.set_data(&path, b"stale", Some(0)).await,
        Err(Error::BadVersion)
    ));

    zk.delete(&path, Some(1)).await.expect("delete");

    // then every step took effect, and the node is gone.
    assert!(matches!(zk.get_data(&path).await, Err(Error::NoNode)));
    zk.close().await.expect("close");
    runner.stop().await;
}
