//! Response bodies, by the opcode of the request they answer
//! (`zookeeper.jute`'s `*Response` records).

use super::jute::{DecodeError, Reader, Writer};
use super::{xid, Acl, MultiHeader, OpCode, Stat, WatcherEvent};

/// A reply's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// An error, and every operation that answers nothing.
    Empty,
    /// create (`CreateResponse`), sync (`SyncResponse`).
    Path(String),
    /// create2, createContainer, createTTL (`Create2Response`).
    PathStat { path: String, stat: Stat },
    /// exists, setData, setACL.
    Stat(Stat),
    /// getData.
    Data { data: Option<Vec<u8>>, stat: Stat },
    /// getChildren, getEphemerals.
    Children(Vec<String>),
    /// getChildren2.
    Children2 { children: Vec<String>, stat: Stat },
    /// getACL.
    Acl { acl: Vec<Acl>, stat: Stat },
    /// getAllChildrenNumber.
    Count(i32),
    /// multi and multiRead: one entry per op, in order.
    Multi(Vec<MultiResult>),
    /// `ErrorResponse`: a failed op's inside a multi; addWatch's (0).
    Error(i32),
    /// A watch notification (xid -1).
    Event(WatcherEvent),
    /// A body the gateway does not read.
    Opaque(Vec<u8>),
}

/// One op's result in a multi's response: its header's opcode (`-1` for
/// an error) and code, and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiResult {
    pub opcode: i32,
    pub err: i32,
    pub body: Response,
}

impl MultiResult {
    /// A failed op: ZooKeeper writes its code in the header and again as
    /// the body.
    pub fn error(code: i32) -> MultiResult {
        MultiResult {
            opcode: OpCode::Error.code(),
            err: code,
            body: Response::Error(code),
        }
    }
}

impl Response {
    /// Reads the body of a reply with `xid` and error `err` to a request
    /// with `opcode`.
    pub fn read(opcode: i32, xid: i32, err: i32, r: &mut Reader) -> Result<Response, DecodeError> {
        let response = if xid == xid::NOTIFICATION {
            Response::Event(WatcherEvent::read(r)?)
        } else if err != 0 {
            Response::Empty
        } else {
            Response::read_ok(opcode, r)?
        };
        r.finish()?;
        Ok(response)
    }

    fn read_ok(opcode: i32, r: &mut Reader) -> Result<Response, DecodeError> {
        use OpCode as O;
        let Some(op) = OpCode::from_code(opcode) else {
            return Ok(Response::Opaque(r.rest().to_vec()));
        };
        Ok(match op {
            O::Create | O::Sync => Response::Path(r.string()?),
            O::Create2 | O::CreateContainer | O::CreateTtl => Response::PathStat {
                path: r.string()?,
                stat: Stat::read(r)?,
            },
            O::Exists | O::SetData | O::SetAcl => Response::Stat(Stat::read(r)?),
            O::GetData => Response::Data {
                data: r.buffer()?,
                stat: Stat::read(r)?,
            },
            O::GetChildren | O::GetEphemerals => Response::Children(r.strings()?),
            O::GetChildren2 => Response::Children2 {
                children: r.strings()?,
                stat: Stat::read(r)?,
            },
            O::GetAcl => Response::Acl {
                acl: Acl::read_all(r)?,
                stat: Stat::read(r)?,
            },
            O::GetAllChildrenNumber => Response::Count(r.int()?),
            // addWatch answers an `ErrorResponse` of 0.
            O::Error | O::AddWatch => Response::Error(r.int()?),
            O::Multi | O::MultiRead => {
                let mut results = Vec::new();
                loop {
                    let header = MultiHeader::read(r)?;
                    if header.done {
                        break;
                    }
                    results.push(MultiResult {
                        opcode: header.opcode,
                        err: header.err,
                        body: Response::read_ok(header.opcode, r)?,
                    });
                }
                Response::Multi(results)
            }
            O::WhoAmI | O::Sasl | O::Reconfig => Response::Opaque(r.rest().to_vec()),
            O::Delete
            | O::Ping
            | O::CloseSession
            | O::CreateSession
            | O::Check
            | O::CheckWatches
            | O::RemoveWatches
            | O::DeleteContainer
            | O::SetWatches
            | O::SetWatches2
            | O::Auth
            | O::Notification => Response::Empty,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        match self {
            Response::Empty => {}
            Response::Path(path) => {
                w.string(path);
            }
            Response::PathStat { path, stat } => {
                w.string(path);
                stat.write(w);
            }
            Response::Stat(stat) => stat.write(w),
            Response::Data { data, stat } => {
                w.buffer(data.as_deref());
                stat.write(w);
            }
            Response::Children(children) => {
                w.strings(children);
            }
            Response::Children2 { children, stat } => {
                w.strings(children);
                stat.write(w);
            }
            Response::Acl { acl, stat } => {
                Acl::write_all(acl, w);
                stat.write(w);
            }
            Response::Count(n) | Response::Error(n) => {
                w.int(*n);
            }
            Response::Multi(results) => {
                for result in results {
                    MultiHeader {
                        opcode: result.opcode,
                        done: false,
                        err: result.err,
                    }
                    .write(w);
                    result.body.write(w);
                }
                MultiHeader::DONE.write(w);
            }
            Response::Event(event) => event.write(w),
            Response::Opaque(bytes) => {
                w.raw(bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(opcode: OpCode, response: Response) {
        let mut w = Writer::new();
        response.write(&mut w);
        let bytes = w.into_bytes();
        let read = Response::read(opcode.code(), 7, 0, &mut Reader::new(&bytes)).unwrap();
        assert_eq!(read, response, "{}", opcode.name());
    }

    #[test]
    fn each_layout_reads_back_as_written() {
        let stat = Stat {
            czxid: 1,
            mzxid: 2,
            version: 3,
            pzxid: 4,
            ..Stat::default()
        };
        round_trip(
            OpCode::GetData,
            Response::Data {
                data: Some(b"v".to_vec()),
                stat,
            },
        );
        round_trip(
            OpCode::Multi,
            Response::Multi(vec![
                MultiResult {
                    opcode: OpCode::Create.code(),
                    err: 0,
                    body: Response::Path("/a".into()),
                },
                MultiResult::error(-101),
                MultiResult {
                    opcode: OpCode::SetData.code(),
                    err: 0,
                    body: Response::Stat(stat),
                },
            ]),
        );
        round_trip(
            OpCode::GetAcl,
            Response::Acl {
                acl: vec![Acl::anyone_all()],
                stat,
            },
        );
    }

    #[test]
    fn an_error_reply_has_no_body() {
        let read = Response::read(OpCode::Exists.code(), 3, -101, &mut Reader::new(&[]));
        assert_eq!(read.unwrap(), Response::Empty);
    }
}
