//! Real backends for tests: a moto server (the AWS emulator), a Redis
//! server and an Apache ZooKeeper server (the reference the conformance
//! suite compares with), each started at most once per test process on a
//! free loopback port, or taken from the environment.
//!
//! # Layout
//!
//! - [`moto`]: `FK_TEST_AWS_ENDPOINT`, or our own `scripts/moto_server.py`
//!   (moto with DynamoDB requests serialised).
//! - [`redis`]: `FK_TEST_REDIS_URL`, or our own `redis-server`.
//! - [`zookeeper`]: `FK_TEST_ZOOKEEPER`, or our own standalone ZooKeeper
//!   3.8 (Debian's `zookeeper` package, run with `java`).
//! - [`unique_name`]: resource names that never collide, because tests run in
//!   parallel against one emulator that is never reset.
//! - [`repo_root`]: the workspace root.
//!
//! # Child processes
//!
//! Servers are spawned from one thread that lives as long as the process,
//! with `PR_SET_PDEATHSIG = SIGKILL`: the kernel sends that signal when the
//! *spawning thread* exits, so a short-lived spawner would kill its servers
//! early, while a permanent one lets them die exactly with the test process
//! — also when it is killed or panics.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Environment variable: use this AWS endpoint instead of starting moto.
pub const AWS_ENDPOINT_ENV: &str = "FK_TEST_AWS_ENDPOINT";
/// Environment variable: use this Redis URL instead of starting Redis.
pub const REDIS_URL_ENV: &str = "FK_TEST_REDIS_URL";
/// Environment variable: the URL of the user a distributor writes as.
pub const REDIS_WRITE_URL_ENV: &str = "FK_TEST_REDIS_WRITE_URL";
/// Environment variable: the URL of the read-only user clients read as.
pub const REDIS_READ_URL_ENV: &str = "FK_TEST_REDIS_READ_URL";
/// Environment variable: use this ZooKeeper (`host:port`) instead of
/// starting one.
pub const ZOOKEEPER_ENV: &str = "FK_TEST_ZOOKEEPER";
/// Environment variable: the `java` that runs ZooKeeper.
pub const JAVA_ENV: &str = "FK_JAVA";
/// Where Debian's `zookeeper` package puts the server and its configuration.
const ZOOKEEPER_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/etc/zookeeper/conf";
/// Environment variable: the Python that runs moto.
pub const PYTHON_ENV: &str = "FK_PYTHON";

/// How long a server may take to answer.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running AWS emulator.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

/// A running Redis server.
#[derive(Debug)]
pub struct Redis {
    /// `redis://[user:password@]127.0.0.1:<port>`: may do anything.
    pub url: String,
    /// The distributor's user: reads, writes and scripts.
    pub write_url: String,
    /// The clients' user: reads only.
    pub read_url: String,
}

/// A running ZooKeeper server.
#[derive(Debug)]
pub struct ZooKeeper {
    /// `127.0.0.1:<port>`: a connect string for a ZooKeeper client.
    pub connect: String,
}

/// The AWS emulator this test process uses, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        if let Some(endpoint) = env_nonempty(AWS_ENDPOINT_ENV) {
            return Moto { endpoint };
        }
        let python = python();
        let script = repo_root().join("scripts/moto_server.py");
        let port = start_server(
            "moto",
            |port| {
                let mut cmd = Command::new(&python);
                cmd.arg(&script)
                    .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                cmd
            },
            |port| http_answers(port, "/moto-api/"),
        )
        .unwrap_or_else(|why| {
            panic!(
                "could not start moto with `{} {}`: {why}\n\
                 Install it with `pip install 'moto[server]' waitress` (into {} or the python \
                 named by \
                 {PYTHON_ENV}), or point {AWS_ENDPOINT_ENV} at a running emulator.",
                python.display(),
                script.display(),
                repo_root().join(".tools/venv").display(),
            )
        });
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    })
}

/// The Redis server this test process uses, started on first use.
pub fn redis() -> &'static Redis {
    static REDIS: OnceLock<Redis> = OnceLock::new();
    REDIS.get_or_init(|| {
        if let Some(url) = env_nonempty(REDIS_URL_ENV) {
            // scripts/backends.sh's server has a user per role; another
            // server is used with one URL for all three.
            let role = |var: &str| env_nonempty(var).unwrap_or_else(|| url.clone());
            return Redis {
                write_url: role(REDIS_WRITE_URL_ENV),
                read_url: role(REDIS_READ_URL_ENV),
                url,
            };
        }
        let conf =
            std::env::temp_dir().join(format!("fk-testkit-redis-{}.conf", std::process::id()));
        std::fs::write(&conf, REDIS_USERS).expect("writing the redis configuration");
        let port = start_server(
            "redis",
            |port| {
                let mut cmd = Command::new("redis-server");
                cmd.arg(&conf)
                    .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                    .args(["--save", "", "--appendonly", "no"]);
                cmd
            },
            redis_answers,
        )
        .unwrap_or_else(|why| {
            panic!(
                "could not start `redis-server`: {why}\n\
                 Install it with `apt-get install redis-server`, or point {REDIS_URL_ENV} at a \
                 running server."
            )
        });
        let url =
            |user: &str, password: &str| format!("redis://{user}:{password}@127.0.0.1:{port}");
        Redis {
            url: url("fk-admin", "admin"),
            write_url: url("fk-distributor", "distributor"),
            read_url: url("fk-client", "client"),
        }
    })
}

/// A Redis server that speaks TLS only (as ElastiCache with encryption in
/// transit), with the users of [`redis()`] and a certificate from a CA of
/// its own.
#[derive(Debug)]
pub struct RedisTls {
    /// `rediss://fk-distributor:distributor@127.0.0.1:<port>`.
    pub write_url: String,
    /// `rediss://fk-client:client@127.0.0.1:<port>`.
    pub read_url: String,
    /// The PEM certificate of the CA that signed the server's.
    pub ca_pem: Vec<u8>,
}

/// The TLS Redis server of this test process, started on first use (its
/// certificates made with `openssl`).
pub fn redis_tls() -> &'static RedisTls {
    static REDIS_TLS: OnceLock<RedisTls> = OnceLock::new();
    REDIS_TLS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fk-testkit-redis-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the TLS files");
        make_test_certificates(&dir).unwrap_or_else(|why| {
            panic!(
                "could not make test certificates with `openssl` (apt-get install openssl): {why}"
            )
        });
        let conf = dir.join("redis.conf");
        std::fs::write(&conf, REDIS_USERS).expect("writing the redis configuration");
        let file = |name: &str| dir.join(name).display().to_string();
        let port = start_server(
            "redis-tls",
            |port| {
                let mut cmd = Command::new("redis-server");
                cmd.arg(&conf)
                    .args(["--bind", "127.0.0.1", "--port", "0"])
                    .args(["--tls-port", &port.to_string()])
                    .args(["--tls-cert-file", &file("server.pem")])
                    .args(["--tls-key-file", &file("server.key")])
                    .args(["--tls-ca-cert-file", &file("ca.pem")])
                    .args(["--tls-auth-clients", "no"])
                    .args(["--save", "", "--appendonly", "no"]);
                cmd
            },
            |port| {
                Command::new("redis-cli")
                    .args(["--tls", "--cacert", &file("ca.pem")])
                    .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                    .args([
                        "--user",
                        "fk-admin",
                        "--pass",
                        "admin",
                        "--no-auth-warning",
                        "ping",
                    ])
                    .stderr(Stdio::null())
                    .output()
                    .is_ok_and(|out| out.stdout.starts_with(b"PONG"))
            },
        )
        .unwrap_or_else(|why| panic!("could not start `redis-server` with TLS: {why}"));
        let url =
            |user: &str, password: &str| format!("rediss://{user}:{password}@127.0.0.1:{port}");
        RedisTls {
            write_url: url("fk-distributor", "distributor"),
            read_url: url("fk-client", "client"),
            ca_pem: std::fs::read(dir.join("ca.pem")).expect("the CA certificate"),
        }
    })
}

/// A CA (`ca.pem`) and a certificate for 127.0.0.1 it signed
/// (`server.pem`, `server.key`), in `dir`.
fn make_test_certificates(dir: &Path) -> Result<(), String> {
    let run = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("openssl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "openssl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let subject_ca = "/CN=fk-testkit CA";
    run(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject_ca,
        "-keyout", "ca.key", "-out", "ca.pem",
    ])?;
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ])?;
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .map_err(|e| e.to_string())?;
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ])
}

/// The users of a Redis server this crate starts: the split of rights of
/// scripts/backends.sh (and of the production store), with fixed passwords
/// (the server listens on loopback only and lives as long as the test).
const REDIS_USERS: &str = "\
user default off
user fk-admin on >admin ~* &* +@all
user fk-distributor on >distributor ~* +@read +@write +@scripting +@transaction +@connection -@dangerous
user fk-client on >client ~* +@read +@transaction +@connection -@dangerous
";

/// The ZooKeeper server this test process uses, started on first use: a
/// standalone Apache ZooKeeper (3.8 on Debian 12) with its data in a fresh
/// temporary directory.
///
/// Configured for tests: `tickTime` 500 ms (so sessions may time out after
/// as little as 1 s), no fsync, no connection limit per client address,
/// the four-letter words `ruok`, `stat`, `srvr` and `mntr`, and no admin
/// server.
pub fn zookeeper() -> &'static ZooKeeper {
    static ZOOKEEPER: OnceLock<ZooKeeper> = OnceLock::new();
    ZOOKEEPER.get_or_init(|| {
        if let Some(connect) = env_nonempty(ZOOKEEPER_ENV) {
            return ZooKeeper { connect };
        }
        remove_stale_zookeeper_dirs();
        let java = env_nonempty(JAVA_ENV).unwrap_or_else(|| "java".into());
        let port = start_server(
            "zookeeper",
            |port| {
                let mut cmd = Command::new(&java);
                match zookeeper_dir(port) {
                    Ok(config) => {
                        cmd.args(["-Xmx256m", "-XX:+UseSerialGC", "-cp", ZOOKEEPER_CLASSPATH])
                            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
                            .arg(config);
                    }
                    // Fails to start, with the reason as its output.
                    Err(e) => {
                        cmd.args(["-version", &format!("cannot write zoo.cfg: {e}")]);
                    }
                }
                cmd
            },
            zookeeper_answers,
        )
        .unwrap_or_else(|why| {
            panic!(
                "could not start ZooKeeper with `{java} -cp {ZOOKEEPER_CLASSPATH} \
                 org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg`: {why}\n\
                 Install it with `apt-get install zookeeper` (`make setup` does), or point \
                 {ZOOKEEPER_ENV} at a running server (`host:port`)."
            )
        });
        ZooKeeper {
            connect: format!("127.0.0.1:{port}"),
        }
    })
}

/// The prefix of the directories this process's ZooKeeper servers use.
const ZOOKEEPER_DIR_PREFIX: &str = "fk-testkit-zkdata-";

/// Writes `zoo.cfg` for a server on `port` into a fresh directory (under
/// the temporary directory, named after this process) and returns its path.
fn zookeeper_dir(port: u16) -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "{ZOOKEEPER_DIR_PREFIX}{}-{port}",
        std::process::id()
    ));
    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    let config = dir.join("zoo.cfg");
    std::fs::write(
        &config,
        format!(
            "tickTime=500\n\
             dataDir={}\n\
             clientPort={port}\n\
             clientPortAddress=127.0.0.1\n\
             maxClientCnxns=0\n\
             forceSync=no\n\
             preAllocSize=1024\n\
             admin.enableServer=false\n\
             4lw.commands.whitelist=ruok,stat,srvr,mntr\n",
            data.display()
        ),
    )?;
    Ok(config)
}

/// Removes the data directories of earlier test processes that are gone
/// (a killed process cannot remove its own).
fn remove_stale_zookeeper_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(ZOOKEEPER_DIR_PREFIX) else {
            continue;
        };
        let Some(Ok(pid)) = rest.split('-').next().map(str::parse::<i32>) else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A name no other call (in this or any other process) returns: lowercase
/// letters, digits and `-`, at most 63 characters, so it is a valid S3
/// bucket, SQS queue (add `.fifo` for FIFO) and DynamoDB table name.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static EPOCH: OnceLock<u64> = OnceLock::new();
    // Distinguishes this process from an earlier one with the same pid
    // against a long-lived emulator.
    let epoch = *EPOCH.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64 % 0x1000_0000)
            .unwrap_or(0)
    });
    let mut clean: String = prefix
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .take(24)
        .collect();
    if !clean.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        clean.insert(0, 'x');
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{clean}-{:x}-{epoch:x}-{n}", std::process::id())
}

/// The workspace root (the directory with the top `Cargo.toml`).
///
/// Found from the run-time `CARGO_MANIFEST_DIR` (cargo sets it for the tests
/// it runs) before the compile-time one: checkouts that share a target
/// directory can share this crate's compiled code too, with another
/// checkout's path baked in.
pub fn repo_root() -> PathBuf {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run_time = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let root = run_time
        .iter()
        .map(PathBuf::as_path)
        .chain([compiled])
        .flat_map(Path::ancestors)
        .find(|dir| is_workspace_root(dir))
        .unwrap_or(compiled)
        .to_path_buf();
    root
}

fn is_workspace_root(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|text| text.contains("[workspace]"))
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The Python with the project's packages (moto, kazoo): `FK_PYTHON`, else
/// `.tools/venv/bin/python` (`make setup`), else `python3`.
pub fn python() -> PathBuf {
    if let Some(p) = env_nonempty(PYTHON_ENV) {
        return p.into();
    }
    let venv = repo_root().join(".tools/venv/bin/python");
    if venv.exists() {
        return venv;
    }
    "python3".into()
}

/// Starts a server on a free port and waits until `ready(port)`. A port
/// taken between choosing and binding makes the server exit; then another
/// port is tried.
fn start_server(
    name: &str,
    command: impl Fn(u16) -> Command,
    ready: impl Fn(u16) -> bool,
) -> Result<u16, String> {
    let mut last_error = String::new();
    for _ in 0..3 {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let log_path = std::env::temp_dir().join(format!(
            "fk-testkit-{name}-{}-{port}.log",
            std::process::id()
        ));
        let log = File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let mut cmd = command(port);
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let mut child = spawn_bound_to_process(cmd)?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if ready(port) {
                keep(child);
                return Ok(port);
            }
            if let Ok(Some(status)) = child.try_wait() {
                let output = tail(&log_path);
                last_error = format!(
                    "it exited with {status}; its output ({}):\n{output}",
                    log_path.display(),
                );
                // Lost the port to another process (ZooKeeper exits without
                // saying why: it has no logger here): try another.
                if output.contains("in use") || TcpListener::bind(("127.0.0.1", port)).is_err() {
                    break;
                }
                return Err(last_error);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "it did not answer within {STARTUP_TIMEOUT:?}; its output ({}):\n{}",
                    log_path.display(),
                    tail(&log_path)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Err(last_error)
}

/// Children are kept (never waited for) until the process ends.
fn keep(child: Child) {
    static CHILDREN: Mutex<Vec<Child>> = Mutex::new(Vec::new());
    CHILDREN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(child);
}

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` from the process-long spawner thread, with a parent-death
/// signal so the child dies with this process.
fn spawn_bound_to_process(cmd: Command) -> Result<Child, String> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("fk-testkit-spawner".into())
            .spawn(move || {
                // `tx` lives in a static, so `recv` never fails and this
                // thread never exits: PDEATHSIG fires only with the process.
                while let Ok((mut cmd, reply)) = rx.recv() {
                    let _ = reply.send(spawn_with_pdeathsig(&mut cmd));
                }
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn the fk-testkit spawner thread");
        Mutex::new(tx)
    });
    let program = format!("{:?}", cmd.get_program());
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, reply_tx))
        .map_err(|_| "the spawner thread is gone".to_string())?;
    reply_rx
        .recv()
        .map_err(|_| "the spawner thread is gone".to_string())?
        .map_err(|e| format!("cannot run {program}: {e}"))
}

fn spawn_with_pdeathsig(cmd: &mut Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the signal was armed.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    cmd.spawn()
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn connect(port: u16) -> Option<TcpStream> {
    let addr = ([127, 0, 0, 1], port).into();
    let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .ok()?;
    Some(stream)
}

/// Whether an HTTP server on `port` answers `GET path` with 200.
fn http_answers(port: u16, path: &str) -> bool {
    let Some(mut stream) = connect(port) else {
        return false;
    };
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

/// Whether a Redis server on `port` lets [`REDIS_USERS`]' admin in and
/// answers `PING`.
fn redis_answers(port: u16) -> bool {
    let Some(mut stream) = connect(port) else {
        return false;
    };
    if stream
        .write_all(b"AUTH fk-admin admin\r\nPING\r\n")
        .is_err()
    {
        return false;
    }
    let mut reply = [0u8; 12];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+OK\r\n+PONG\r\n"
}

/// Whether a ZooKeeper server on `port` serves requests: `ruok` answers
/// `imok` as soon as the port is open, but only `srvr` says when the
/// server has loaded its database and serves (`Mode: standalone`).
fn zookeeper_answers(port: u16) -> bool {
    let ask = |word: &[u8]| {
        let mut stream = connect(port)?;
        stream.write_all(word).ok()?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).ok()?;
        Some(String::from_utf8_lossy(&reply).into_owned())
    };
    ask(b"ruok").as_deref() == Some("imok") && ask(b"srvr").is_some_and(|r| r.contains("Mode: "))
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_distinct_and_safe_everywhere() {
        let a = unique_name("My_Table.Test");
        let b = unique_name("My_Table.Test");
        assert_ne!(a, b);
        assert!(a.starts_with("my-table-test-"));
        assert!(a.len() <= 63 && a.len() >= 3);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    }

    #[test]
    fn repo_root_holds_the_workspace() {
        assert!(repo_root().join("Cargo.toml").exists());
        assert!(repo_root().join("crates/testkit").is_dir());
    }
}
