//! A ZooKeeper wire-protocol gateway in front of a FaaSKeeper deployment.

pub mod proto;
