//! The connection a run of `fk` holds: no client until a command needs
//! one, a read-only client for reads, a session from the first command that
//! needs one (kept until `close` or the end), and the task that prints the
//! session's watch events as they arrive.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use fk_aws::deployment::Deployment;
use fk_client::{Client, SessionState, WatchedEvent};

use crate::session_cache::SessionCache;
use tokio::task::JoinHandle;

use crate::command::{EventCount, Failure};
use crate::render;

pub struct Connection {
    deployment: Deployment,
    client: Option<Client>,
    /// After `close`: "Not connected" until `connect`.
    closed: bool,
    events: EventCount,
    sink: EventSink,
    printer: Option<JoinHandle<()>>,
    /// One-shot mode: `Some(keep)`, where `keep` says whether the command
    /// may leave its session open for the next one (it binds nothing to
    /// it).
    one_shot: Option<bool>,
    /// The slot of the session cache this one-shot command holds, from
    /// the first time it needs a session until it exits.
    cache: Option<SessionCache>,
}

impl Connection {
    pub fn new(deployment: Deployment, sink: EventSink) -> Self {
        Connection {
            deployment,
            client: None,
            closed: false,
            events: EventCount::default(),
            sink,
            printer: None,
            one_shot: None,
            cache: None,
        }
    }

    /// A connection for one command of the command line: it goes on with
    /// the session the last command left, if any, and leaves its own for
    /// the next one when `keep` (the command binds nothing to it).
    pub fn one_shot(deployment: Deployment, sink: EventSink, keep: bool) -> Self {
        Connection {
            one_shot: Some(keep),
            ..Connection::new(deployment, sink)
        }
    }

    /// The deployment's name, for the prompt.
    pub fn name(&self) -> &str {
        &self.deployment.name
    }

    /// The state as ZooKeeper's `States` names it, for the prompt.
    pub fn state(&self) -> &'static str {
        if self.closed {
            return "CLOSED";
        }
        match self.client.as_ref().map(Client::state) {
            None => "NOT_CONNECTED",
            Some(SessionState::Connected) => "CONNECTED",
            Some(SessionState::ReadOnly) => "CONNECTEDREADONLY",
            // zkCli's word while its client reconnects.
            Some(SessionState::Suspended) => "CONNECTING",
            Some(SessionState::Expired | SessionState::Closed) => "CLOSED",
            Some(_) => "UNKNOWN",
        }
    }

    /// The watch events that have arrived, for `wait`.
    pub fn events(&self) -> &EventCount {
        &self.events
    }

    /// A client for a command: with a session if `needs_session` (opened
    /// now if there is none yet), else whatever is open, or a read-only
    /// one.
    pub async fn client(&mut self, needs_session: bool) -> Result<Client, Failure> {
        if self.closed {
            return Err(Failure::NotConnected);
        }
        if let Some(client) = &self.client {
            if !needs_session || client.state() != SessionState::ReadOnly {
                return Ok(client.clone());
            }
        }
        if needs_session {
            self.open_session().await?;
        } else {
            let client = Client::read_only(&self.deployment)
                .await
                .map_err(|e| Failure::keeper("", e))?;
            self.client = Some(client);
        }
        Ok(self.client.clone().expect("opened above"))
    }

    /// Opens a session, and prints its watch events from now on. A
    /// one-shot command goes on with a cached session if one is free and
    /// the deployment still has it.
    pub async fn open_session(&mut self) -> Result<(), Failure> {
        if self.one_shot.is_some() && self.cache.is_none() {
            self.cache = SessionCache::lock(&self.deployment);
        }
        let cached = self
            .cache
            .as_mut()
            .and_then(|cache| cache.take(&self.deployment));
        if self.one_shot == Some(false) {
            // A command that binds its session closes it and puts nothing
            // back: the slot is free for others at once, not only when
            // this command (a watch waiting for its event) ends.
            self.cache = None;
        }
        let resumed = match cached {
            Some(detached) => {
                match Client::resume(&self.deployment, &detached, Default::default()).await {
                    Ok(client) => {
                        tracing::debug!(
                            session = %detached.id,
                            last_seq = detached.last_seq,
                            "resumed the cached session"
                        );
                        Some(client)
                    }
                    // Expired, about to, or closed: a new one replaces it.
                    Err(e) => {
                        tracing::debug!(
                            session = %detached.id,
                            error = %e,
                            "the cached session cannot be resumed"
                        );
                        None
                    }
                }
            }
            None => None,
        };
        let client = match resumed {
            Some(client) => client,
            None => Client::connect(&self.deployment)
                .await
                .map_err(|e| Failure::keeper("", e))?,
        };
        if let Ok(mut stream) = client.subscribe() {
            let (events, sink) = (self.events.clone(), self.sink.clone());
            self.printer = Some(tokio::spawn(async move {
                while let Some(event) = stream.recv().await {
                    sink.print(&event);
                    events.arrived();
                }
            }));
        }
        self.client = Some(client);
        self.closed = false;
        Ok(())
    }

    /// `close`: ends the session (its ephemeral nodes go).
    pub async fn close(&mut self) -> Result<(), Failure> {
        self.closed = true;
        if let Some(printer) = self.printer.take() {
            printer.abort();
        }
        match self.client.take() {
            Some(client) if client.state() == SessionState::Connected => {
                client.close().await.map_err(|e| Failure::keeper("", e))
            }
            _ => Ok(()),
        }
    }

    /// `connect`: closes the session, if any, and opens a new one, on
    /// `deployment` if given.
    pub async fn reconnect(&mut self, deployment: Option<Deployment>) -> Result<(), Failure> {
        let closed = self.close().await;
        if let Some(deployment) = deployment {
            self.deployment = deployment;
        }
        self.open_session().await?;
        closed
    }

    /// At the end of the run: a one-shot command that binds nothing to its
    /// session and holds a slot of the cache leaves the session there for
    /// the next; otherwise the session, if one is open, is closed.
    pub async fn finish(mut self) -> Result<(), Failure> {
        if self.closed {
            return Ok(());
        }
        let keep = self.one_shot == Some(true);
        match (self.cache.as_mut(), self.client.take()) {
            (Some(cache), Some(client)) if keep && client.session_id().is_some() => {
                if let Some(printer) = self.printer.take() {
                    printer.abort();
                }
                match client.detach().await {
                    Some(detached) => {
                        tracing::debug!(
                            session = %detached.id,
                            last_seq = detached.last_seq,
                            "session left for the next command"
                        );
                        cache.put(&detached);
                    }
                    // Not connected, or its listener did not stop: it
                    // expires after its timeout.
                    None => tracing::debug!("session not cached"),
                }
                Ok(())
            }
            (_, client) => {
                self.client = client;
                self.close().await
            }
        }
    }
}

/// Where watch events are printed: standard output, or above the shell's
/// prompt; `printwatches off` stops it.
#[derive(Clone)]
pub struct EventSink {
    json: bool,
    printing: Arc<AtomicBool>,
    out: Arc<Mutex<Out>>,
}

enum Out {
    Stdout,
    /// The line editor's printer: it redraws the prompt and the line being
    /// typed below the event.
    Editor(Box<dyn rustyline::ExternalPrinter + Send>),
}

impl EventSink {
    pub fn stdout(json: bool) -> Self {
        Self::new(json, Out::Stdout)
    }

    pub fn editor(json: bool, printer: impl rustyline::ExternalPrinter + Send + 'static) -> Self {
        Self::new(json, Out::Editor(Box::new(printer)))
    }

    fn new(json: bool, out: Out) -> Self {
        EventSink {
            json,
            printing: Arc::new(AtomicBool::new(true)),
            out: Arc::new(Mutex::new(out)),
        }
    }

    pub fn printing(&self) -> bool {
        self.printing.load(Ordering::SeqCst)
    }

    pub fn set_printing(&self, on: bool) {
        self.printing.store(on, Ordering::SeqCst);
    }

    fn print(&self, event: &WatchedEvent) {
        if !self.printing() {
            return;
        }
        let text = render::event(event, self.json);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *out {
            // zkCli's `printMessage`: a blank line first.
            Out::Stdout if !self.json => println!("\n{text}"),
            Out::Stdout => println!("{text}"),
            Out::Editor(printer) => {
                if printer.print(format!("{text}\n")).is_err() {
                    println!("{text}");
                }
            }
        }
    }
}
