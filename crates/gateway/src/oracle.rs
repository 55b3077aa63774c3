//! Cross-check mode (`--oracle HOST:PORT`, as zetcd's): every request is
//! also sent, unchanged, to a real ZooKeeper on a session of its own, and
//! every answer that differs from ours is logged (target
//! `fk_gateway::oracle`, level warn) and kept for [`Oracle::mismatches`].
//!
//! The oracle sees each request after we answered it, from a task of its
//! own, so it adds no latency. Answers are compared on what two servers
//! can share: the error code and the body with zxids and times blanked,
//! an ephemeral owner reduced to "some session", child lists sorted. The
//! oracle must start from the same tree (both empty, say) for sequential
//! names and versions to agree.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::connection::read_frame;
use crate::proto::jute::{Reader, Writer};
use crate::proto::response::{MultiResult, Response};
use crate::proto::{
    xid, ConnectRequest, ConnectResponse, OpCode, ReplyHeader, RequestHeader, Stat,
};

/// One answer that differed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Our session id.
    pub session: i64,
    pub op: &'static str,
    /// Ours, then the oracle's: code and normalised body.
    pub ours: String,
    pub oracle: String,
}

/// The oracle of a gateway: where it is, and what differed.
pub struct Oracle {
    address: String,
    mismatches: Arc<Mutex<Vec<Mismatch>>>,
    /// How many answers were compared.
    compared: Arc<AtomicU64>,
}

/// What one request was answered, to compare.
struct Answered {
    header: RequestHeader,
    frame: Vec<u8>,
    err: i32,
    body: Response,
}

/// One connection's session on the oracle.
pub struct OracleSession {
    to_task: mpsc::UnboundedSender<Answered>,
}

const ORACLE_TIMEOUT: Duration = Duration::from_secs(10);

impl Oracle {
    pub fn new(address: String) -> Oracle {
        Oracle {
            address,
            mismatches: Arc::default(),
            compared: Arc::default(),
        }
    }

    /// How many answers were compared so far.
    pub fn compared(&self) -> u64 {
        self.compared.load(Ordering::SeqCst)
    }

    pub fn mismatches(&self) -> Vec<Mismatch> {
        self.mismatches.lock().unwrap().clone()
    }

    /// Opens a session on the oracle for a connection that asked for
    /// `connect`; `None` (and a warning) if the oracle does not answer.
    pub async fn open(&self, connect: &ConnectRequest, session: i64) -> Option<OracleSession> {
        let opened = tokio::time::timeout(ORACLE_TIMEOUT, self.handshake(connect)).await;
        let (stream, timeout) = match opened {
            Ok(Ok(opened)) => opened,
            Ok(Err(e)) => {
                tracing::warn!(oracle = %self.address, error = %e, "the oracle does not answer");
                return None;
            }
            Err(_) => {
                tracing::warn!(oracle = %self.address, "the oracle did not answer in time");
                return None;
            }
        };
        let (to_task, answered) = mpsc::unbounded_channel();
        tokio::spawn(compare_all(
            stream,
            timeout,
            session,
            answered,
            self.mismatches.clone(),
            self.compared.clone(),
        ));
        Some(OracleSession { to_task })
    }

    async fn handshake(&self, connect: &ConnectRequest) -> std::io::Result<(TcpStream, Duration)> {
        let mut stream = TcpStream::connect(&self.address).await?;
        let request = ConnectRequest {
            last_zxid_seen: 0,
            session_id: 0,
            password: Some(vec![0; 16]),
            ..connect.clone()
        };
        let mut w = Writer::new();
        request.write(&mut w);
        write_frame(&mut stream, &w.into_bytes()).await?;
        let frame = read_frame(&mut stream).await?;
        let response = ConnectResponse::read(&mut Reader::new(&frame))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        Ok((
            stream,
            Duration::from_millis(response.timeout.max(1) as u64),
        ))
    }
}

impl OracleSession {
    /// Sends the request to the oracle and compares its answer with
    /// ours, in the background.
    pub fn compare(&self, header: RequestHeader, frame: &[u8], err: i32, body: &Response) {
        let _ = self.to_task.send(Answered {
            header,
            frame: frame.to_vec(),
            err,
            body: body.clone(),
        });
    }
}

async fn write_frame(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    stream
        .write_all(&(bytes.len() as u32).to_be_bytes())
        .await?;
    stream.write_all(bytes).await
}

async fn compare_all(
    stream: TcpStream,
    timeout: Duration,
    session: i64,
    mut answered: mpsc::UnboundedReceiver<Answered>,
    mismatches: Arc<Mutex<Vec<Mismatch>>>,
    compared: Arc<AtomicU64>,
) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    // The client's pings are answered by the gateway: the oracle's
    // session is kept alive here.
    let mut ping = tokio::time::interval(timeout / 3);
    loop {
        let next = tokio::select! {
            next = answered.recv() => next,
            _ = ping.tick() => {
                let mut w = Writer::new();
                RequestHeader { xid: xid::PING, opcode: OpCode::Ping.code() }.write(&mut w);
                let bytes = w.into_bytes();
                let mut framed = (bytes.len() as u32).to_be_bytes().to_vec();
                framed.extend(bytes);
                if write.write_all(&framed).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let Some(ours) = next else { return };
        let mut framed = (ours.frame.len() as u32).to_be_bytes().to_vec();
        framed.extend(&ours.frame);
        if write.write_all(&framed).await.is_err() {
            tracing::warn!("the oracle closed the connection");
            return;
        }
        let theirs = tokio::time::timeout(ORACLE_TIMEOUT, async {
            loop {
                let frame = read_frame(&mut read).await?;
                let mut r = Reader::new(&frame);
                let header = ReplyHeader::read(&mut r)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                if header.xid != ours.header.xid {
                    continue; // a notification, or a ping's answer
                }
                let body = Response::read(ours.header.opcode, header.xid, header.err, &mut r)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                return Ok::<_, std::io::Error>((header.err, body));
            }
        })
        .await;
        let (their_err, their_body) = match theirs {
            Ok(Ok(theirs)) => theirs,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the oracle's answer did not come");
                return;
            }
            Err(_) => {
                tracing::warn!("the oracle did not answer in time");
                return;
            }
        };
        let ours_shown = show(ours.err, &ours.body);
        let theirs_shown = show(their_err, &their_body);
        if ours_shown != theirs_shown {
            let op = OpCode::from_code(ours.header.opcode).map_or("unknown", OpCode::name);
            tracing::warn!(
                target: "fk_gateway::oracle",
                session = format_args!("{session:#x}"),
                op,
                xid = ours.header.xid,
                ours = %ours_shown,
                oracle = %theirs_shown,
                "the oracle answered differently"
            );
            mismatches.lock().unwrap().push(Mismatch {
                session,
                op,
                ours: ours_shown,
                oracle: theirs_shown,
            });
        }
        compared.fetch_add(1, Ordering::SeqCst);
        if ours.header.opcode == OpCode::CloseSession.code() {
            return;
        }
    }
}

/// An answer as two servers can agree on it.
fn show(err: i32, body: &Response) -> String {
    format!("{err} {:?}", normalise(body))
}

fn normalise(body: &Response) -> Response {
    let stat = |s: &Stat| Stat {
        czxid: 0,
        mzxid: 0,
        pzxid: 0,
        ctime: 0,
        mtime: 0,
        ephemeral_owner: (s.ephemeral_owner != 0) as i64,
        ..*s
    };
    let sorted = |c: &[String]| {
        let mut c = c.to_vec();
        c.sort();
        c
    };
    match body {
        Response::PathStat { path, stat: s } => Response::PathStat {
            path: path.clone(),
            stat: stat(s),
        },
        Response::Stat(s) => Response::Stat(stat(s)),
        Response::Data { data, stat: s } => Response::Data {
            data: data.clone(),
            stat: stat(s),
        },
        Response::Children(c) => Response::Children(sorted(c)),
        Response::Children2 { children, stat: s } => Response::Children2 {
            children: sorted(children),
            stat: stat(s),
        },
        Response::Acl { acl, stat: s } => Response::Acl {
            acl: acl.clone(),
            stat: stat(s),
        },
        Response::Multi(results) => Response::Multi(
            results
                .iter()
                .map(|r| MultiResult {
                    body: normalise(&r.body),
                    ..r.clone()
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_that_differ_only_in_zxids_times_and_owner_agree() {
        let ours = Stat {
            czxid: 5,
            mtime: 1,
            ephemeral_owner: 77,
            version: 2,
            ..Stat::default()
        };
        let theirs = Stat {
            czxid: 9,
            mtime: 3,
            ephemeral_owner: 12,
            version: 2,
            ..Stat::default()
        };
        assert_eq!(
            show(0, &Response::Stat(ours)),
            show(0, &Response::Stat(theirs))
        );
        let other_version = Stat {
            version: 3,
            ..theirs
        };
        assert_ne!(
            show(0, &Response::Stat(ours)),
            show(0, &Response::Stat(other_version))
        );
        assert_ne!(show(0, &Response::Empty), show(-101, &Response::Empty));
    }
}
