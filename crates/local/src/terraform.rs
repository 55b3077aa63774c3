//! A stack that Terraform created (`terraform/stacks/local`), read from
//! `terraform output -json`: what [`provision`](crate::provision) returns
//! when the runner provisions through the SDK instead.
//!
//! `make run` provisions through Terraform, so that the local stack is the
//! same configuration that deploys to AWS; the end-to-end tests keep
//! provisioning through the SDK, because each needs its own stack in well
//! under a second and an apply takes about twenty.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use fk_aws::deployment::Deployment;
use fk_aws::env;

use crate::Provisioned;

/// The outputs of `terraform/stacks/local` the runner needs.
#[derive(Debug, Clone)]
pub struct TerraformStack {
    /// `client_config`: what clients read.
    pub deployment: Deployment,
    /// `function_environments`: each function's variables, by function
    /// (`writer`, `distributor`, `heartbeat`, `watch`), `AWS_REGION` included.
    pub function_environments: BTreeMap<String, BTreeMap<String, String>>,
}

/// The environment variable that names the distributor's queue.
const DISTRIBUTOR_QUEUE_URL: &str = env::DISTRIBUTOR_QUEUE_URL;

impl TerraformStack {
    /// Reads `terraform output -json` of the local root configuration.
    pub fn from_outputs_json(text: &str) -> anyhow::Result<Self> {
        let outputs: serde_json::Value =
            serde_json::from_str(text).context("the Terraform outputs are not JSON")?;
        let value = |name: &str| {
            outputs
                .get(name)
                .and_then(|o| o.get("value"))
                .with_context(|| format!("the Terraform outputs have no `{name}`"))
        };
        let client_config = value("client_config")?
            .as_str()
            .context("`client_config` is not a string of JSON")?;
        let deployment = Deployment::from_json(client_config)
            .context("`client_config` is not a deployment document")?;
        let function_environments = serde_json::from_value(value("function_environments")?.clone())
            .context("`function_environments` is not a map of string maps")?;
        let stack = TerraformStack {
            deployment,
            function_environments,
        };
        for function in ["writer", "distributor", "watch", "heartbeat"] {
            stack.environment(function)?;
        }
        stack.distributor_queue_url()?;
        Ok(stack)
    }

    /// Reads the file `terraform output -json` was written to.
    pub fn from_outputs_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the Terraform outputs {}", path.display()))?;
        Self::from_outputs_json(&text).with_context(|| format!("in {}", path.display()))
    }

    /// A function's environment.
    pub fn environment(&self, function: &str) -> anyhow::Result<&BTreeMap<String, String>> {
        self.function_environments
            .get(function)
            .with_context(|| format!("`function_environments` has no `{function}`"))
    }

    /// The same description of the stack that [`provision`](crate::provision)
    /// returns, for the runner.
    pub fn to_provisioned(&self) -> anyhow::Result<Provisioned> {
        let variable = |function: &str, name: &str| -> anyhow::Result<String> {
            self.environment(function)?
                .get(name)
                .cloned()
                .with_context(|| format!("the {function}'s environment has no {name}"))
        };
        Ok(Provisioned {
            deployment: self.deployment.clone(),
            distributor_queue_url: self.distributor_queue_url()?.to_string(),
            writer_dlq_url: variable("writer", env::DEAD_LETTER_QUEUE_URL)?,
            distributor_dlq_url: variable("distributor", env::DEAD_LETTER_QUEUE_URL)?,
            watch_queue_url: variable("distributor", env::WATCH_QUEUE_URL)?,
            watch_dlq_url: variable("watch", env::DEAD_LETTER_QUEUE_URL)?,
            writer_env: self.environment("writer")?.clone(),
            distributor_env: self.environment("distributor")?.clone(),
            heartbeat_env: self.environment("heartbeat")?.clone(),
            watch_env: self.environment("watch")?.clone(),
        })
    }

    /// The queue that feeds the distributor.
    pub fn distributor_queue_url(&self) -> anyhow::Result<&str> {
        self.environment("writer")?
            .get(DISTRIBUTOR_QUEUE_URL)
            .map(String::as_str)
            .with_context(|| format!("the writer's environment has no {DISTRIBUTOR_QUEUE_URL}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUTS: &str = r#"{
      "client_config": {"sensitive": false, "type": "string",
        "value": "{\"endpoint\":\"http://127.0.0.1:5000\",\"name\":\"fk-local\",\"region\":\"us-east-1\",\"reply_queue_prefix\":\"fk-local-reply-\",\"sessions_table\":\"fk-local-sessions\",\"system_table\":\"fk-local-system\",\"user_store\":{\"bucket\":\"fk-local-user\",\"kind\":\"s3\"},\"writer_queue_url\":\"http://127.0.0.1:5000/123456789012/fk-local-writer.fifo\"}"},
      "function_environments": {"sensitive": false, "type": ["object", {}],
        "value": {
          "writer": {"AWS_REGION": "us-east-1", "FK_DISTRIBUTOR_QUEUE_URL": "http://127.0.0.1:5000/123456789012/fk-local-distributor.fifo",
                     "FK_DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:5000/123456789012/fk-local-writer-dlq.fifo"},
          "distributor": {"AWS_REGION": "us-east-1",
                          "FK_DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:5000/123456789012/fk-local-distributor-dlq.fifo",
                          "FK_WATCH_QUEUE_URL": "http://127.0.0.1:5000/123456789012/fk-local-watch.fifo"},
          "heartbeat": {"AWS_REGION": "us-east-1"},
          "watch": {"AWS_REGION": "us-east-1",
                    "FK_DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:5000/123456789012/fk-local-watch-dlq.fifo"}
        }}
    }"#;

    #[test]
    fn the_local_roots_outputs_give_the_deployment_and_the_environments() {
        let stack = TerraformStack::from_outputs_json(OUTPUTS).unwrap();
        assert_eq!(stack.deployment.name, "fk-local");
        assert_eq!(
            stack.deployment.endpoint.as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            stack.deployment.user_store,
            fk_aws::deployment::UserStoreConfig::S3 {
                bucket: "fk-local-user".into()
            }
        );
        assert_eq!(
            stack.distributor_queue_url().unwrap(),
            "http://127.0.0.1:5000/123456789012/fk-local-distributor.fifo"
        );
        assert_eq!(
            stack.environment("distributor").unwrap()["AWS_REGION"],
            "us-east-1"
        );
        let provisioned = stack.to_provisioned().unwrap();
        assert!(provisioned
            .writer_dlq_url
            .ends_with("fk-local-writer-dlq.fifo"));
        assert!(provisioned
            .distributor_dlq_url
            .ends_with("fk-local-distributor-dlq.fifo"));
    }

    #[test]
    fn outputs_without_the_environments_are_refused_by_name() {
        let err =
            TerraformStack::from_outputs_json(r#"{"client_config": {"value": "{}"}}"#).unwrap_err();
        assert!(
            format!("{err:#}").contains("deployment document"),
            "{err:#}"
        );
        let err = TerraformStack::from_outputs_json("{}").unwrap_err();
        assert!(format!("{err:#}").contains("`client_config`"), "{err:#}");
    }
}
