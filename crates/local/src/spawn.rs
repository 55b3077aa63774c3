//! Starting function processes that die with the runner.
//!
//! A child gets `PR_SET_PDEATHSIG = SIGKILL`, so the kernel kills it when
//! its parent goes, even if the runner is killed with SIGKILL and never gets
//! to clean up. The kernel ties that signal to the *thread* that forked the
//! child, not to the process: a child forked from a tokio worker or blocking
//! thread would be killed whenever that thread retires. So every child is
//! forked from one thread that lives as long as the process.

use std::io;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use tokio::process::{Child, Command};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

struct Request {
    command: Command,
    runtime: Handle,
    reply: oneshot::Sender<io::Result<Child>>,
}

/// Spawns `command` (with `kill_on_drop` and the parent-death signal set)
/// from the process-wide spawner thread; the child is registered with the
/// caller's tokio runtime.
pub async fn spawn(mut command: Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    command.kill_on_drop(true);
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe calls (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let (reply, answer) = oneshot::channel();
    spawner()
        .lock()
        .map_err(|_| io::Error::other("spawner lock poisoned"))?
        .send(Request {
            command,
            runtime: Handle::current(),
            reply,
        })
        .map_err(|_| io::Error::other("spawner thread is gone"))?;
    answer
        .await
        .map_err(|_| io::Error::other("spawner thread is gone"))?
}

fn spawner() -> &'static Mutex<mpsc::Sender<Request>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("fk-local-spawner".into())
            .spawn(move || {
                for mut request in rx {
                    // tokio registers the child with the runtime it is
                    // spawned in (for `wait`), so enter the caller's.
                    let _guard = request.runtime.enter();
                    let _ = request.reply.send(request.command.spawn());
                }
            })
            .expect("cannot start the fk-local spawner thread");
        Mutex::new(tx)
    })
}
