//! Request bodies, by opcode (`zookeeper.jute`'s `*Request` records).

use super::jute::{DecodeError, Reader, Writer};
use super::{Acl, MultiHeader, OpCode};

/// A request's body. Several opcodes share a layout: the opcode in the
/// header says which operation it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// create, create2, createContainer (`CreateRequest`) and createTTL
    /// (`CreateTTLRequest`, with `ttl`).
    Create {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        flags: i32,
        ttl: Option<i64>,
    },
    /// delete, deleteContainer's path only is [`Request::Path`].
    Delete { path: String, version: i32 },
    /// exists, getData, getChildren, getChildren2.
    PathWatch { path: String, watch: bool },
    SetData {
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    },
    /// getACL, sync, getEphemerals, getAllChildrenNumber,
    /// deleteContainer.
    Path(String),
    SetAcl {
        path: String,
        acl: Vec<Acl>,
        version: i32,
    },
    /// check (`CheckVersionRequest`).
    Check { path: String, version: i32 },
    /// multi and multiRead: each op's opcode and body.
    Multi(Vec<(i32, Request)>),
    /// checkWatches and removeWatches: `type` 1 children, 2 data, 3 any.
    Watches { path: String, watcher_type: i32 },
    /// setWatches, and setWatches2 with the persistent watches.
    SetWatches {
        relative_zxid: i64,
        data: Vec<String>,
        exist: Vec<String>,
        child: Vec<String>,
        persistent: Option<(Vec<String>, Vec<String>)>,
    },
    /// addWatch: `mode` 0 persistent, 1 persistent recursive.
    AddWatch { path: String, mode: i32 },
    /// auth (`AuthPacket`).
    Auth {
        auth_type: i32,
        scheme: String,
        auth: Option<Vec<u8>>,
    },
    /// ping, closeSession, whoAmI: no body.
    Empty,
    /// An opcode whose body the gateway does not read (sasl, reconfig,
    /// or one it does not know): kept as bytes.
    Opaque(Vec<u8>),
}

impl Request {
    /// Reads the body of a request with `opcode`; the whole rest of the
    /// frame must be that body.
    pub fn read(opcode: i32, r: &mut Reader) -> Result<Request, DecodeError> {
        let request = Request::read_one(opcode, r)?;
        r.finish()?;
        Ok(request)
    }

    fn read_one(opcode: i32, r: &mut Reader) -> Result<Request, DecodeError> {
        use OpCode as O;
        let Some(op) = OpCode::from_code(opcode) else {
            return Ok(Request::Opaque(rest(r)));
        };
        Ok(match op {
            O::Create | O::Create2 | O::CreateContainer | O::CreateTtl => Request::Create {
                path: r.string()?,
                data: r.buffer()?,
                acl: Acl::read_all(r)?,
                flags: r.int()?,
                ttl: match op {
                    O::CreateTtl => Some(r.long()?),
                    _ => None,
                },
            },
            O::Delete => Request::Delete {
                path: r.string()?,
                version: r.int()?,
            },
            O::Exists | O::GetData | O::GetChildren | O::GetChildren2 => Request::PathWatch {
                path: r.string()?,
                watch: r.bool()?,
            },
            O::SetData => Request::SetData {
                path: r.string()?,
                data: r.buffer()?,
                version: r.int()?,
            },
            O::GetAcl
            | O::Sync
            | O::GetEphemerals
            | O::GetAllChildrenNumber
            | O::DeleteContainer => Request::Path(r.string()?),
            O::SetAcl => Request::SetAcl {
                path: r.string()?,
                acl: Acl::read_all(r)?,
                version: r.int()?,
            },
            O::Check => Request::Check {
                path: r.string()?,
                version: r.int()?,
            },
            O::Multi | O::MultiRead => {
                let mut ops = Vec::new();
                loop {
                    let header = MultiHeader::read(r)?;
                    if header.done {
                        break;
                    }
                    ops.push((header.opcode, Request::read_one(header.opcode, r)?));
                }
                Request::Multi(ops)
            }
            O::CheckWatches | O::RemoveWatches => Request::Watches {
                path: r.string()?,
                watcher_type: r.int()?,
            },
            O::SetWatches | O::SetWatches2 => Request::SetWatches {
                relative_zxid: r.long()?,
                data: r.strings()?,
                exist: r.strings()?,
                child: r.strings()?,
                persistent: match op {
                    O::SetWatches2 => Some((r.strings()?, r.strings()?)),
                    _ => None,
                },
            },
            O::AddWatch => Request::AddWatch {
                path: r.string()?,
                mode: r.int()?,
            },
            O::Auth => Request::Auth {
                auth_type: r.int()?,
                scheme: r.string()?,
                auth: r.buffer()?,
            },
            O::Ping | O::CloseSession | O::WhoAmI => Request::Empty,
            O::Sasl | O::Reconfig | O::Notification | O::CreateSession | O::Error => {
                Request::Opaque(rest(r))
            }
        })
    }

    /// Writes the body as a client would (what the oracle forwards and the
    /// round-trip tests compare).
    pub fn write(&self, w: &mut Writer) {
        match self {
            Request::Create {
                path,
                data,
                acl,
                flags,
                ttl,
            } => {
                w.string(path).buffer(data.as_deref());
                Acl::write_all(acl, w);
                w.int(*flags);
                if let Some(ttl) = ttl {
                    w.long(*ttl);
                }
            }
            Request::Delete { path, version } | Request::Check { path, version } => {
                w.string(path).int(*version);
            }
            Request::PathWatch { path, watch } => {
                w.string(path).bool(*watch);
            }
            Request::SetData {
                path,
                data,
                version,
            } => {
                w.string(path).buffer(data.as_deref()).int(*version);
            }
            Request::Path(path) => {
                w.string(path);
            }
            Request::SetAcl { path, acl, version } => {
                w.string(path);
                Acl::write_all(acl, w);
                w.int(*version);
            }
            Request::Multi(ops) => {
                for (opcode, op) in ops {
                    MultiHeader {
                        opcode: *opcode,
                        done: false,
                        err: -1,
                    }
                    .write(w);
                    op.write(w);
                }
                MultiHeader::DONE.write(w);
            }
            Request::Watches { path, watcher_type } => {
                w.string(path).int(*watcher_type);
            }
            Request::SetWatches {
                relative_zxid,
                data,
                exist,
                child,
                persistent,
            } => {
                w.long(*relative_zxid)
                    .strings(data)
                    .strings(exist)
                    .strings(child);
                if let Some((persistent, recursive)) = persistent {
                    w.strings(persistent).strings(recursive);
                }
            }
            Request::AddWatch { path, mode } => {
                w.string(path).int(*mode);
            }
            Request::Auth {
                auth_type,
                scheme,
                auth,
            } => {
                w.int(*auth_type).string(scheme).buffer(auth.as_deref());
            }
            Request::Empty => {}
            Request::Opaque(bytes) => {
                w.raw(bytes);
            }
        }
    }
}

fn rest(r: &mut Reader) -> Vec<u8> {
    r.rest().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(opcode: OpCode, request: Request) {
        let mut w = Writer::new();
        request.write(&mut w);
        let bytes = w.into_bytes();
        let read = Request::read(opcode.code(), &mut Reader::new(&bytes)).unwrap();
        assert_eq!(read, request, "{}", opcode.name());
    }

    #[test]
    fn each_layout_reads_back_as_written() {
        round_trip(
            OpCode::CreateTtl,
            Request::Create {
                path: "/t".into(),
                data: None,
                acl: vec![Acl::anyone_all()],
                flags: 5,
                ttl: Some(1000),
            },
        );
        round_trip(
            OpCode::Multi,
            Request::Multi(vec![
                (
                    OpCode::Check.code(),
                    Request::Check {
                        path: "/a".into(),
                        version: -1,
                    },
                ),
                (
                    OpCode::SetData.code(),
                    Request::SetData {
                        path: "/a".into(),
                        data: Some(b"x".to_vec()),
                        version: 3,
                    },
                ),
            ]),
        );
        round_trip(
            OpCode::SetWatches2,
            Request::SetWatches {
                relative_zxid: 9,
                data: vec!["/a".into()],
                exist: vec![],
                child: vec!["/b".into()],
                persistent: Some((vec![], vec!["/c".into()])),
            },
        );
        round_trip(OpCode::Sasl, Request::Opaque(vec![1, 2, 3]));
    }

    #[test]
    fn a_body_with_bytes_left_over_is_refused() {
        let mut w = Writer::new();
        w.string("/a").int(1).int(99);
        let bytes = w.into_bytes();
        let read = Request::read(OpCode::Delete.code(), &mut Reader::new(&bytes));
        assert_eq!(read.unwrap_err(), DecodeError::TrailingBytes(4));
    }
}
