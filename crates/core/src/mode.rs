//! `CreateMode`.

use serde::{Deserialize, Serialize};

/// How a node is created (ZooKeeper's `CreateMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CreateMode {
    #[default]
    Persistent,
    PersistentSequential,
    Ephemeral,
    EphemeralSequential,
    /// Deleted by the server once its last child goes. Not supported yet:
    /// answered with `Unimplemented`.
    Container,
    /// Not supported yet: answered with `Unimplemented`.
    PersistentWithTtl,
    /// Not supported yet: answered with `Unimplemented`.
    PersistentSequentialWithTtl,
}

impl CreateMode {
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// Whether this deployment can create nodes of this mode.
    pub fn is_supported(self) -> bool {
        !matches!(
            self,
            CreateMode::Container
                | CreateMode::PersistentWithTtl
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// The mode for the flags of zkCli's `create [-s] [-e]`.
    pub fn from_flags(sequential: bool, ephemeral: bool) -> Self {
        match (sequential, ephemeral) {
            (false, false) => CreateMode::Persistent,
            (true, false) => CreateMode::PersistentSequential,
            (false, true) => CreateMode::Ephemeral,
            (true, true) => CreateMode::EphemeralSequential,
        }
    }
}
