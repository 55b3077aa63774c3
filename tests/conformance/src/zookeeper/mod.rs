//! The reference side: Apache ZooKeeper through the `zookeeper-client`
//! crate (0.11).
//!
//! Where the crate does not show what the server answered, this adapter
//! says so and what it does instead:
//!
//! - **Closed sessions**: the crate closes a session when its last handle
//!   goes and keeps no closed handle. An operation on a closed session here
//!   reattaches to it (`Connector::with_session`) and answers what the
//!   server answers to that: `SESSIONEXPIRED`. (Java's client answers
//!   `SESSIONEXPIRED` for any operation on a closed handle too:
//!   `ClientCnxn.conLossPacket` in state `CLOSED`.)
//! - **Watches**: see `zookeeper/watches.rs`.

mod watches;

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use zookeeper_client as zkc;

use crate::zk::{
    AddWatchMode, Code, Event, Mode, MultiError, MultiOp, MultiResult, SessionOptions, Stat,
    WatcherType, Zk,
};
use watches::{Class, Watches};

/// How long a ZooKeeper session outlives silence, unless the scenario says.
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// A session with the test process's ZooKeeper server, or with anything
/// else that speaks its protocol (the gateway).
pub struct ZooKeeperSession {
    /// The server's `host:port`.
    server: String,
    /// `None` once closed.
    client: Mutex<Option<zkc::Client>>,
    info: zkc::SessionInfo,
    id: i64,
    timeout: Duration,
    /// The state the session ended in, once closed.
    ended: Mutex<Option<String>>,
    watches: Mutex<Watches>,
}

impl ZooKeeperSession {
    /// Opens a session with the server [`fk_testkit::zookeeper`] started.
    pub async fn connect(options: SessionOptions) -> Result<ZooKeeperSession, Code> {
        Self::connect_to(&fk_testkit::zookeeper().connect, options).await
    }

    /// Opens a session with the server at `server` (`host:port`).
    pub async fn connect_to(
        server: &str,
        options: SessionOptions,
    ) -> Result<ZooKeeperSession, Code> {
        let timeout = options.timeout.unwrap_or(SESSION_TIMEOUT);
        let mut connector = zkc::Client::connector().with_session_timeout(timeout);
        if options.crashable {
            // Not closed when its handles go: it expires.
            connector = connector.with_detached();
        }
        let client = connector.connect(server).await.map_err(code)?;
        Ok(ZooKeeperSession {
            server: server.to_string(),
            info: client.session().clone(),
            id: client.session_id().0,
            timeout,
            client: Mutex::new(Some(client)),
            ended: Mutex::new(None),
            watches: Mutex::new(Watches::default()),
        })
    }

    /// The client, or what the server answers for the closed session.
    async fn client(&self) -> Result<zkc::Client, Code> {
        let client = self.client.lock().unwrap().clone();
        match client {
            Some(client) => Ok(client),
            None => Err(self.closed_answer().await),
        }
    }

    async fn closed_answer(&self) -> Code {
        let reattached = zkc::Client::connector()
            .with_session(self.info.clone())
            .with_session_timeout(self.timeout)
            .with_fail_eagerly()
            .connect(&self.server)
            .await;
        match reattached {
            Err(e) => code(e),
            // Dropping it closes the session again.
            Ok(_) => Code::new("CLIENT(the closed session could be reattached)"),
        }
    }

    /// Moves the events the crate has delivered to the watchers into the
    /// session's list. Called after every operation, so that events of
    /// different operations are told apart (see [`watches`]).
    fn drain(&self) {
        self.watches.lock().unwrap().drain();
    }

    fn watched<T>(&self, result: Result<T, Code>) -> Result<T, Code> {
        self.drain();
        result
    }
}

#[async_trait]
impl Zk for ZooKeeperSession {
    fn session_id(&self) -> i64 {
        self.id
    }

    fn state(&self) -> String {
        if let Some(ended) = self.ended.lock().unwrap().clone() {
            return ended;
        }
        match self.client.lock().unwrap().as_ref() {
            Some(client) => format!("{:?}", client.state()),
            None => "Closed".into(),
        }
    }

    async fn create(&self, path: &str, data: &[u8], mode: Mode) -> Result<(String, Stat), Code> {
        let client = self.client().await?;
        let options = create_options(mode);
        let result = client.create(path, data, &options).await.map_err(code);
        let (stat, sequence) = self.watched(result)?;
        let created = if sequence.into_i64() >= 0 {
            format!("{path}{sequence}")
        } else {
            path.to_string()
        };
        Ok((created, stat_of(&stat)))
    }

    async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat), Code> {
        let client = self.client().await?;
        let result = client.get_data(path).await.map_err(code);
        let (data, stat) = self.watched(result)?;
        Ok((data, stat_of(&stat)))
    }

    async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat, Code> {
        let client = self.client().await?;
        let result = client.set_data(path, data, version).await.map_err(code);
        Ok(stat_of(&self.watched(result)?))
    }

    async fn delete(&self, path: &str, version: Option<i32>) -> Result<(), Code> {
        let client = self.client().await?;
        let result = client.delete(path, version).await.map_err(code);
        self.watched(result)
    }

    async fn exists(&self, path: &str) -> Result<Option<Stat>, Code> {
        let client = self.client().await?;
        let result = client.check_stat(path).await.map_err(code);
        Ok(self.watched(result)?.as_ref().map(stat_of))
    }

    async fn get_children(&self, path: &str) -> Result<Vec<String>, Code> {
        let client = self.client().await?;
        let result = client.list_children(path).await.map_err(code);
        Ok(without_zookeeper_node(path, self.watched(result)?))
    }

    async fn get_children2(&self, path: &str) -> Result<(Vec<String>, Stat), Code> {
        let client = self.client().await?;
        let result = client.get_children(path).await.map_err(code);
        let (children, stat) = self.watched(result)?;
        Ok((without_zookeeper_node(path, children), stat_of(&stat)))
    }

    async fn multi(&self, ops: &[MultiOp]) -> Result<Vec<MultiResult>, MultiError> {
        let whole = |code| MultiError { index: None, code };
        let client = self.client().await.map_err(whole)?;
        let mut writer = client.new_multi_writer();
        for op in ops {
            // The crate checks each op as it is added, before anything is
            // sent, as Java's client does (`Op` constructors).
            let added = match op {
                MultiOp::Check { path, version } => {
                    writer.add_check_version(path, version.unwrap_or(-1))
                }
                MultiOp::Create { path, data, mode } => {
                    writer.add_create(path, data, &create_options(*mode))
                }
                MultiOp::SetData {
                    path,
                    data,
                    version,
                } => writer.add_set_data(path, data, *version),
                MultiOp::Delete { path, version } => writer.add_delete(path, *version),
            };
            added.map_err(|e| whole(code(e)))?;
        }
        let committed = writer.commit().await;
        self.drain();
        match committed {
            Ok(results) => results.into_iter().map(multi_result).collect(),
            Err(zkc::MultiWriteError::OperationFailed { index, source }) => Err(MultiError {
                index: Some(index),
                code: code(source),
            }),
            Err(zkc::MultiWriteError::RequestFailed { source }) => Err(whole(code(source))),
        }
    }

    async fn sync(&self, path: &str) -> Result<(), Code> {
        let client = self.client().await?;
        let result = client.sync(path).await.map_err(code);
        self.watched(result)
    }

    async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>, Code> {
        let client = self.client().await?;
        let result = client.list_ephemerals(prefix).await.map_err(code);
        self.watched(result)
    }

    async fn get_all_children_number(&self, path: &str) -> Result<i32, Code> {
        let client = self.client().await?;
        let result = client.count_descendants_number(path).await.map_err(code);
        Ok(self.watched(result)? as i32)
    }

    async fn get_data_and_watch(&self, path: &str) -> Result<(Vec<u8>, Stat), Code> {
        let client = self.client().await?;
        let result = client.get_and_watch_data(path).await.map_err(code);
        let (data, stat, poller) = self.watched(result)?;
        // A second watcher of the same watch, kept for `remove_watches`
        // (see `watches`); the server keeps one watch either way.
        let handle = client.get_and_watch_data(path).await.map_err(code)?.2;
        self.watches
            .lock()
            .unwrap()
            .add_oneshot(path, Class::Data, poller, handle);
        self.drain();
        Ok((data, stat_of(&stat)))
    }

    async fn exists_and_watch(&self, path: &str) -> Result<Option<Stat>, Code> {
        let client = self.client().await?;
        let result = client.check_and_watch_stat(path).await.map_err(code);
        let (stat, poller) = self.watched(result)?;
        let handle = client.check_and_watch_stat(path).await.map_err(code)?.1;
        self.watches
            .lock()
            .unwrap()
            .add_oneshot(path, Class::Data, poller, handle);
        self.drain();
        Ok(stat.as_ref().map(stat_of))
    }

    async fn get_children_and_watch(&self, path: &str) -> Result<Vec<String>, Code> {
        let client = self.client().await?;
        let result = client.list_and_watch_children(path).await.map_err(code);
        let (children, poller) = self.watched(result)?;
        let handle = client.list_and_watch_children(path).await.map_err(code)?.1;
        self.watches
            .lock()
            .unwrap()
            .add_oneshot(path, Class::Child, poller, handle);
        self.drain();
        Ok(without_zookeeper_node(path, children))
    }

    async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<(), Code> {
        let client = self.client().await?;
        let mode = match mode {
            AddWatchMode::Persistent => zkc::AddWatchMode::Persistent,
            AddWatchMode::PersistentRecursive => zkc::AddWatchMode::PersistentRecursive,
        };
        let result = client.watch(path, mode).await.map_err(code);
        let watcher = self.watched(result)?;
        self.watches.lock().unwrap().add_persistent(path, watcher);
        Ok(())
    }

    async fn remove_watches(&self, path: &str, kind: WatcherType) -> Result<(), Code> {
        let client = self.client().await?;
        // The crate checks paths as it adds a multi's ops, without sending.
        client
            .new_multi_writer()
            .add_check_version(path, -1)
            .map_err(code)?;
        let removed = self.watches.lock().unwrap().take_for_removal(path, kind);
        let result = watches::remove(removed).await.map_err(code);
        self.watched(result)
    }

    async fn take_events(&self) -> Vec<Event> {
        let mut watches = self.watches.lock().unwrap();
        watches.drain();
        watches.take_events()
    }

    async fn close(&self) -> Result<(), Code> {
        self.drain();
        let Some(client) = self.client.lock().unwrap().take() else {
            return Err(Code::new("CLIENT(already closed)"));
        };
        let mut state = client.state_watcher();
        // The crate closes a session when its last handle goes.
        drop(client);
        let ended = tokio::time::timeout(SESSION_TIMEOUT, async {
            loop {
                let now = state.changed().await;
                if now.is_terminated() {
                    return now;
                }
            }
        })
        .await;
        *self.watches.lock().unwrap() = Watches::default();
        match ended {
            Ok(now) => {
                *self.ended.lock().unwrap() = Some(format!("{now:?}"));
                Ok(())
            }
            Err(_) => Err(Code::new("CLIENT(close timed out)")),
        }
    }

    fn crash(self: Box<Self>) {
        // A detached session's handles go without closing it.
        drop(self);
    }
}

fn create_options(mode: Mode) -> zkc::CreateOptions<'static> {
    let (mode, ttl) = match mode {
        Mode::Persistent => (zkc::CreateMode::Persistent, None),
        Mode::PersistentSequential => (zkc::CreateMode::PersistentSequential, None),
        Mode::Ephemeral => (zkc::CreateMode::Ephemeral, None),
        Mode::EphemeralSequential => (zkc::CreateMode::EphemeralSequential, None),
        Mode::Container => (zkc::CreateMode::Container, None),
        Mode::PersistentWithTtl(ms) => (zkc::CreateMode::Persistent, Some(ms)),
        Mode::PersistentSequentialWithTtl(ms) => (zkc::CreateMode::PersistentSequential, Some(ms)),
    };
    let options = mode.with_acls(zkc::Acls::anyone_all());
    match ttl {
        Some(ms) => options.with_ttl(Duration::from_millis(ms.into())),
        None => options,
    }
}

fn multi_result(result: zkc::MultiWriteResult) -> Result<MultiResult, MultiError> {
    Ok(match result {
        zkc::MultiWriteResult::Check => MultiResult::Checked,
        zkc::MultiWriteResult::Create { path, stat } => MultiResult::Created {
            path,
            stat: stat_of(&stat),
        },
        zkc::MultiWriteResult::SetData { stat } => MultiResult::SetData(stat_of(&stat)),
        zkc::MultiWriteResult::Delete => MultiResult::Deleted,
        other => {
            return Err(MultiError {
                index: None,
                code: Code(format!("CLIENT(unknown multi result {other:?})")),
            })
        }
    })
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
