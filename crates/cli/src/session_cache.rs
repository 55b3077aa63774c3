//! One-shot commands share sessions: a command that needed one leaves it
//! open ([`fk_client::Client::detach`]) and records it in a file only its
//! user can read; the next resumes it if the deployment still has it,
//! instead of creating a reply queue and a session record and closing them
//! again around its write. A command that binds its session (an ephemeral
//! node, a watch, a multi) closes it as before, and so does `fk script` or
//! the shell. On unless `FK_SESSION_CACHE=0`.
//!
//! The files are in `$FK_SESSION_DIR`, else `$XDG_RUNTIME_DIR/fk`, else
//! `~/.cache/fk`: [`SLOTS`] per deployment (`session-<deployment>.json`,
//! then `.1.json`, …), one session each. A command locks a slot (flock)
//! from its first need of a session until it exits (one that binds its
//! session: only until it has taken the slot's session, which it closes),
//! so a session is never used by two processes at once: they would
//! long-poll one reply queue and take each other's replies. Commands
//! running at the same time take different slots; once every slot is
//! held, a command opens a session of its own and closes it.
//!
//! A slot's session is taken, not read: the file is emptied when a
//! command loads it and written again only once the command detached
//! cleanly. A command killed half-way thus leaves an empty slot, never a
//! session whose seqs and last long poll nobody knows (the next command
//! could send a seq the killed one already sent, and be handed its reply);
//! that session expires after its timeout.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;

use fk_aws::deployment::Deployment;
use fk_client::{DetachedSession, SessionId};
use serde_json::json;

/// Sessions kept per deployment: how many one-shot commands at once go on
/// with a session instead of opening their own. Each one left idle costs
/// nothing until it expires (its timeout after its last command).
const SLOTS: usize = 4;

/// The variable that turns the cache off (`0`).
const SWITCH: &str = "FK_SESSION_CACHE";

/// A locked slot of one deployment's cache.
pub struct SessionCache {
    file: File,
}

impl SessionCache {
    /// Locks the first free slot of the deployment's cache; `None` if
    /// caching is off, no file can be made, or running commands hold
    /// every slot.
    pub fn lock(deployment: &Deployment) -> Option<SessionCache> {
        if std::env::var(SWITCH).as_deref() == Ok("0") {
            return None;
        }
        let dir = dir()?;
        std::fs::create_dir_all(&dir).ok()?;
        let name: String = deployment
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        (0..SLOTS).find_map(|slot| {
            let file_name = match slot {
                0 => format!("session-{name}.json"),
                n => format!("session-{name}.{n}.json"),
            };
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(dir.join(file_name))
                .ok()?;
            // SAFETY: flock on a descriptor this function owns; the lock
            // goes with the descriptor, when the process exits at the latest.
            let locked =
                unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            locked.then_some(SessionCache { file })
        })
    }

    /// Takes the session the slot holds, if it is one of this
    /// deployment's, and empties the slot: whatever happens to this
    /// command, nobody else resumes that session unless
    /// [`put`](Self::put) records it again.
    pub fn take(&mut self, deployment: &Deployment) -> Option<DetachedSession> {
        let mut text = String::new();
        self.file.rewind().ok()?;
        self.file.read_to_string(&mut text).ok()?;
        if text.is_empty() {
            return None;
        }
        self.write("");
        let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
        let reply_queue_url = doc["reply_queue_url"].as_str()?.to_string();
        let prefix = fk_aws::sqs::queue_name(&reply_queue_url);
        if !prefix.starts_with(&deployment.reply_queue_prefix) {
            return None;
        }
        Some(DetachedSession {
            id: doc["session"].as_str()?.parse::<SessionId>().ok()?,
            reply_queue_url,
            last_seq: doc["last_seq"].as_u64()?,
        })
    }

    /// Records `session` for the next command.
    pub fn put(&mut self, session: &DetachedSession) {
        let text = json!({
            "session": session.id.to_string(),
            "reply_queue_url": session.reply_queue_url,
            "last_seq": session.last_seq,
        })
        .to_string();
        self.write(&text);
    }

    fn write(&mut self, text: &str) {
        let _ = self.file.set_len(0);
        let _ = self.file.rewind();
        let _ = self.file.write_all(text.as_bytes());
        let _ = self.file.sync_data();
    }
}

fn dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FK_SESSION_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR") {
        return Some(PathBuf::from(run).join("fk"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("fk"))
}
