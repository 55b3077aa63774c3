//! The reference side: Apache ZooKeeper through the `zookeeper-client`
//! crate.

use std::time::Duration;

use async_trait::async_trait;
use zookeeper_client as zkc;

use crate::zk::{Code, Mode, Stat, Zk};

/// How long a ZooKeeper session outlives silence.
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// A session with the test process's ZooKeeper server.
pub struct ZooKeeperSession {
    client: zkc::Client,
}

impl ZooKeeperSession {
    /// Opens a session with the server [`fk_testkit::zookeeper`] started.
    pub async fn connect() -> Result<ZooKeeperSession, Code> {
        let server = fk_testkit::zookeeper();
        let client = zkc::Client::connector()
            .with_session_timeout(SESSION_TIMEOUT)
            .connect(&server.connect)
            .await
            .map_err(code)?;
        Ok(ZooKeeperSession { client })
    }
}

#[async_trait]
impl Zk for ZooKeeperSession {
    fn session_id(&self) -> i64 {
        self.client.session_id().0
    }

    async fn create(&self, path: &str, data: &[u8], mode: Mode) -> Result<(String, Stat), Code> {
        let mode = match mode {
            Mode::Persistent => zkc::CreateMode::Persistent,
            Mode::PersistentSequential => zkc::CreateMode::PersistentSequential,
            Mode::Ephemeral => zkc::CreateMode::Ephemeral,
            Mode::EphemeralSequential => zkc::CreateMode::EphemeralSequential,
            Mode::Container => zkc::CreateMode::Container,
        };
        let options = mode.with_acls(zkc::Acls::anyone_all());
        let (stat, sequence) = self
            .client
            .create(path, data, &options)
            .await
            .map_err(code)?;
        let created = if sequence.into_i64() >= 0 {
            format!("{path}{sequence}")
        } else {
            path.to_string()
        };
        Ok((created, stat_of(&stat)))
    }

    async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat), Code> {
        let (data, stat) = self.client.get_data(path).await.map_err(code)?;
        Ok((data, stat_of(&stat)))
    }

    async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat, Code> {
        let stat = self
            .client
            .set_data(path, data, version)
            .await
            .map_err(code)?;
        Ok(stat_of(&stat))
    }

    async fn delete(&self, path: &str, version: Option<i32>) -> Result<(), Code> {
        self.client.delete(path, version).await.map_err(code)
    }

    async fn exists(&self, path: &str) -> Result<Option<Stat>, Code> {
        let stat = self.client.check_stat(path).await.map_err(code)?;
        Ok(stat.as_ref().map(stat_of))
    }

    async fn get_children(&self, path: &str) -> Result<Vec<String>, Code> {
        let children = self.client.list_children(path).await.map_err(code)?;
        Ok(without_zookeeper_node(path, children))
    }

    async fn get_children2(&self, path: &str) -> Result<(Vec<String>, Stat), Code> {
        let (children, stat) = self.client.get_children(path).await.map_err(code)?;
        Ok((without_zookeeper_node(path, children), stat_of(&stat)))
    }

    async fn close(self: Box<Self>) -> Result<(), Code> {
        // The crate closes a session when its last handle goes.
        let mut state = self.client.state_watcher();
        drop(self);
        let ended = tokio::time::timeout(SESSION_TIMEOUT, async {
            loop {
                if state.changed().await.is_terminated() {
                    return;
                }
            }
        })
        .await;
        ended.map_err(|_| Code::new("CLIENT(close timed out)"))
    }
}

/// ZooKeeper's own `/zookeeper` node is not part of any scenario's tree.
fn without_zookeeper_node(path: &str, mut children: Vec<String>) -> Vec<String> {
    if path == "/" {
        children.retain(|c| c != "zookeeper");
    }
    children
}

fn stat_of(s: &zkc::Stat) -> Stat {
    Stat {
        czxid: s.czxid,
        mzxid: s.mzxid,
        pzxid: s.pzxid,
        ctime: s.ctime,
        mtime: s.mtime,
        version: s.version,
        cversion: s.cversion,
        aversion: s.aversion,
        ephemeral_owner: s.ephemeral_owner,
        data_length: s.data_length,
        num_children: s.num_children,
    }
}

/// The `KeeperException.Code` name of the crate's error. Its client-side
/// checks (invalid paths, …) answer `BadArguments`, as ZooKeeper's server
/// does for the same requests.
fn code(e: zkc::Error) -> Code {
    use zkc::Error as E;
    let name = match e {
        E::BadArguments(_) => "BADARGUMENTS",
        E::NoNode => "NONODE",
        E::NoAuth => "NOAUTH",
        E::BadVersion => "BADVERSION",
        E::NoChildrenForEphemerals => "NOCHILDRENFOREPHEMERALS",
        E::NodeExists => "NODEEXISTS",
        E::NotEmpty => "NOTEMPTY",
        E::SessionExpired => "SESSIONEXPIRED",
        E::InvalidAcl => "INVALIDACL",
        E::AuthFailed => "AUTHFAILED",
        E::SessionMoved => "SESSIONMOVED",
        E::NotReadOnly => "NOTREADONLY",
        E::NoWatcher => "NOWATCHER",
        E::QuotaExceeded => "QUOTAEXCEEDED",
        E::Throttled => "THROTTLEDOP",
        E::MarshallingError => "MARSHALLINGERROR",
        E::Unimplemented => "UNIMPLEMENTED",
        E::ConnectionLoss => "CONNECTIONLOSS",
        E::ReconfigDisabled => "RECONFIGDISABLED",
        E::RuntimeInconsistent => "RUNTIMEINCONSISTENCY",
        E::Timeout => "OPERATIONTIMEOUT",
        other => return Code(format!("CLIENT({other})")),
    };
    Code::new(name)
}
