//! ZooKeeper's client protocol (3.5+), as `zookeeper.jute` and `ZooDefs`
//! define it: frames, headers, the connect handshake, requests and
//! responses.
//!
//! Every frame is a 4-byte big-endian length, then the record. The first
//! frame each way is the handshake ([`ConnectRequest`],
//! [`ConnectResponse`]); after it, a request is a [`RequestHeader`] and
//! its body ([`request::Request`]), a reply a [`ReplyHeader`] and its
//! body ([`response::Response`]), and a watch notification a reply with
//! xid [`xid::NOTIFICATION`] and a [`WatcherEvent`].

pub mod jute;
pub mod request;
pub mod response;

use jute::{DecodeError, Reader, Writer};

/// The largest frame accepted: ZooKeeper's default `jute.maxbuffer`
/// (0xfffff bytes) plus room for the headers.
pub const MAX_FRAME: usize = 0xfffff + 1024;

/// The xids that are not a request's own.
pub mod xid {
    /// A watch notification.
    pub const NOTIFICATION: i32 = -1;
    pub const PING: i32 = -2;
    pub const AUTH: i32 = -4;
    pub const SET_WATCHES: i32 = -8;
}

/// `ZooDefs.OpCode`: what a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpCode {
    Notification,
    Create,
    Delete,
    Exists,
    GetData,
    SetData,
    GetAcl,
    SetAcl,
    GetChildren,
    Sync,
    Ping,
    GetChildren2,
    Check,
    Multi,
    Create2,
    Reconfig,
    CheckWatches,
    RemoveWatches,
    CreateContainer,
    DeleteContainer,
    CreateTtl,
    MultiRead,
    Auth,
    SetWatches,
    Sasl,
    GetEphemerals,
    GetAllChildrenNumber,
    SetWatches2,
    AddWatch,
    WhoAmI,
    CreateSession,
    CloseSession,
    Error,
}

impl OpCode {
    /// Every opcode, for the documentation's table and its test.
    pub const ALL: [OpCode; 33] = [
        OpCode::Notification,
        OpCode::Create,
        OpCode::Delete,
        OpCode::Exists,
        OpCode::GetData,
        OpCode::SetData,
        OpCode::GetAcl,
        OpCode::SetAcl,
        OpCode::GetChildren,
        OpCode::Sync,
        OpCode::Ping,
        OpCode::GetChildren2,
        OpCode::Check,
        OpCode::Multi,
        OpCode::Create2,
        OpCode::Reconfig,
        OpCode::CheckWatches,
        OpCode::RemoveWatches,
        OpCode::CreateContainer,
        OpCode::DeleteContainer,
        OpCode::CreateTtl,
        OpCode::MultiRead,
        OpCode::Auth,
        OpCode::SetWatches,
        OpCode::Sasl,
        OpCode::GetEphemerals,
        OpCode::GetAllChildrenNumber,
        OpCode::SetWatches2,
        OpCode::AddWatch,
        OpCode::WhoAmI,
        OpCode::CreateSession,
        OpCode::CloseSession,
        OpCode::Error,
    ];

    pub fn code(self) -> i32 {
        match self {
            OpCode::Notification => 0,
            OpCode::Create => 1,
            OpCode::Delete => 2,
            OpCode::Exists => 3,
            OpCode::GetData => 4,
            OpCode::SetData => 5,
            OpCode::GetAcl => 6,
            OpCode::SetAcl => 7,
            OpCode::GetChildren => 8,
            OpCode::Sync => 9,
            OpCode::Ping => 11,
            OpCode::GetChildren2 => 12,
            OpCode::Check => 13,
            OpCode::Multi => 14,
            OpCode::Create2 => 15,
            OpCode::Reconfig => 16,
            OpCode::CheckWatches => 17,
            OpCode::RemoveWatches => 18,
            OpCode::CreateContainer => 19,
            OpCode::DeleteContainer => 20,
            OpCode::CreateTtl => 21,
            OpCode::MultiRead => 22,
            OpCode::Auth => 100,
            OpCode::SetWatches => 101,
            OpCode::Sasl => 102,
            OpCode::GetEphemerals => 103,
            OpCode::GetAllChildrenNumber => 104,
            OpCode::SetWatches2 => 105,
            OpCode::AddWatch => 106,
            OpCode::WhoAmI => 107,
            OpCode::CreateSession => -10,
            OpCode::CloseSession => -11,
            OpCode::Error => -1,
        }
    }

    pub fn from_code(code: i32) -> Option<OpCode> {
        OpCode::ALL.into_iter().find(|op| op.code() == code)
    }

    /// The name `ZooDefs.OpCode` gives it.
    pub fn name(self) -> &'static str {
        match self {
            OpCode::Notification => "notification",
            OpCode::Create => "create",
            OpCode::Delete => "delete",
            OpCode::Exists => "exists",
            OpCode::GetData => "getData",
            OpCode::SetData => "setData",
            OpCode::GetAcl => "getACL",
            OpCode::SetAcl => "setACL",
            OpCode::GetChildren => "getChildren",
            OpCode::Sync => "sync",
            OpCode::Ping => "ping",
            OpCode::GetChildren2 => "getChildren2",
            OpCode::Check => "check",
            OpCode::Multi => "multi",
            OpCode::Create2 => "create2",
            OpCode::Reconfig => "reconfig",
            OpCode::CheckWatches => "checkWatches",
            OpCode::RemoveWatches => "removeWatches",
            OpCode::CreateContainer => "createContainer",
            OpCode::DeleteContainer => "deleteContainer",
            OpCode::CreateTtl => "createTTL",
            OpCode::MultiRead => "multiRead",
            OpCode::Auth => "auth",
            OpCode::SetWatches => "setWatches",
            OpCode::Sasl => "sasl",
            OpCode::GetEphemerals => "getEphemerals",
            OpCode::GetAllChildrenNumber => "getAllChildrenNumber",
            OpCode::SetWatches2 => "setWatches2",
            OpCode::AddWatch => "addWatch",
            OpCode::WhoAmI => "whoAmI",
            OpCode::CreateSession => "createSession",
            OpCode::CloseSession => "closeSession",
            OpCode::Error => "error",
        }
    }
}

/// The first frame a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    /// The session timeout asked for, in milliseconds.
    pub timeout: i32,
    /// 0 for a new session.
    pub session_id: i64,
    pub password: Option<Vec<u8>>,
    /// Clients before 3.4 send no such byte.
    pub read_only: Option<bool>,
}

impl ConnectRequest {
    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(ConnectRequest {
            protocol_version: r.int()?,
            last_zxid_seen: r.long()?,
            timeout: r.int()?,
            session_id: r.long()?,
            password: r.buffer()?,
            read_only: optional_bool(r)?,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        w.int(self.protocol_version)
            .long(self.last_zxid_seen)
            .int(self.timeout)
            .long(self.session_id)
            .buffer(self.password.as_deref());
        if let Some(read_only) = self.read_only {
            w.bool(read_only);
        }
    }
}

/// The first frame the server sends: the session, or (timeout 0) that the
/// session asked for is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    /// The negotiated session timeout, in milliseconds; 0: expired.
    pub timeout: i32,
    pub session_id: i64,
    pub password: Option<Vec<u8>>,
    pub read_only: Option<bool>,
}

impl ConnectResponse {
    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(ConnectResponse {
            protocol_version: r.int()?,
            timeout: r.int()?,
            session_id: r.long()?,
            password: r.buffer()?,
            read_only: optional_bool(r)?,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        w.int(self.protocol_version)
            .int(self.timeout)
            .long(self.session_id)
            .buffer(self.password.as_deref());
        if let Some(read_only) = self.read_only {
            w.bool(read_only);
        }
    }
}

fn optional_bool(r: &mut Reader) -> Result<Option<bool>, DecodeError> {
    match r.remaining() {
        0 => Ok(None),
        _ => r.bool().map(Some),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHeader {
    pub xid: i32,
    pub opcode: i32,
}

impl RequestHeader {
    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(RequestHeader {
            xid: r.int()?,
            opcode: r.int()?,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        w.int(self.xid).int(self.opcode);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHeader {
    pub xid: i32,
    pub zxid: i64,
    /// `KeeperException.Code`, 0 for OK.
    pub err: i32,
}

impl ReplyHeader {
    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(ReplyHeader {
            xid: r.int()?,
            zxid: r.long()?,
            err: r.int()?,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        w.int(self.xid).long(self.zxid).int(self.err);
    }
}

/// A node's `Stat`, in jute's field order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub data_length: i32,
    pub num_children: i32,
    pub pzxid: i64,
}

impl Stat {
    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Stat {
            czxid: r.long()?,
            mzxid: r.long()?,
            ctime: r.long()?,
            mtime: r.long()?,
            version: r.int()?,
            cversion: r.int()?,
            aversion: r.int()?,
            ephemeral_owner: r.long()?,
            data_length: r.int()?,
            num_children: r.int()?,
            pzxid: r.long()?,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        w.long(self.czxid)
            .long(self.mzxid)
            .long(self.ctime)
            .long(self.mtime)
            .int(self.version)
            .int(self.cversion)
            .int(self.aversion)
            .long(self.ephemeral_owner)
            .int(self.data_length)
            .int(self.num_children)
            .long(self.pzxid);
    }
}

impl From<fk_core::Stat> for Stat {
    fn from(s: fk_core::Stat) -> Self {
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner,
            data_length: s.data_length,
            num_children: s.num_children,
            pzxid: s.pzxid,
        }
    }
}

/// An ACL entry: permissions for an identity (`scheme:id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub perms: i32,
    pub scheme: String,
    pub id: String,
}

impl Acl {
    /// `ZooDefs.Perms.ALL`.
    pub const ALL: i32 = 31;

    /// `ZooDefs.Ids.OPEN_ACL_UNSAFE`'s one entry: anyone may do anything.
    pub fn anyone_all() -> Acl {
        Acl {
            perms: Acl::ALL,
            scheme: "world".into(),
            id: "anyone".into(),
        }
    }

    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Acl {
            perms: r.int()?,
            scheme: r.string()?,
            id: r.string()?,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        w.int(self.perms).string(&self.scheme).string(&self.id);
    }

    pub fn read_all(r: &mut Reader) -> Result<Vec<Acl>, DecodeError> {
        r.vec(Acl::read)
    }

    pub fn write_all(acl: &[Acl], w: &mut Writer) {
        w.int(acl.len() as i32);
        for entry in acl {
            entry.write(w);
        }
    }
}

/// A watch notification's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherEvent {
    /// `Watcher.Event.EventType`: 1 created, 2 deleted, 3 data changed,
    /// 4 children changed.
    pub event_type: i32,
    /// `Watcher.Event.KeeperState`: 3 SyncConnected.
    pub state: i32,
    pub path: String,
}

impl WatcherEvent {
    pub const SYNC_CONNECTED: i32 = 3;

    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(WatcherEvent {
            event_type: r.int()?,
            state: r.int()?,
            path: r.string()?,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        w.int(self.event_type).int(self.state).string(&self.path);
    }
}

/// One entry of a multi's request or response: which op (or result)
/// follows, whether the list is done, and a result's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiHeader {
    pub opcode: i32,
    pub done: bool,
    pub err: i32,
}

impl MultiHeader {
    /// The header that ends a multi's list.
    pub const DONE: MultiHeader = MultiHeader {
        opcode: -1,
        done: true,
        err: -1,
    };

    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(MultiHeader {
            opcode: r.int()?,
            done: r.bool()?,
            err: r.int()?,
        })
    }

    pub fn write(&self, w: &mut Writer) {
        w.int(self.opcode).bool(self.done).int(self.err);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_maps_back_from_its_number() {
        for op in OpCode::ALL {
            assert_eq!(OpCode::from_code(op.code()), Some(op), "{}", op.name());
        }
        assert_eq!(OpCode::from_code(10), None, "10 is unused");
    }

    #[test]
    fn a_connect_request_without_the_read_only_byte_encodes_without_it() {
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout: 30_000,
            session_id: 0,
            password: Some(vec![0; 16]),
            read_only: None,
        };
        let mut w = Writer::new();
        request.write(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(bytes.len(), 4 + 8 + 4 + 8 + 4 + 16);
        let mut r = Reader::new(&bytes);
        assert_eq!(ConnectRequest::read(&mut r).unwrap(), request);
        r.finish().unwrap();
    }
}
