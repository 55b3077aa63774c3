//! ZooKeeper sessions, each one FaaSKeeper session (an fk client), and
//! the connections that come and go under them.
//!
//! A ZooKeeper client that loses its TCP connection reconnects with its
//! session id and password and expects its session, ephemeral nodes and
//! watches to be there if it comes back within the session timeout. The
//! gateway therefore keeps the fk client (whose keep-alive keeps the fk
//! session alive) for the negotiated timeout after a connection drops; the
//! watch events that arrive meanwhile wait in the session's event stream
//! and are written to the next connection first. Past the timeout the
//! gateway closes the fk session, so its ephemeral nodes go as
//! ZooKeeper's would.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fk_client::{Client, WatchedEvent};
use rand::RngCore as _;
use tokio::sync::{mpsc, watch};

use crate::mirror::Mirror;

/// One ZooKeeper session.
pub struct Session {
    pub id: i64,
    pub password: Vec<u8>,
    pub timeout: Duration,
    pub client: Client,
    /// The session's watch events; a connection holds the lock while it
    /// is attached.
    pub events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<WatchedEvent>>>,
    pub mirror: Mutex<Mirror>,
    /// The highest zxid a reply has shown (what reply headers carry).
    last_zxid: AtomicI64,
    /// Bumped by every connection that attaches, and when the session
    /// ends: a connection whose generation is no longer current stops.
    generation: watch::Sender<u64>,
    attached: Mutex<bool>,
    ending: watch::Sender<Ending>,
}

/// How far a session is in being closed by the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Open,
    /// The fk session's close is under way: its ephemeral nodes may still
    /// be there.
    Closing,
    /// The close took effect (or failed for good).
    Closed,
}

impl Session {
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid.load(Ordering::SeqCst)
    }

    pub fn saw_zxid(&self, zxid: i64) {
        self.last_zxid.fetch_max(zxid, Ordering::SeqCst);
    }

    /// A new connection takes the session over: the previous one (if any)
    /// is told to stop. Returns the connection's generation and a
    /// receiver that changes when it must stop.
    pub fn attach(&self) -> (u64, watch::Receiver<u64>) {
        *self.attached.lock().unwrap() = true;
        self.generation.send_modify(|g| *g += 1);
        let receiver = self.generation.subscribe();
        let generation = *receiver.borrow();
        (generation, receiver)
    }

    /// The connection of `generation` ended; returns whether it was still
    /// the session's connection (and so the session is now detached).
    pub fn detach(&self, generation: u64) -> bool {
        let current = *self.generation.borrow() == generation;
        if current {
            *self.attached.lock().unwrap() = false;
        }
        current
    }

    fn is_detached_since(&self, generation: u64) -> bool {
        *self.generation.borrow() == generation && !*self.attached.lock().unwrap()
    }

    /// Whether the gateway started closing the session.
    fn closing(&self) -> bool {
        *self.ending.borrow() != Ending::Open
    }

    /// Stops whichever connection is attached.
    fn kick(&self) {
        self.generation.send_modify(|g| *g += 1);
    }
}

/// The gateway's sessions, by ZooKeeper session id (the fk session id).
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<i64, Arc<Session>>>,
}

impl Sessions {
    /// Registers a session for a freshly connected fk client.
    pub fn open(self: &Arc<Self>, client: Client, timeout: Duration) -> Arc<Session> {
        let id = client.session_id().map(|s| s.raw()).unwrap_or(0);
        let events = client
            .subscribe()
            .unwrap_or_else(|_| mpsc::unbounded_channel().1);
        let mut password = vec![0; 16];
        rand::rng().fill_bytes(&mut password);
        let session = Arc::new(Session {
            id,
            password,
            timeout,
            events: Arc::new(tokio::sync::Mutex::new(events)),
            mirror: Mutex::default(),
            last_zxid: AtomicI64::new(0),
            generation: watch::channel(0).0,
            attached: Mutex::new(false),
            ending: watch::channel(Ending::Open).0,
            client,
        });
        self.by_id.lock().unwrap().insert(id, session.clone());
        // The fk session can end without us (its heartbeat missed): the
        // ZooKeeper session is then gone too, and its connection closes.
        // (A session the gateway closes ends its connection itself, after
        // the reply.)
        let sessions = Arc::downgrade(self);
        let watched = session.clone();
        tokio::spawn(async move {
            let mut state = watched.client.state_watcher();
            let ended = state.wait_for(|s| s.is_terminal()).await.map(|s| *s);
            if let Some(sessions) = sessions.upgrade() {
                sessions.forget(watched.id);
            }
            if ended.is_ok_and(|s| s != fk_client::SessionState::Closed) && !watched.closing() {
                watched.kick();
            }
        });
        session
    }

    /// The session `id`, if it is alive and `password` is its own.
    ///
    /// A client that reconnects while its session is being closed (its
    /// connection dropped before the close's reply) is told the session
    /// expired only once the close took effect, so that whatever it does
    /// next sees the session's ephemeral nodes gone.
    pub async fn resume(&self, id: i64, password: &[u8]) -> Option<Arc<Session>> {
        let session = self.by_id.lock().unwrap().get(&id).cloned()?;
        if session.password != password {
            return None;
        }
        let mut ending = session.ending.subscribe();
        if *ending.borrow_and_update() != Ending::Open {
            let _ = ending.wait_for(|e| *e == Ending::Closed).await;
            return None;
        }
        (!session.client.state().is_terminal()).then_some(session)
    }

    fn forget(&self, id: i64) -> Option<Arc<Session>> {
        self.by_id.lock().unwrap().remove(&id)
    }

    /// The client closed its session (or it expired without a
    /// connection).
    ///
    /// Returns once the close took effect: the session's ephemeral nodes
    /// are gone. A second close (the client's and the expiry's at once)
    /// waits for the first.
    pub async fn close(&self, session: &Session) -> Result<(), fk_client::Error> {
        let first = session.ending.send_if_modified(|e| {
            let open = *e == Ending::Open;
            if open {
                *e = Ending::Closing;
            }
            open
        });
        if !first {
            let _ = session
                .ending
                .subscribe()
                .wait_for(|e| *e == Ending::Closed)
                .await;
            return Ok(());
        }
        let closed = session.client.clone().close().await;
        self.forget(session.id);
        session.ending.send_replace(Ending::Closed);
        closed
    }

    /// The connection of `generation` dropped without closing: unless a
    /// connection takes the session over within its timeout, it expires
    /// (the fk session is closed, so its ephemeral nodes go).
    pub fn expire_unless_resumed(self: &Arc<Self>, session: Arc<Session>, generation: u64) {
        // A closed (or expired) session has nothing left to expire.
        if !session.detach(generation) || session.closing() || session.client.state().is_terminal()
        {
            return;
        }
        let sessions = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(session.timeout).await;
            if !session.is_detached_since(generation) {
                return;
            }
            tracing::info!(
                session = format_args!("{:#x}", session.id),
                "no connection within the session timeout: the session expires"
            );
            if let Err(e) = sessions.close(&session).await {
                tracing::warn!(error = %e, "closing an expired session");
            }
        });
    }

    /// How many sessions are open (not being closed).
    pub fn len(&self) -> usize {
        let by_id = self.by_id.lock().unwrap();
        by_id.values().filter(|s| !s.closing()).count()
    }
}
