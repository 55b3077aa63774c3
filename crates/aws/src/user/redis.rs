//! User storage in Redis.
//!
//! A node is the hash `<prefix>:n:<path>` with fields `data` (raw bytes) and
//! `stat` (JSON), and the set `<prefix>:c:<path>` of its child names. Every
//! read and every write is one atomic pipeline (`MULTI`/`EXEC`), one round
//! trip, counted as `Redis.Pipeline`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fk_core::user::{ChildChange, UserNode, UserStore, UserWrite};
use fk_core::watch::InFlight;
use fk_core::{Stat, StoreError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::REDIS_MAX_DATA;
use crate::calls::CallCounter;
use crate::errors::{self, malformed, REDIS};

const DATA: &str = "data";
const STAT: &str = "stat";
/// Notifications in flight (JSON), absent when none.
const IN_FLIGHT: &str = "inFlight";
const CALL: &str = "Redis.Pipeline";

/// User storage in Redis. Clones share one connection, which reconnects
/// by itself.
#[derive(Clone)]
pub struct RedisUserStore {
    conn: ConnectionManager,
    prefix: String,
    counter: CallCounter,
}

impl std::fmt::Debug for RedisUserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisUserStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisUserStore {
    /// Connects to `url`; keys go under `prefix`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        counter: &CallCounter,
    ) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| errors::redis("open", e))?;
        // Fail fast: the caller (a function fed by a queue) retries the
        // whole message, which beats waiting out a long backoff here.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| errors::redis("connect", e))?;
        Ok(RedisUserStore {
            conn,
            prefix: prefix.to_string(),
            counter: counter.clone(),
        })
    }

    fn node_key(&self, path: &str) -> String {
        format!("{}:n:{path}", self.prefix)
    }

    fn children_key(&self, path: &str) -> String {
        format!("{}:c:{path}", self.prefix)
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        what: &str,
        pipe: &redis::Pipeline,
    ) -> Result<T, StoreError> {
        self.counter.record(CALL);
        let mut conn = self.conn.clone();
        pipe.query_async(&mut conn)
            .await
            .map_err(|e| errors::redis(what, e))
    }
}

/// Sets the record's in-flight notifications, or removes them when none.
fn set_in_flight(pipe: &mut redis::Pipeline, node: &str, in_flight: &InFlight) {
    if in_flight.is_empty() {
        pipe.hdel(node, IN_FLIGHT).ignore();
    } else {
        let json = serde_json::to_string(in_flight).expect("a map serialises");
        pipe.hset(node, IN_FLIGHT, json).ignore();
    }
}

fn stat_json(stat: &Stat) -> String {
    serde_json::to_string(stat).expect("a Stat serialises")
}

#[async_trait]
impl UserStore for RedisUserStore {
    async fn get(&self, path: &str) -> Result<Option<UserNode>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hgetall(self.node_key(path))
            .smembers(self.children_key(path));
        let (mut hash, mut children): (HashMap<String, Vec<u8>>, Vec<String>) =
            self.run("get", &pipe).await?;
        let Some(stat) = hash.remove(STAT) else {
            return Ok(None);
        };
        let stat: Stat =
            serde_json::from_slice(&stat).map_err(|e| malformed(REDIS, format!("stat: {e}")))?;
        children.sort();
        let in_flight = match hash.remove(IN_FLIGHT) {
            None => InFlight::default(),
            Some(json) => serde_json::from_slice(&json)
                .map_err(|e| malformed(REDIS, format!("inFlight: {e}")))?,
        };
        Ok(Some(UserNode {
            data: hash.remove(DATA).map(Bytes::from).unwrap_or_default(),
            stat,
            children,
            in_flight,
        }))
    }

    async fn apply(&self, write: &UserWrite) -> Result<(), StoreError> {
        tracing::Span::current().record("db.system", "redis");
        let mut pipe = redis::pipe();
        pipe.atomic();
        match write {
            UserWrite::Create {
                path,
                data,
                stat,
                in_flight,
            } => {
                let node = self.node_key(path);
                pipe.del(&[self.children_key(path), node.clone()])
                    .ignore()
                    .hset_multiple(
                        &node,
                        &[(DATA, data.as_ref()), (STAT, stat_json(stat).as_bytes())],
                    )
                    .ignore();
                set_in_flight(&mut pipe, &node, in_flight);
            }
            UserWrite::SetData {
                path,
                data,
                stat,
                in_flight,
            } => {
                let node = self.node_key(path);
                pipe.hset_multiple(
                    &node,
                    &[(DATA, data.as_ref()), (STAT, stat_json(stat).as_bytes())],
                )
                .ignore();
                set_in_flight(&mut pipe, &node, in_flight);
            }
            UserWrite::Children {
                path,
                stat,
                change,
                in_flight,
            } => {
                let node = self.node_key(path);
                // The root's first child creates its record, with no data.
                pipe.hset_nx(&node, DATA, b"" as &[u8]).ignore();
                pipe.hset(&node, STAT, stat_json(stat)).ignore();
                set_in_flight(&mut pipe, &node, in_flight);
                match change {
                    ChildChange::Added(name) => pipe.sadd(self.children_key(path), name),
                    ChildChange::Removed(name) => pipe.srem(self.children_key(path), name),
                };
            }
            UserWrite::Delete { path } => {
                pipe.del(&[self.node_key(path), self.children_key(path)]);
            }
        }
        pipe.ignore();
        self.run::<()>("apply", &pipe).await
    }

    fn max_data_len(&self) -> usize {
        REDIS_MAX_DATA
    }
}
