//! zkCli 3.8's commands that this service does not have, and why: each
//! answers "not supported: <reason>" and fails its line, as ZooKeeper
//! answers `Unimplemented` rather than nothing.

use crate::command::Failure;

/// The command, and why it is not supported.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "getAcl",
        "ACLs: nodes have none; who may read and write is the deployment's IAM policy",
    ),
    (
        "setAcl",
        "ACLs: nodes have none; who may read and write is the deployment's IAM policy",
    ),
    (
        "addauth",
        "authentication schemes: clients are authenticated by AWS (IAM credentials)",
    ),
    ("setquota", "quotas: the service keeps none"),
    ("listquota", "quotas: the service keeps none"),
    ("delquota", "quotas: the service keeps none"),
    (
        "config",
        "ensemble configuration: a serverless deployment has no servers to list",
    ),
    (
        "reconfig",
        "dynamic reconfiguration: a serverless deployment has no ensemble",
    ),
];

/// What `help` says of them.
pub const HELP: &str = "Not supported (each says why): getAcl, setAcl, addauth, setquota, \
listquota, delquota, config, reconfig.";

/// The answer to a command that is not one of ours.
pub fn answer(words: &[String]) -> Failure {
    let name = words.first().map(String::as_str).unwrap_or_default();
    match UNSUPPORTED.iter().find(|(command, _)| *command == name) {
        Some((command, why)) => Failure::Unsupported(format!("{command}: {why}")),
        None => Failure::CommandNotFound(name.to_string()),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn an_unsupported_zkcli_command_says_why_and_is_unimplemented() {
        let failure = answer(&["setAcl".into(), "/a".into(), "world:anyone:r".into()]);

        assert_eq!(failure.error(), fk_client::Code::Unimplemented);
        assert!(
            failure.message().starts_with("not supported: setAcl: ACLs"),
            "{}",
            failure.message()
        );
    }

    #[test]
    fn anything_else_is_not_found() {
        let failure = answer(&["frob".into()]);
        assert_eq!(failure.message(), "Command not found: frob");
    }
}
