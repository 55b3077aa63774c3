//! What a command answers: an [`Output`] to print, or a [`Failure`] with
//! zkCli's message for it.

use fk_client::{Code, Error, SessionId, Stat};
use fk_core::OpResult;

/// What a command printed.
#[derive(Debug)]
pub enum Output {
    Created {
        path: String,
        stat: Stat,
    },
    Data {
        path: String,
        data: Vec<u8>,
        stat: Stat,
        /// `get -s`: the Stat too (JSON always has it).
        show_stat: bool,
    },
    Set {
        path: String,
        stat: Stat,
        /// `set -s`: print the Stat (JSON always has it).
        show_stat: bool,
    },
    Deleted {
        path: String,
    },
    /// `deleteall`: how many nodes went.
    DeletedAll {
        path: String,
        count: usize,
    },
    Synced {
        path: String,
    },
    Count {
        path: String,
        count: i32,
    },
    Multi {
        results: Vec<OpResult>,
    },
    Children {
        path: String,
        children: Vec<String>,
        stat: Option<Stat>,
    },
    /// `ls -R`: the node and every path below it, in zkCli's order.
    Tree {
        path: String,
        paths: Vec<String>,
    },
    Stat {
        path: String,
        stat: Stat,
    },
    Version(String),
    WhoAmI {
        session: Option<SessionId>,
    },
    /// `history`: command numbers and lines.
    History(Vec<(usize, String)>),
    /// `printwatches` with no argument.
    PrintWatches(bool),
    /// `help`: the commands, or one command's options.
    Help(String),
    /// Done, nothing to print (addWatch, removewatches, close, wait...).
    Done,
}

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// A ZooKeeper error, and the path it concerns (empty: none).
    Keeper { path: String, error: Error },
    /// A multi that was refused: each op's result, as ZooKeeper reports
    /// them (`Ok` for those before the failing one, which are rolled back,
    /// its error, then `RuntimeInconsistency`).
    Multi { error: Code, steps: Vec<StepResult> },
    /// A line that does not parse: a bad option, a missing argument.
    Usage(String),
    /// A command zkCli does not have either.
    CommandNotFound(String),
    /// A zkCli command or option this service does not have, and why.
    Unsupported(String),
    /// After `close`, until `connect`.
    NotConnected,
}

/// One op of a refused multi.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// `create`, `set`, `delete` or `check`.
    pub op: &'static str,
    pub path: String,
    /// `None`: the op succeeded but was rolled back with the others.
    pub error: Option<Code>,
}

impl Failure {
    pub fn keeper(path: impl Into<String>, error: Error) -> Self {
        Failure::Keeper {
            path: path.into(),
            error,
        }
    }

    /// The ZooKeeper error code that stands for the failure.
    pub fn error(&self) -> Code {
        match self {
            Failure::Keeper { error, .. } => error.code(),
            Failure::Multi { error, .. } => *error,
            Failure::Usage(_) | Failure::CommandNotFound(_) => Code::BadArguments,
            Failure::Unsupported(_) => Code::Unimplemented,
            Failure::NotConnected => Code::SessionExpired,
        }
    }

    /// What went wrong underneath, for a failure of the backend (which
    /// resource, and why): `None` when the code says it all.
    pub fn cause(&self) -> Option<String> {
        match self {
            Failure::Keeper { error, .. } => {
                std::error::Error::source(error).map(|_| error.to_string())
            }
            _ => None,
        }
    }

    /// The path the failure concerns: for a multi, the failing op's.
    pub fn path(&self) -> &str {
        match self {
            Failure::Keeper { path, .. } => path,
            Failure::Multi { steps, .. } => steps
                .iter()
                .find(|s| s.error.is_some_and(|e| e != Code::RuntimeInconsistency))
                .map(|s| s.path.as_str())
                .unwrap_or(""),
            _ => "",
        }
    }

    /// zkCli's message for the failure (for a multi, the failing op's).
    pub fn message(&self) -> String {
        match self {
            Failure::Keeper { path, error } => match self.cause() {
                // zkCli's words, then the cause on the next line.
                Some(cause) => format!("{}\n  cause: {cause}", keeper_message(error.code(), path)),
                None => keeper_message(error.code(), path),
            },
            Failure::Multi { error, .. } => keeper_message(*error, self.path()),
            Failure::Usage(text) => text.clone(),
            Failure::CommandNotFound(name) => format!("Command not found: {name}"),
            Failure::Unsupported(why) => format!("not supported: {why}"),
            Failure::NotConnected => "Not connected".to_string(),
        }
    }
}

/// The message zkCli prints for a `KeeperException` (its
/// `CliWrapperException`, else `KeeperException.getMessage`).
pub fn keeper_message(error: Code, path: &str) -> String {
    if !path.is_empty() {
        let special = match error {
            Code::NoNode => Some("Node does not exist: "),
            Code::NoChildrenForEphemerals => Some("Ephemerals cannot have children: "),
            Code::NodeExists => Some("Node already exists: "),
            Code::NotEmpty => Some("Node not empty: "),
            Code::NotReadOnly => Some("Not a read-only call: "),
            Code::InvalidAcl => Some("Acl is not valid : "),
            Code::NoAuth => Some("Authentication is not valid : "),
            Code::BadArguments => Some("Arguments are not valid : "),
            Code::BadVersion => Some("version No is not valid : "),
            _ => None,
        };
        if let Some(prefix) = special {
            return format!("{prefix}{path}");
        }
        return format!("KeeperErrorCode = {} for {path}", code_message(error));
    }
    format!("KeeperErrorCode = {}", code_message(error))
}

/// `KeeperException.getCodeMessage`: how ZooKeeper words each code.
pub fn code_message(error: Code) -> String {
    let text = match error {
        Code::InvalidAcl => "InvalidACL",
        Code::NotEmpty => "Directory not empty",
        Code::SessionExpired => "Session expired",
        Code::NotReadOnly => "Not a read-only call",
        Code::NoWatcher => "No such watcher",
        Code::QuotaExceeded => "Quota has exceeded",
        Code::ThrottledOp => "Op throttled due to high load",
        // The others are worded as they are named.
        other => return format!("{other:?}"),
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeper_errors_read_as_zkcli_prints_them() {
        assert_eq!(
            keeper_message(Code::NoNode, "/a"),
            "Node does not exist: /a"
        );
        assert_eq!(
            keeper_message(Code::BadVersion, "/a"),
            "version No is not valid : /a"
        );
        assert_eq!(
            keeper_message(Code::NoWatcher, "/a"),
            "KeeperErrorCode = No such watcher for /a"
        );
        assert_eq!(
            keeper_message(Code::ConnectionLoss, ""),
            "KeeperErrorCode = ConnectionLoss"
        );
    }

    #[test]
    fn a_refused_multi_is_about_its_failing_op() {
        let failure = Failure::Multi {
            error: Code::BadVersion,
            steps: vec![
                StepResult {
                    op: "create",
                    path: "/a".into(),
                    error: None,
                },
                StepResult {
                    op: "check",
                    path: "/b".into(),
                    error: Some(Code::BadVersion),
                },
                StepResult {
                    op: "delete",
                    path: "/c".into(),
                    error: Some(Code::RuntimeInconsistency),
                },
            ],
        };
        assert_eq!(failure.path(), "/b");
        assert_eq!(failure.message(), "version No is not valid : /b");
    }
}
