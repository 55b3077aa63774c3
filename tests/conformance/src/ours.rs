//! Our side: the local stack (the real function binaries under the local
//! runner) through `fk_client`.

use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use fk_client::{Client, ConnectOptions, CreateMode, Error, MultiFailure, WatchedEvent};
use fk_core::{Op, OpResult};
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;
use tokio::sync::mpsc;

use crate::zk::{
    AddWatchMode, Code, Event, EventType, Mode, MultiError, MultiOp, MultiResult, SessionOptions,
    Stat, WatcherType, Zk,
};

/// Environment variable: the user store of the stack the suite runs
/// against (`s3`, the default, `dynamodb` or `redis`).
pub const STORE_ENV: &str = "FK_CONFORMANCE_STORE";

/// The deployment every scenario of this test process shares: one local
/// stack, started on first use and kept until the process ends. Scenarios
/// keep out of each other's way by working under their own parent node.
///
/// The stack lives on a thread and runtime of its own, because each test
/// has its own runtime and the first test's would end with it.
pub fn deployment() -> &'static fk_aws::deployment::Deployment {
    static DEPLOYMENT: OnceLock<fk_aws::deployment::Deployment> = OnceLock::new();
    DEPLOYMENT.get_or_init(|| {
        let store = match std::env::var(STORE_ENV).as_deref() {
            Ok("s3") | Ok("") | Err(_) => StoreKind::S3,
            Ok("dynamodb") => StoreKind::Dynamodb,
            Ok("redis") => StoreKind::Redis,
            Ok(other) => panic!("{STORE_ENV}={other}: expected s3, dynamodb or redis"),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("fk-conformance-stack".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a runtime for the stack");
                runtime.block_on(async move {
                    // Scenarios run side by side and their writes queue up
                    // behind each other in the one distributor: the lock
                    // lifetime (and the function timeout that bounds a
                    // writer's wait for a lock) must outlast that backlog,
                    // as in production (docs/write-path.md).
                    let mut options = StackOptions::new(store);
                    options.lock_ttl_ms = 15_000;
                    options.visibility_timeout_s = 20;
                    let stack = Stack::start(options).await;
                    let _ = tx.send(stack.deployment.clone());
                    // Runs until the process ends; its functions die with it.
                    std::future::pending::<()>().await;
                    drop(stack);
                });
            })
            .expect("a thread for the stack");
        rx.recv()
            .expect("the local stack did not start (see the panic above)")
    })
}

/// A session with the shared local stack.
pub struct OurSession {
    client: Client,
    /// Every watch event of the session, subscribed before anything else.
    events: Mutex<Events>,
}

struct Events {
    receiver: mpsc::UnboundedReceiver<WatchedEvent>,
    /// The zxid of the last event taken: events come in commit order.
    last_zxid: i64,
}

impl OurSession {
    pub async fn connect(options: SessionOptions) -> Result<OurSession, Code> {
        let mut connect = ConnectOptions::default();
        if let Some(timeout) = options.timeout {
            connect.session_timeout = timeout;
        }
        // Any session may crash: dropping a client without closing it
        // leaves its session to expire.
        let client = Client::connect_with(deployment(), connect)
            .await
            .map_err(code)?;
        let receiver = client.subscribe().map_err(code)?;
        Ok(OurSession {
            client,
            events: Mutex::new(Events {
                receiver,
                last_zxid: 0,
            }),
        })
    }
}

#[async_trait]
impl Zk for OurSession {
    fn session_id(&self) -> i64 {
        self.client.session_id().map(|s| s.raw()).unwrap_or(0)
    }

    fn state(&self) -> String {
        // By name, so that a state fk_client adds shows as itself.
        match format!("{:?}", self.client.state()).as_str() {
            "Connected" => "SyncConnected".into(),
            "ReadOnly" => "ConnectedReadOnly".into(),
            other => other.into(),
        }
    }

    async fn create(&self, path: &str, data: &[u8], mode: Mode) -> Result<(String, Stat), Code> {
        let (path, stat) = self
            .client
            .create(path, data, create_mode(mode))
            .await
            .map_err(code)?;
        Ok((path, stat_of(&stat)))
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
        let stat = self.client.exists(path).await.map_err(code)?;
        Ok(stat.as_ref().map(stat_of))
    }

    async fn get_children(&self, path: &str) -> Result<Vec<String>, Code> {
        self.client.get_children(path).await.map_err(code)
    }

    async fn get_children2(&self, path: &str) -> Result<(Vec<String>, Stat), Code> {
        let (children, stat) = self
            .client
            .get_children_with_stat(path)
            .await
            .map_err(code)?;
        Ok((children, stat_of(&stat)))
    }

    async fn multi(&self, ops: &[MultiOp]) -> Result<Vec<MultiResult>, MultiError> {
        let ops = ops.iter().map(op_of).collect();
        match self.client.multi(ops).await {
            Ok(results) => results.into_iter().map(multi_result).collect(),
            Err(failure) => Err(multi_error(failure)),
        }
    }

    async fn sync(&self, path: &str) -> Result<(), Code> {
        self.client.sync(path).await.map_err(code)
    }

    async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>, Code> {
        self.client.get_ephemerals(prefix).await.map_err(code)
    }

    async fn get_all_children_number(&self, path: &str) -> Result<i32, Code> {
        self.client
            .get_all_children_number(path)
            .await
            .map_err(code)
    }

    async fn get_data_and_watch(&self, path: &str) -> Result<(Vec<u8>, Stat), Code> {
        let (data, stat) = self.client.get_data_and_watch(path).await.map_err(code)?;
        Ok((data, stat_of(&stat)))
    }

    async fn exists_and_watch(&self, path: &str) -> Result<Option<Stat>, Code> {
        let stat = self.client.exists_and_watch(path).await.map_err(code)?;
        Ok(stat.as_ref().map(stat_of))
    }

    async fn get_children_and_watch(&self, path: &str) -> Result<Vec<String>, Code> {
        let (children, _stat) = self
            .client
            .get_children_and_watch(path)
            .await
            .map_err(code)?;
        Ok(children)
    }

    async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<(), Code> {
        let mode = match mode {
            AddWatchMode::Persistent => fk_client::AddWatchMode::Persistent,
            AddWatchMode::PersistentRecursive => fk_client::AddWatchMode::PersistentRecursive,
        };
        self.client.add_watch(path, mode).await.map_err(code)
    }

    async fn remove_watches(&self, path: &str, kind: WatcherType) -> Result<(), Code> {
        let kind = match kind {
            WatcherType::Children => fk_client::WatcherType::Children,
            WatcherType::Data => fk_client::WatcherType::Data,
            WatcherType::Any => fk_client::WatcherType::Any,
        };
        self.client.remove_watches(path, kind).await.map_err(code)
    }

    async fn take_events(&self) -> Vec<Event> {
        let mut events = self.events.lock().unwrap();
        let mut taken = Vec::new();
        // Empty or disconnected: everything so far is taken.
        while let Ok(event) = events.receiver.try_recv() {
            // ZooKeeper sends no zxid to compare; an event older than one
            // already taken breaks the commit order, and shows as an event
            // of its own kind.
            let mut path = event.path;
            if event.zxid < events.last_zxid {
                path = format!("{path} (zxid {} after {})", event.zxid, events.last_zxid);
            }
            events.last_zxid = events.last_zxid.max(event.zxid);
            taken.push(Event {
                path,
                event_type: event_type(event.event_type),
            });
        }
        taken
    }

    async fn close(&self) -> Result<(), Code> {
        // A clone closes the session; this handle stays, closed.
        self.client.clone().close().await.map_err(code)
    }

    fn crash(self: Box<Self>) {
        // The client's keep-alive stops with its last handle.
        drop(self);
    }
}

fn event_type(t: fk_client::EventType) -> EventType {
    match t {
        fk_client::EventType::NodeCreated => EventType::NodeCreated,
        fk_client::EventType::NodeDeleted => EventType::NodeDeleted,
        fk_client::EventType::NodeDataChanged => EventType::NodeDataChanged,
        fk_client::EventType::NodeChildrenChanged => EventType::NodeChildrenChanged,
    }
}

fn create_mode(mode: Mode) -> CreateMode {
    match mode {
        Mode::Persistent => CreateMode::Persistent,
        Mode::PersistentSequential => CreateMode::PersistentSequential,
        Mode::Ephemeral => CreateMode::Ephemeral,
        Mode::EphemeralSequential => CreateMode::EphemeralSequential,
        Mode::Container => CreateMode::Container,
        // fk-client's TTL modes carry no TTL: it does not support them.
        Mode::PersistentWithTtl(_) => CreateMode::PersistentWithTtl,
        Mode::PersistentSequentialWithTtl(_) => CreateMode::PersistentSequentialWithTtl,
    }
}

fn op_of(op: &MultiOp) -> Op {
    match op {
        MultiOp::Check { path, version } => Op::Check {
            path: path.clone(),
            version: *version,
        },
        MultiOp::Create { path, data, mode } => Op::Create {
            path: path.clone(),
            data: Bytes::copy_from_slice(data),
            mode: create_mode(*mode),
        },
        MultiOp::SetData {
            path,
            data,
            version,
        } => Op::SetData {
            path: path.clone(),
            data: Bytes::copy_from_slice(data),
            version: *version,
        },
        MultiOp::Delete { path, version } => Op::Delete {
            path: path.clone(),
            version: *version,
        },
    }
}

fn multi_result(result: OpResult) -> Result<MultiResult, MultiError> {
    Ok(match result {
        OpResult::Checked => MultiResult::Checked,
        OpResult::Created { path, stat } => MultiResult::Created {
            path,
            stat: stat_of(&stat),
        },
        OpResult::SetData { stat } => MultiResult::SetData(stat_of(&stat)),
        OpResult::Deleted => MultiResult::Deleted,
        other => {
            return Err(MultiError {
                index: None,
                code: Code(format!("CLIENT(a multi answered {other:?} for an op)")),
            })
        }
    })
}

/// ZooKeeper's report, checked for its shape: `OK` before the failing op,
/// its error, `RUNTIMEINCONSISTENCY` after.
fn multi_error(failure: MultiFailure) -> MultiError {
    if failure.results.is_empty() {
        return MultiError {
            index: None,
            code: code(failure.error),
        };
    }
    let index = failure.results.iter().position(Result::is_err);
    let well_formed = index.is_some_and(|i| {
        failure.results[i] == Err(failure.error.code())
            && failure.results[i + 1..]
                .iter()
                .all(|r| *r == Err(fk_client::Code::RuntimeInconsistency))
    });
    if !well_formed {
        return MultiError {
            index: None,
            code: Code(format!(
                "CLIENT(per-op results {:?} for error {})",
                failure.results,
                failure.error.code().code_name()
            )),
        };
    }
    MultiError {
        index,
        code: code(failure.error),
    }
}

fn stat_of(s: &fk_client::Stat) -> Stat {
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

fn code(e: Error) -> Code {
    Code::new(e.code().code_name())
}
