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
    /// One-shot mode: the session carried over between commands, and
    /// whether this command may leave it open for the next.
    cache: Option<(SessionCache, bool)>,
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
            cache: None,
        }
    }

    /// A connection for one command of the command line: it goes on with
    /// the session the last command left, if any, and leaves its own for
    /// the next one when `keep` (the command binds nothing to it).
    pub fn one_shot(deployment: Deployment, sink: EventSink, keep: bool) -> Self {
        let cache = SessionCache::lock(&deployment).map(|cache| (cache, keep));
        Connection {
            cache,
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

    /// Opens a session, and prints its watch events from now on.
    pub async fn open_session(&mut self) -> Result<(), Failure> {
        let resumed = match &mut self.cache {
            Some((cache, _)) => match cache.load(&self.deployment) {
                Some(detached) => Client::resume(&self.deployment, &detached, Default::default())
                    .await
                    .ok(),
                None => None,
            },
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

    /// At the end of the run: closes the session, if one is open.
    pub async fn finish(mut self) -> Result<(), Failure> {
        if self.closed {
            return Ok(());
        }
        let Some((mut cache, keep)) = self.cache.take() else {
            return self.close().await;
        };
        if keep {
            if let Some(client) = self.client.take() {
                if let Some(printer) = self.printer.take() {
                    printer.abort();
                }
                cache.store(client.detach().await.as_ref());
                return Ok(());
            }
            // No session was needed: the cached one stays for the next.
            return Ok(());
        }
        cache.store(None);
        self.close().await
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
