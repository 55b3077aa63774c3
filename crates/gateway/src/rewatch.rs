//! `setWatches` / `setWatches2`: after a reconnect, a ZooKeeper client
//! sends every watch it still holds and the last zxid it saw; the server
//! fires at once those whose node moved past that zxid and keeps the rest.
//!
//! A session that resumes on this gateway kept its watches (the fk client
//! never dropped them) and the events that fired meanwhile wait to be
//! written; those watches are in the mirror and need nothing. A watch the
//! mirror lacks (its event was written to a connection that died before
//! the client read it, or the client held it from elsewhere) is checked
//! against the node and fired or set again here, as ZooKeeper does.

use fk_client::{AddWatchMode, Code, EventType};

use crate::mirror::{Added, Kind};
use crate::ops::Reply;
use crate::proto::request::Request;
use crate::proto::response::Response;
use crate::proto::{xid, WatcherEvent};
use crate::sessions::Session;

pub async fn set_watches(session: &Session, request: Request) -> Reply {
    let Request::SetWatches {
        relative_zxid,
        data,
        exist,
        child,
        persistent,
    } = request
    else {
        return Reply::err(xid::SET_WATCHES, Code::MarshallingError);
    };
    let mut fired = Vec::new();
    let (persistent, recursive) = persistent.unwrap_or_default();
    let outcome: Result<(), fk_client::Error> = async {
        for path in data {
            rewatch_data(session, &path, relative_zxid, &mut fired).await?;
        }
        for path in exist {
            rewatch_exists(session, &path, &mut fired).await?;
        }
        for path in child {
            rewatch_children(session, &path, relative_zxid, &mut fired).await?;
        }
        for (paths, mode) in [
            (persistent, AddWatchMode::Persistent),
            (recursive, AddWatchMode::PersistentRecursive),
        ] {
            for path in paths {
                if !session.mirror.lock().unwrap().has_persistent(&path, mode) {
                    session.client.add_watch(&path, mode).await?;
                    session
                        .mirror
                        .lock()
                        .unwrap()
                        .add(Added::Persistent(path, mode));
                }
            }
        }
        Ok(())
    }
    .await;
    let mut reply = match outcome {
        Ok(()) => Reply::ok(xid::SET_WATCHES, Response::Empty),
        Err(e) => Reply::err(xid::SET_WATCHES, e.code()),
    };
    reply.events_before = fired;
    reply
}

fn event(event_type: EventType, path: &str) -> WatcherEvent {
    WatcherEvent {
        event_type: event_type.code(),
        state: WatcherEvent::SYNC_CONNECTED,
        path: path.to_string(),
    }
}

fn held(session: &Session, path: &str, kinds: &[Kind]) -> bool {
    let mirror = session.mirror.lock().unwrap();
    kinds.iter().any(|k| mirror.has(path, *k))
}

fn remember(session: &Session, path: &str, kind: Kind) {
    session
        .mirror
        .lock()
        .unwrap()
        .add(Added::OneShot(path.to_string(), kind));
}

async fn rewatch_data(
    session: &Session,
    path: &str,
    since: i64,
    fired: &mut Vec<WatcherEvent>,
) -> Result<(), fk_client::Error> {
    if held(session, path, &[Kind::Data, Kind::Exist]) {
        return Ok(());
    }
    match session.client.exists(path).await? {
        None => fired.push(event(EventType::NodeDeleted, path)),
        Some(stat) if stat.mzxid > since => fired.push(event(EventType::NodeDataChanged, path)),
        Some(_) => match session.client.get_data_and_watch(path).await {
            Ok(_) => remember(session, path, Kind::Data),
            Err(e) if e == Code::NoNode => fired.push(event(EventType::NodeDeleted, path)),
            Err(e) => return Err(e),
        },
    }
    Ok(())
}

async fn rewatch_exists(
    session: &Session,
    path: &str,
    fired: &mut Vec<WatcherEvent>,
) -> Result<(), fk_client::Error> {
    if held(session, path, &[Kind::Data, Kind::Exist]) {
        return Ok(());
    }
    match session.client.exists(path).await? {
        Some(_) => fired.push(event(EventType::NodeCreated, path)),
        None => match session.client.exists_and_watch(path).await? {
            None => remember(session, path, Kind::Exist),
            // Created meanwhile: its watch stays set as a data watch.
            Some(_) => {
                remember(session, path, Kind::Data);
                fired.push(event(EventType::NodeCreated, path));
            }
        },
    }
    Ok(())
}

async fn rewatch_children(
    session: &Session,
    path: &str,
    since: i64,
    fired: &mut Vec<WatcherEvent>,
) -> Result<(), fk_client::Error> {
    if held(session, path, &[Kind::Child]) {
        return Ok(());
    }
    match session.client.exists(path).await? {
        None => fired.push(event(EventType::NodeDeleted, path)),
        Some(stat) if stat.pzxid > since => fired.push(event(EventType::NodeChildrenChanged, path)),
        Some(_) => match session.client.get_children_and_watch(path).await {
            Ok(_) => remember(session, path, Kind::Child),
            Err(e) if e == Code::NoNode => fired.push(event(EventType::NodeDeleted, path)),
            Err(e) => return Err(e),
        },
    }
    Ok(())
}
