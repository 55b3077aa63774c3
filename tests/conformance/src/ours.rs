//! Our side: the local stack (the real function binaries under the local
//! runner) through `fk_client`.

use std::sync::OnceLock;

use async_trait::async_trait;
use fk_client::{Client, CreateMode, Error};
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

use crate::zk::{Code, Mode, Stat, Zk};

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
                    let stack = Stack::start(StackOptions::new(store)).await;
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
}

impl OurSession {
    pub async fn connect() -> Result<OurSession, Code> {
        let client = Client::connect(deployment()).await.map_err(code)?;
        Ok(OurSession { client })
    }
}

#[async_trait]
impl Zk for OurSession {
    fn session_id(&self) -> i64 {
        self.client.session_id().map(|s| s.raw()).unwrap_or(0)
    }

    async fn create(&self, path: &str, data: &[u8], mode: Mode) -> Result<(String, Stat), Code> {
        let mode = match mode {
            Mode::Persistent => CreateMode::Persistent,
            Mode::PersistentSequential => CreateMode::PersistentSequential,
            Mode::Ephemeral => CreateMode::Ephemeral,
            Mode::EphemeralSequential => CreateMode::EphemeralSequential,
            Mode::Container => CreateMode::Container,
        };
        let (path, stat) = self.client.create(path, data, mode).await.map_err(code)?;
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

    async fn close(self: Box<Self>) -> Result<(), Code> {
        self.client.close().await.map_err(code)
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
    Code::new(e.code_name())
}
