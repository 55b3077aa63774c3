//! What one operation costs in calls and function time, as `make bench`
//! measured it on the local stack (`crates/cli/data/profile.json`, rewritten
//! by every run of `make bench`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The committed default, from the last `make bench`.
const DEFAULT: &str = include_str!("../../data/profile.json");

/// AWS calls by `"Service.Operation"` (mean per operation).
pub type Calls = BTreeMap<String, f64>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Where the figures come from (command, date, commit).
    pub source: String,
    /// By user store: `s3`, `dynamodb`, `redis`.
    pub stores: BTreeMap<String, StoreProfile>,
    pub heartbeat: Function,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreProfile {
    /// One read (`get`): the client's calls; reads run no function.
    pub read: Calls,
    pub write: Write,
}

/// One write (`set` of a small node, no watch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Write {
    /// The client's calls: the send, and the receive and delete of the reply.
    pub client: Calls,
    pub writer: Function,
    pub distributor: Function,
    /// Items in the distributor's TransactWriteItems (the node, the
    /// counter, the session for a `set`): DynamoDB bills 2 WRU per item.
    pub transaction_items: f64,
}

/// A function's share of one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Function {
    /// Calls per message (per operation).
    pub calls: Calls,
    /// Time in the handler per invocation (median), in milliseconds.
    pub duration_ms: f64,
    /// Messages one invocation handles: 1 as `make bench` measures a write
    /// on the local stack; more in its model of batching, where several
    /// writes share an invocation and the event source mapping's polls.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub messages_per_invocation: f64,
}

impl Function {
    /// A function that handles one message per invocation.
    #[cfg(test)]
    pub fn single(calls: Calls, duration_ms: f64) -> Function {
        Function {
            calls,
            duration_ms,
            messages_per_invocation: 1.0,
        }
    }
}

fn one() -> f64 {
    1.0
}

fn is_one(value: &f64) -> bool {
    *value == 1.0
}

impl Profile {
    /// The committed profile.
    pub fn committed() -> Profile {
        serde_json::from_str(DEFAULT).expect("the committed profile parses")
    }

    pub fn from_file(path: &Path) -> Result<Profile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn store(&self, name: &str) -> Result<&StoreProfile, String> {
        self.stores.get(name).ok_or_else(|| {
            format!(
                "the profile has no store {name} (it has: {})",
                self.stores.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_profile_has_every_store() {
        let profile = Profile::committed();
        for store in ["s3", "dynamodb", "redis"] {
            let write = &profile.store(store).unwrap().write;
            assert!(write.client.contains_key("SQS.SendMessage"), "{store}");
        }
    }
}
