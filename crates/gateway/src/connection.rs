//! One client connection: the handshake, then three tasks.
//!
//! - The reader (this task) reads frames; it answers pings itself, at
//!   once, so that a slow write (a queue round trip) never looks like a
//!   dead server to a client counting the time since its last byte.
//! - The processor answers the other requests one at a time, in order,
//!   each in a span of its own (`zk.gateway`), under which the fk client's
//!   spans (and through the queue, the functions') join its trace.
//! - The writer writes replies and watch notifications. Before each reply
//!   it writes every notification that has arrived: the fk client makes a
//!   read wait for the notifications of the changes it shows, so a client
//!   sees a watch event before any reply that shows its change, as
//!   ZooKeeper promises.

use std::sync::Arc;
use std::time::Duration;

use fk_client::{Client, Code, WatchedEvent};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufReader, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tracing::Instrument as _;

use crate::ops::{self, Reply};
use crate::oracle::OracleSession;
use crate::proto::jute::{Reader, Writer};
use crate::proto::request::Request;
use crate::proto::response::Response;
use crate::proto::{
    xid, ConnectRequest, ConnectResponse, OpCode, ReplyHeader, RequestHeader, WatcherEvent,
    MAX_FRAME,
};
use crate::server::Shared;
use crate::sessions::Session;

/// A request as read: its header and its whole frame.
struct Incoming {
    header: RequestHeader,
    frame: Vec<u8>,
}

enum Handshake {
    Session(Arc<Session>),
    /// The session asked for is gone: the client learns it has expired.
    Expired,
}

pub async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut writer = BufWriter::new(write);
    let connect = match read_frame(&mut reader).await {
        Ok(frame) => match ConnectRequest::read(&mut Reader::new(&frame)) {
            Ok(connect) => connect,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "not a ZooKeeper connect request");
                return;
            }
        },
        Err(_) => return,
    };
    let session = match handshake(&shared, &connect).await {
        Ok(Handshake::Session(session)) => session,
        Ok(Handshake::Expired) => {
            let expired = ConnectResponse {
                protocol_version: 0,
                timeout: 0,
                session_id: 0,
                password: Some(vec![0; 16]),
                read_only: Some(false),
            };
            let _ = write_connect(&mut writer, &expired).await;
            return;
        }
        Err(e) => {
            // ZooKeeper's clients retry a connection that closes.
            tracing::warn!(%peer, error = %e, "cannot open a session");
            return;
        }
    };
    let (generation, stop) = session.attach();
    tracing::info!(
        %peer,
        session = format_args!("{:#x}", session.id),
        resumed = connect.session_id != 0,
        "connected"
    );
    let accepted = ConnectResponse {
        protocol_version: 0,
        timeout: session.timeout.as_millis() as i32,
        session_id: session.id,
        password: Some(session.password.clone()),
        read_only: Some(false),
    };
    if write_connect(&mut writer, &accepted).await.is_err() {
        shared.sessions.expire_unless_resumed(session, generation);
        return;
    }
    let oracle = match &shared.oracle {
        Some(oracle) => oracle.open(&connect, session.id).await,
        None => None,
    };

    let (replies, replies_rx) = mpsc::unbounded_channel();
    let (requests, requests_rx) = mpsc::unbounded_channel();
    let processor = tokio::spawn(process(
        session.clone(),
        shared.clone(),
        requests_rx,
        replies.clone(),
        oracle,
    ));
    let written = tokio::spawn(write_loop(
        session.clone(),
        writer,
        replies_rx,
        stop.clone(),
    ));
    read_loop(&mut reader, stop, &requests, &replies).await;
    // Requests already read are still answered (into a closed socket, if
    // it closed): a write the client sent is the client's, as in
    // ZooKeeper.
    drop(requests);
    drop(replies);
    let _ = processor.await;
    let _ = written.await;
    shared.sessions.expire_unless_resumed(session, generation);
    tracing::info!(%peer, "disconnected");
}

async fn handshake(
    shared: &Shared,
    connect: &ConnectRequest,
) -> Result<Handshake, fk_client::Error> {
    if connect.session_id != 0 {
        let password = connect.password.as_deref().unwrap_or_default();
        return Ok(
            match shared.sessions.resume(connect.session_id, password).await {
                Some(session) => Handshake::Session(session),
                None => Handshake::Expired,
            },
        );
    }
    let timeout = shared.negotiate(connect.timeout);
    let client = Client::builder(&shared.deployment)
        .options(shared.connect.clone())
        .session_timeout(timeout)
        .connect()
        .await?;
    Ok(Handshake::Session(shared.sessions.open(client, timeout)))
}

async fn read_loop(
    reader: &mut BufReader<OwnedReadHalf>,
    mut stop: watch::Receiver<u64>,
    requests: &mpsc::UnboundedSender<Incoming>,
    replies: &mpsc::UnboundedSender<Reply>,
) {
    loop {
        let frame = tokio::select! {
            frame = read_frame(reader) => frame,
            _ = stop.changed() => return,
        };
        let Ok(frame) = frame else { return };
        let Ok(header) = RequestHeader::read(&mut Reader::new(&frame)) else {
            tracing::warn!("a frame too short for a request header");
            return;
        };
        if header.opcode == OpCode::Ping.code() {
            let _ = replies.send(Reply::ok(xid::PING, Response::Empty));
            continue;
        }
        if requests.send(Incoming { header, frame }).is_err() {
            return;
        }
    }
}

async fn process(
    session: Arc<Session>,
    shared: Arc<Shared>,
    mut requests: mpsc::UnboundedReceiver<Incoming>,
    replies: mpsc::UnboundedSender<Reply>,
    oracle: Option<OracleSession>,
) {
    while let Some(Incoming { header, frame }) = requests.recv().await {
        let name = OpCode::from_code(header.opcode).map_or("unknown", OpCode::name);
        let span = tracing::info_span!(
            "zk.gateway",
            otel.name = format!("gateway {name}"),
            otel.kind = "server",
            zk.op = name,
            zk.xid = header.xid,
            zk.session = format!("{:#x}", session.id),
        );
        let reply = answer(&session, &shared, header, &frame)
            .instrument(span)
            .await;
        if let Some(oracle) = &oracle {
            oracle.compare(header, &frame, reply.err, &reply.body);
        }
        let close = reply.then_close;
        if replies.send(reply).is_err() || close {
            break;
        }
    }
}

async fn answer(session: &Session, shared: &Shared, header: RequestHeader, frame: &[u8]) -> Reply {
    let mut r = Reader::new(frame);
    let _ = RequestHeader::read(&mut r);
    let request = match Request::read(header.opcode, &mut r) {
        Ok(request) => request,
        Err(e) => {
            tracing::warn!(opcode = header.opcode, error = %e, "a request that does not decode");
            return Reply::err(header.xid, Code::MarshallingError);
        }
    };
    if header.opcode == OpCode::CloseSession.code() {
        if let Err(e) = shared.sessions.close(session).await {
            tracing::warn!(error = %e, "closing the session");
        }
        let mut reply = Reply::ok(header.xid, Response::Empty);
        reply.then_close = true;
        return reply;
    }
    ops::answer(session, header.xid, header.opcode, request).await
}

async fn write_loop(
    session: Arc<Session>,
    mut w: BufWriter<OwnedWriteHalf>,
    mut replies: mpsc::UnboundedReceiver<Reply>,
    mut stop: watch::Receiver<u64>,
) {
    // The previous connection of the session (if any) was told to stop
    // and lets go of the events.
    let mut events = session.events.clone().lock_owned().await;
    let mut events_open = true;
    let result: std::io::Result<()> = async {
        loop {
            tokio::select! {
                biased;
                reply = replies.recv() => {
                    let Some(reply) = reply else { return Ok(()) };
                    while let Ok(event) = events.try_recv() {
                        write_event(&session, &mut w, &fk_event(&event)).await?;
                    }
                    for event in &reply.events_before {
                        write_event(&session, &mut w, event).await?;
                    }
                    if let Some(added) = reply.watch.clone() {
                        session.mirror.lock().unwrap().add(added);
                    }
                    let header = ReplyHeader {
                        xid: reply.xid,
                        zxid: session.last_zxid(),
                        err: reply.err,
                    };
                    write_frame(&mut w, |out| {
                        header.write(out);
                        reply.body.write(out);
                    })
                    .await?;
                    w.flush().await?;
                    if reply.then_close {
                        return Ok(());
                    }
                }
                event = events.recv(), if events_open => {
                    // None: the session ended. A closing session's reply
                    // is still to be written; an expired one's connection
                    // is stopped.
                    let Some(event) = event else {
                        events_open = false;
                        continue;
                    };
                    write_event(&session, &mut w, &fk_event(&event)).await?;
                    w.flush().await?;
                }
                _ = stop.changed() => return Ok(()),
            }
        }
    }
    .await;
    if let Err(e) = result {
        tracing::debug!(error = %e, "the connection broke");
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), w.shutdown()).await;
}

fn fk_event(event: &WatchedEvent) -> WatcherEvent {
    WatcherEvent {
        event_type: event.event_type.code(),
        state: WatcherEvent::SYNC_CONNECTED,
        path: event.path.clone(),
    }
}

async fn write_event(
    session: &Session,
    w: &mut BufWriter<OwnedWriteHalf>,
    event: &WatcherEvent,
) -> std::io::Result<()> {
    if let Some(event_type) = event_type_of(event.event_type) {
        session.mirror.lock().unwrap().fire(event_type, &event.path);
    }
    // ZooKeeper 3.8 sends no zxid with a notification.
    let header = ReplyHeader {
        xid: xid::NOTIFICATION,
        zxid: -1,
        err: 0,
    };
    write_frame(w, |out| {
        header.write(out);
        event.write(out);
    })
    .await
}

fn event_type_of(code: i32) -> Option<fk_client::EventType> {
    use fk_client::EventType as E;
    [
        E::NodeCreated,
        E::NodeDeleted,
        E::NodeDataChanged,
        E::NodeChildrenChanged,
    ]
    .into_iter()
    .find(|e| e.code() == code)
}

async fn write_connect(
    w: &mut BufWriter<OwnedWriteHalf>,
    response: &ConnectResponse,
) -> std::io::Result<()> {
    write_frame(w, |out| response.write(out)).await?;
    w.flush().await
}

async fn write_frame(
    w: &mut BufWriter<OwnedWriteHalf>,
    body: impl FnOnce(&mut Writer),
) -> std::io::Result<()> {
    let mut out = Writer::new();
    body(&mut out);
    let bytes = out.into_bytes();
    w.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    w.write_all(&bytes).await
}

/// One frame's record; an error at the end of the stream or for a frame
/// beyond [`MAX_FRAME`] (ZooKeeper closes such a connection too).
pub(crate) async fn read_frame<R: tokio::io::AsyncRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Vec<u8>> {
    let mut len = [0; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes, beyond jute.maxbuffer"),
        ));
    }
    let mut frame = vec![0; len];
    r.read_exact(&mut frame).await?;
    Ok(frame)
}
