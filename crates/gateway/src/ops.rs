//! Each request, answered through the session's fk client: parse (the
//! codec did) → call → encode, one function per family of opcodes.
//! [`UNSUPPORTED`] lists what is answered `UNIMPLEMENTED`, and why.

use fk_client::{AddWatchMode, Code, CreateMode, Error, OpResult, WatcherType};
use fk_core::Op;

use crate::mirror::{Added, Kind};
use crate::proto::request::Request;
use crate::proto::response::{MultiResult, Response};
use crate::proto::{xid, Acl, OpCode, Stat, WatcherEvent};
use crate::sessions::Session;

/// The opcodes the gateway answers `UNIMPLEMENTED`, and why.
pub const UNSUPPORTED: &[(OpCode, &str)] = &[
    (
        OpCode::SetAcl,
        "nodes have no ACLs: who may read and write is the deployment's IAM policy",
    ),
    (
        OpCode::Check,
        "alone, outside a multi: ZooKeeper's clients send check only inside a multi",
    ),
    (
        OpCode::Reconfig,
        "dynamic reconfiguration: a serverless deployment has no ensemble",
    ),
    (
        OpCode::DeleteContainer,
        "server-internal (ZooKeeper's container manager sends it); containers are not supported",
    ),
    (
        OpCode::Auth,
        "authentication schemes: clients are authenticated by AWS (IAM credentials)",
    ),
    (
        OpCode::Sasl,
        "SASL: clients are authenticated by AWS (IAM credentials)",
    ),
    (
        OpCode::WhoAmI,
        "no authentication schemes, so no identities to list",
    ),
    (
        OpCode::CreateSession,
        "only as the connect handshake, never after it",
    ),
];

/// What a request is answered with.
#[derive(Debug)]
pub struct Reply {
    pub xid: i32,
    pub err: i32,
    pub body: Response,
    /// The watch the reply sets: the mirror learns of it as it is written.
    pub watch: Option<Added>,
    /// Watch events to write before the reply (those setWatches fires).
    pub events_before: Vec<WatcherEvent>,
    /// The connection ends after this reply (closeSession).
    pub then_close: bool,
}

impl Reply {
    pub fn ok(xid: i32, body: Response) -> Reply {
        Reply {
            xid,
            err: 0,
            body,
            watch: None,
            events_before: Vec::new(),
            then_close: false,
        }
    }

    pub fn err(xid: i32, code: Code) -> Reply {
        Reply {
            err: code.code(),
            ..Reply::ok(xid, Response::Empty)
        }
    }

    fn watching(mut self, added: Added) -> Reply {
        self.watch = Some(added);
        self
    }
}

/// Answers one request of `session`.
pub async fn answer(session: &Session, xid: i32, opcode: i32, request: Request) -> Reply {
    let Some(op) = OpCode::from_code(opcode) else {
        return Reply::err(xid, Code::Unimplemented);
    };
    if let Some((_, why)) = UNSUPPORTED.iter().find(|(o, _)| *o == op) {
        tracing::debug!(op = op.name(), why, "unimplemented");
        return Reply::err(xid, Code::Unimplemented);
    }
    let zk = &session.client;
    let result: Result<Reply, Error> = match (op, request) {
        (
            OpCode::Create | OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl,
            Request::Create {
                path,
                data,
                acl,
                flags,
                ..
            },
        ) => create(session, op, &path, data.as_deref(), &acl, flags)
            .await
            .map(|body| Reply::ok(xid, body)),
        (OpCode::Delete, Request::Delete { path, version }) => zk
            .delete(&path, any(version))
            .await
            .map(|()| Reply::ok(xid, Response::Empty)),
        (OpCode::Exists, Request::PathWatch { path, watch }) => {
            let stat = match watch {
                true => zk.exists_and_watch(&path).await,
                false => zk.exists(&path).await,
            };
            // A watch is left on a missing node too.
            stat.map(|stat| match stat {
                Some(stat) => {
                    let reply = Reply::ok(xid, Response::Stat(seen(session, stat)));
                    watched(reply, watch, &path, Kind::Data)
                }
                None => watched(Reply::err(xid, Code::NoNode), watch, &path, Kind::Exist),
            })
        }
        (OpCode::GetData, Request::PathWatch { path, watch }) => {
            let read = match watch {
                true => zk.get_data_and_watch(&path).await,
                false => zk.get_data(&path).await,
            };
            read.map(|(data, stat)| {
                let body = Response::Data {
                    data: Some(data),
                    stat: seen(session, stat),
                };
                watched(Reply::ok(xid, body), watch, &path, Kind::Data)
            })
        }
        (
            OpCode::SetData,
            Request::SetData {
                path,
                data,
                version,
            },
        ) => zk
            .set_data(&path, data.as_deref().unwrap_or_default(), any(version))
            .await
            .map(|stat| Reply::ok(xid, Response::Stat(seen(session, stat)))),
        (OpCode::GetChildren | OpCode::GetChildren2, Request::PathWatch { path, watch }) => {
            let read = match watch {
                true => zk.get_children_and_watch(&path).await,
                false => zk.get_children_with_stat(&path).await,
            };
            read.map(|(children, stat)| {
                let stat = seen(session, stat);
                let body = match op {
                    OpCode::GetChildren => Response::Children(children),
                    _ => Response::Children2 { children, stat },
                };
                watched(Reply::ok(xid, body), watch, &path, Kind::Child)
            })
        }
        (OpCode::GetAcl, Request::Path(path)) => match zk.exists(&path).await {
            // No ACLs: anyone the deployment's IAM policy lets in may do
            // anything, which is what ZooKeeper's open ACL says.
            Ok(Some(stat)) => Ok(Reply::ok(
                xid,
                Response::Acl {
                    acl: vec![Acl::anyone_all()],
                    stat: seen(session, stat),
                },
            )),
            Ok(None) => Err(Code::NoNode.into()),
            Err(e) => Err(e),
        },
        (OpCode::Sync, Request::Path(path)) => zk
            .sync(&path)
            .await
            .map(|()| Reply::ok(xid, Response::Path(path))),
        (OpCode::Multi, Request::Multi(ops)) => Ok(multi(session, xid, ops).await),
        (OpCode::MultiRead, Request::Multi(ops)) => Ok(multi_read(session, xid, ops).await),
        (OpCode::CheckWatches, Request::Watches { path, watcher_type }) => {
            match watcher_type_of(watcher_type) {
                Some(t) if session.mirror.lock().unwrap().holds(&path, t) => {
                    Ok(Reply::ok(xid, Response::Empty))
                }
                Some(_) => Err(Code::NoWatcher.into()),
                None => Err(Code::BadArguments.into()),
            }
        }
        (OpCode::RemoveWatches, Request::Watches { path, watcher_type }) => {
            match watcher_type_of(watcher_type) {
                Some(t) => zk.remove_watches(&path, t).await.map(|()| {
                    session.mirror.lock().unwrap().remove(&path, t);
                    Reply::ok(xid, Response::Empty)
                }),
                None => Err(Code::BadArguments.into()),
            }
        }
        (OpCode::SetWatches | OpCode::SetWatches2, request) => {
            Ok(crate::rewatch::set_watches(session, request).await)
        }
        (OpCode::AddWatch, Request::AddWatch { path, mode }) => {
            let mode = match mode {
                0 => AddWatchMode::Persistent,
                1 => AddWatchMode::PersistentRecursive,
                _ => return Reply::err(xid, Code::BadArguments),
            };
            zk.add_watch(&path, mode).await.map(|()| {
                Reply::ok(xid, Response::Error(0)).watching(Added::Persistent(path, mode))
            })
        }
        (OpCode::GetEphemerals, Request::Path(prefix)) => zk
            .get_ephemerals(&prefix)
            .await
            .map(|paths| Reply::ok(xid, Response::Children(paths))),
        (OpCode::GetAllChildrenNumber, Request::Path(path)) => zk
            .get_all_children_number(&path)
            .await
            .map(|n| Reply::ok(xid, Response::Count(n))),
        (OpCode::Ping, _) => Ok(Reply::ok(xid::PING, Response::Empty)),
        (op, request) => {
            tracing::warn!(
                op = op.name(),
                ?request,
                "a request this gateway does not answer"
            );
            Err(Code::Unimplemented.into())
        }
    };
    result.unwrap_or_else(|e| {
        tracing::debug!(op = op.name(), error = %e, "answered with an error");
        Reply::err(xid, e.code())
    })
}

/// ZooKeeper's `-1` is "any version".
fn any(version: i32) -> Option<i32> {
    (version != -1).then_some(version)
}

/// The stat, on the wire; its zxids go into the session's last zxid.
fn seen(session: &Session, stat: fk_client::Stat) -> Stat {
    session.saw_zxid(stat.czxid.max(stat.mzxid).max(stat.pzxid));
    stat.into()
}

fn watched(reply: Reply, watch: bool, path: &str, kind: Kind) -> Reply {
    match watch {
        true => reply.watching(Added::OneShot(path.to_string(), kind)),
        false => reply,
    }
}

fn watcher_type_of(code: i32) -> Option<WatcherType> {
    match code {
        1 => Some(WatcherType::Children),
        2 => Some(WatcherType::Data),
        3 => Some(WatcherType::Any),
        _ => None,
    }
}

/// `CreateMode.fromFlag`.
fn mode_of(flags: i32) -> Option<CreateMode> {
    Some(match flags {
        0 => CreateMode::Persistent,
        1 => CreateMode::Ephemeral,
        2 => CreateMode::PersistentSequential,
        3 => CreateMode::EphemeralSequential,
        4 => CreateMode::Container,
        5 => CreateMode::PersistentWithTtl,
        6 => CreateMode::PersistentSequentialWithTtl,
        _ => return None,
    })
}

/// The ACL of a create: only ZooKeeper's open ACL means what this service
/// does (anyone IAM admits may do anything); an empty one is invalid, as
/// in ZooKeeper, and any other is not supported.
fn check_acl(acl: &[Acl]) -> Result<(), Code> {
    match acl {
        [] => Err(Code::InvalidAcl),
        entries if entries.iter().all(|a| *a == Acl::anyone_all()) => Ok(()),
        _ => Err(Code::Unimplemented),
    }
}

async fn create(
    session: &Session,
    op: OpCode,
    path: &str,
    data: Option<&[u8]>,
    acl: &[Acl],
    flags: i32,
) -> Result<Response, Error> {
    check_acl(acl)?;
    let mode = mode_of(flags).ok_or(Code::BadArguments)?;
    let (created, stat) = session
        .client
        .create(path, data.unwrap_or_default(), mode)
        .await?;
    let stat = seen(session, stat);
    Ok(match op {
        OpCode::Create => Response::Path(created),
        _ => Response::PathStat {
            path: created,
            stat,
        },
    })
}

/// A multi's ops as fk ops, or the per-op report of one the gateway
/// refuses before sending (ZooKeeper's shape: OK before it, its code,
/// RUNTIMEINCONSISTENCY after).
fn multi_ops(ops: Vec<(i32, Request)>) -> Result<Vec<Op>, (usize, Code)> {
    let count = ops.len();
    let mut out = Vec::with_capacity(count);
    for (i, (opcode, request)) in ops.into_iter().enumerate() {
        let op = match (OpCode::from_code(opcode), request) {
            (
                Some(
                    OpCode::Create | OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl,
                ),
                Request::Create {
                    path,
                    data,
                    acl,
                    flags,
                    ..
                },
            ) => {
                check_acl(&acl).map_err(|code| (i, code))?;
                Op::Create {
                    path,
                    data: data.unwrap_or_default().into(),
                    mode: mode_of(flags).ok_or((i, Code::BadArguments))?,
                }
            }
            (Some(OpCode::Delete), Request::Delete { path, version }) => Op::Delete {
                path,
                version: any(version),
            },
            (
                Some(OpCode::SetData),
                Request::SetData {
                    path,
                    data,
                    version,
                },
            ) => Op::SetData {
                path,
                data: data.unwrap_or_default().into(),
                version: any(version),
            },
            (Some(OpCode::Check), Request::Check { path, version }) => Op::Check {
                path,
                version: any(version),
            },
            _ => return Err((i, Code::Unimplemented)),
        };
        out.push(op);
    }
    Ok(out)
}

fn failure_report(count: usize, failed: usize, code: Code) -> Response {
    Response::Multi(
        (0..count)
            .map(|i| match i.cmp(&failed) {
                std::cmp::Ordering::Less => MultiResult::error(0),
                std::cmp::Ordering::Equal => MultiResult::error(code.code()),
                std::cmp::Ordering::Greater => {
                    MultiResult::error(Code::RuntimeInconsistency.code())
                }
            })
            .collect(),
    )
}

async fn multi(session: &Session, xid: i32, ops: Vec<(i32, Request)>) -> Reply {
    let count = ops.len();
    let ops = match multi_ops(ops) {
        Ok(ops) => ops,
        Err((failed, code)) => return Reply::ok(xid, failure_report(count, failed, code)),
    };
    match session.client.multi(ops).await {
        Ok(results) => {
            let results = results
                .into_iter()
                .map(|result| match result {
                    // ZooKeeper 3.8 answers a create in a multi with its
                    // path only (ZOOKEEPER-4026), and so do we.
                    OpResult::Created { path, stat } => {
                        seen(session, stat);
                        MultiResult {
                            opcode: OpCode::Create.code(),
                            err: 0,
                            body: Response::Path(path),
                        }
                    }
                    OpResult::SetData { stat } => MultiResult {
                        opcode: OpCode::SetData.code(),
                        err: 0,
                        body: Response::Stat(seen(session, stat)),
                    },
                    OpResult::Deleted => MultiResult {
                        opcode: OpCode::Delete.code(),
                        err: 0,
                        body: Response::Empty,
                    },
                    OpResult::Checked => MultiResult {
                        opcode: OpCode::Check.code(),
                        err: 0,
                        body: Response::Empty,
                    },
                    other => {
                        tracing::error!(?other, "a multi result that is no op's");
                        MultiResult::error(Code::MarshallingError.code())
                    }
                })
                .collect();
            Reply::ok(xid, Response::Multi(results))
        }
        // ZooKeeper answers a failed op with OK in the header and the
        // per-op report in the body.
        Err(failure) if !failure.results.is_empty() => {
            let results = failure
                .results
                .iter()
                .map(|r| MultiResult::error(r.err().map_or(0, |c| c.code())))
                .collect();
            Reply::ok(xid, Response::Multi(results))
        }
        Err(failure) => Reply::err(xid, failure.error.code()),
    }
}

/// multiRead: each read on its own; a failed one is its error, the others
/// still answer (ZooKeeper's semantics: no atomicity, no watches).
async fn multi_read(session: &Session, xid: i32, ops: Vec<(i32, Request)>) -> Reply {
    let zk = &session.client;
    let mut results = Vec::with_capacity(ops.len());
    for (opcode, request) in ops {
        let result = match (OpCode::from_code(opcode), request) {
            (Some(OpCode::GetData), Request::PathWatch { path, .. }) => {
                zk.get_data(&path).await.map(|(data, stat)| MultiResult {
                    opcode,
                    err: 0,
                    body: Response::Data {
                        data: Some(data),
                        stat: seen(session, stat),
                    },
                })
            }
            (Some(OpCode::GetChildren), Request::PathWatch { path, .. }) => {
                zk.get_children(&path).await.map(|children| MultiResult {
                    opcode,
                    err: 0,
                    body: Response::Children(children),
                })
            }
            _ => return Reply::err(xid, Code::Unimplemented),
        };
        results.push(result.unwrap_or_else(|e| MultiResult::error(e.code().code())));
    }
    Reply::ok(xid, Response::Multi(results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_open_acl_is_accepted() {
        assert_eq!(check_acl(&[Acl::anyone_all()]), Ok(()));
        assert_eq!(check_acl(&[]), Err(Code::InvalidAcl));
        let read_only = Acl {
            perms: 1,
            ..Acl::anyone_all()
        };
        assert_eq!(check_acl(&[read_only]), Err(Code::Unimplemented));
    }

    #[test]
    fn a_refused_op_is_reported_as_zookeeper_reports_a_failed_one() {
        let report = failure_report(3, 1, Code::Unimplemented);
        let codes: Vec<i32> = match report {
            Response::Multi(results) => results.iter().map(|r| r.err).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(codes, vec![0, -6, -2]);
    }

    #[test]
    fn every_mode_flag_maps_and_others_do_not() {
        assert_eq!(mode_of(3), Some(CreateMode::EphemeralSequential));
        assert_eq!(mode_of(6), Some(CreateMode::PersistentSequentialWithTtl));
        assert_eq!(mode_of(7), None);
    }
}
