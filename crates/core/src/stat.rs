//! `Stat`, with ZooKeeper's eleven fields.

use serde::{Deserialize, Serialize};

/// The metadata ZooKeeper keeps for every node (`zookeeper.jute`'s `Stat`).
///
/// Times are milliseconds since the Unix epoch; zxids are this deployment's
/// global commit counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stat {
    /// zxid of the change that created the node.
    pub czxid: i64,
    /// zxid of the change that last modified the node's data.
    pub mzxid: i64,
    /// Creation time.
    pub ctime: i64,
    /// Time of the last data change.
    pub mtime: i64,
    /// Number of changes to the data.
    pub version: i32,
    /// Number of changes to the children.
    pub cversion: i32,
    /// Number of changes to the ACL.
    pub aversion: i32,
    /// Session id of the owner if the node is ephemeral, else 0.
    pub ephemeral_owner: i64,
    /// Length of the data.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
    /// zxid of the change that last modified the children.
    pub pzxid: i64,
}

impl Stat {
    /// Whether the node is ephemeral.
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral_owner != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_zookeeper_field_names() {
        let stat = Stat {
            ephemeral_owner: 5,
            num_children: 2,
            ..Stat::default()
        };
        let json = serde_json::to_value(stat).unwrap();
        assert_eq!(json["ephemeralOwner"], 5);
        assert_eq!(json["numChildren"], 2);
        assert_eq!(json.as_object().unwrap().len(), 11);
    }
}
