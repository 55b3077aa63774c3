//! User storage in Redis.
//!
//! A node is the hash `<prefix>:n:<path>` with fields `data` (raw bytes),
//! `stat` (JSON) and `zxid` (the commit that last wrote it), and the set
//! `<prefix>:c:<path>` of its child names. A deleted node is a tombstone:
//! the hash with only `zxid` and `tombstone`, expiring after a day, which
//! reads as no node.
//!
//! A read is one atomic pipeline (`MULTI`/`EXEC`), counted as
//! `Redis.Pipeline`. A write is one Lua script ([`APPLY`], `EVALSHA`),
//! counted as `Redis.Script`: it applies only if the stored `zxid` is at
//! most the write's, so what readers see never goes back, whatever
//! replays or late writers do. Both are one round trip.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fk_core::user::{ChildChange, CommitWrites, UserNode, UserStore, UserWrite};
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
const SCRIPT_CALL: &str = "Redis.Script";
/// How long a tombstone is kept: far longer than any function runs.
const TOMBSTONE_LIFETIME_S: i64 = 24 * 3600;

/// One write, atomically, unless the record holds a later commit.
///
/// KEYS: the node hash, its children set (and for a child change, the
/// child's hash). ARGV: zxid, kind (`create`,
/// `set`, `add`, `remove`, `delete`), then per kind: `create`/`set` data,
/// stat, inFlight (`""` for none); `add`/`remove` child name, stat,
/// inFlight; `delete` the tombstone's lifetime in seconds. Returns 1 if
/// applied, 0 if superseded.
const APPLY: &str = r#"
local stored = redis.call('HGET', KEYS[1], 'zxid')
local kind = ARGV[2]
if stored and tonumber(stored) > tonumber(ARGV[1]) then
  -- Superseded. A child change still settles its name by the child's own
  -- record (KEYS[3]): listed iff that exists and is no tombstone.
  if (kind == 'add' or kind == 'remove') and redis.call('HEXISTS', KEYS[1], 'tombstone') == 0 then
    if redis.call('HEXISTS', KEYS[3], 'stat') == 1 then
      redis.call('SADD', KEYS[2], ARGV[3])
    else
      redis.call('SREM', KEYS[2], ARGV[3])
    end
  end
  return 0
end
local function in_flight(value)
  if value == '' then
    redis.call('HDEL', KEYS[1], 'inFlight')
  else
    redis.call('HSET', KEYS[1], 'inFlight', value)
  end
end
local function revive()
  if redis.call('HEXISTS', KEYS[1], 'tombstone') == 1 then
    redis.call('DEL', KEYS[1], KEYS[2])
  end
end
if kind == 'create' then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'data', ARGV[3], 'stat', ARGV[4], 'zxid', ARGV[1])
  in_flight(ARGV[5])
elseif kind == 'set' then
  revive()
  redis.call('HSET', KEYS[1], 'data', ARGV[3], 'stat', ARGV[4], 'zxid', ARGV[1])
  in_flight(ARGV[5])
elseif kind == 'add' or kind == 'remove' then
  revive()
  redis.call('HSETNX', KEYS[1], 'data', '')
  redis.call('HSET', KEYS[1], 'stat', ARGV[4], 'zxid', ARGV[1])
  in_flight(ARGV[5])
  if kind == 'add' then
    redis.call('SADD', KEYS[2], ARGV[3])
  else
    redis.call('SREM', KEYS[2], ARGV[3])
  end
elseif kind == 'delete' then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'zxid', ARGV[1], 'tombstone', '1')
  redis.call('EXPIRE', KEYS[1], ARGV[3])
else
  return redis.error_reply('unknown write kind ' .. kind)
end
return 1
"#;

/// User storage in Redis. Clones share one connection, which reconnects
/// by itself.
#[derive(Clone)]
pub struct RedisUserStore {
    conn: ConnectionManager,
    prefix: String,
    counter: CallCounter,
    apply: redis::Script,
}

impl std::fmt::Debug for RedisUserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisUserStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// How to reach a Redis server beyond its URL.
#[derive(Clone, Default)]
pub struct RedisAccess {
    /// Replaces the URL's password (a Secrets Manager value).
    pub password: Option<String>,
    /// The PEM certificate of a private CA for `rediss://`; `None` trusts
    /// the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for RedisAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAccess")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .finish()
    }
}

impl RedisUserStore {
    /// Connects to `url` with its own credentials; keys go under `prefix`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        counter: &CallCounter,
    ) -> Result<Self, StoreError> {
        Self::connect_with(url, prefix, &RedisAccess::default(), counter).await
    }

    /// Connects to `url` with `access`'s password and CA; keys go under
    /// `prefix`.
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        access: &RedisAccess,
        counter: &CallCounter,
    ) -> Result<Self, StoreError> {
        use redis::IntoConnectionInfo;
        let mut info = url
            .into_connection_info()
            .map_err(|e| errors::redis("open", e))?;
        if let Some(password) = &access.password {
            let settings = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(settings);
        }
        let client = match &access.ca_pem {
            Some(pem) => redis::Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
            None => redis::Client::open(info),
        }
        .map_err(|e| errors::redis("open", e))?;
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
            apply: redis::Script::new(APPLY),
        })
    }

    /// The keys and arguments of [`APPLY`] for one write.
    fn script_call(&self, zxid: i64, write: &UserWrite) -> (Vec<String>, Vec<Vec<u8>>) {
        let path = write.path();
        let mut keys = vec![self.node_key(path), self.children_key(path)];
        let text = |t: &str| t.as_bytes().to_vec();
        let mut args = vec![text(&zxid.to_string())];
        match write {
            UserWrite::Create {
                data,
                stat,
                in_flight,
                ..
            }
            | UserWrite::SetData {
                data,
                stat,
                in_flight,
                ..
            } => {
                let kind = if matches!(write, UserWrite::Create { .. }) {
                    "create"
                } else {
                    "set"
                };
                args.extend([
                    text(kind),
                    data.to_vec(),
                    text(&stat_json(stat)),
                    text(&in_flight_arg(in_flight)),
                ]);
            }
            UserWrite::Children {
                stat,
                change,
                in_flight,
                ..
            } => {
                let (kind, name) = match change {
                    ChildChange::Added(name) => ("add", name),
                    ChildChange::Removed(name) => ("remove", name),
                };
                keys.push(self.node_key(&fk_core::path::join(path, name)));
                args.extend([
                    text(kind),
                    text(name),
                    text(&stat_json(stat)),
                    text(&in_flight_arg(in_flight)),
                ]);
            }
            UserWrite::Delete { .. } => {
                args.extend([text("delete"), text(&TOMBSTONE_LIFETIME_S.to_string())]);
            }
        }
        (keys, args)
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

fn in_flight_arg(in_flight: &InFlight) -> String {
    if in_flight.is_empty() {
        String::new()
    } else {
        serde_json::to_string(in_flight).expect("a map serialises")
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

    async fn apply(&self, zxid: i64, write: &UserWrite) -> Result<(), StoreError> {
        tracing::Span::current().record("db.system", "redis");
        let (keys, args) = self.script_call(zxid, write);
        let mut call = self.apply.prepare_invoke();
        for key in keys {
            call.key(key);
        }
        for arg in args {
            call.arg(arg);
        }
        self.counter.record(SCRIPT_CALL);
        let mut conn = self.conn.clone();
        let _applied: i64 = call
            .invoke_async(&mut conn)
            .await
            .map_err(|e| errors::redis("apply", e))?;
        Ok(())
    }

    /// One `MULTI`/`EXEC` round trip: the script is loaded (a no-op when
    /// cached, and never missing for the calls after it) and run once per
    /// write, and Redis runs nothing else in between, so a reader sees the
    /// whole batch or none of it.
    async fn apply_batch(&self, commits: &[CommitWrites<'_>]) -> Result<(), StoreError> {
        // One MULTI: a set that a later one of the batch overwrites is left out.
        let writes = CommitWrites::atomic_run(&CommitWrites::flatten(commits));
        if writes.len() <= 1 {
            for (zxid, write) in writes {
                self.apply(zxid, write).await?;
            }
            return Ok(());
        }
        tracing::Span::current().record("db.system", "redis");
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("SCRIPT").arg("LOAD").arg(APPLY).ignore();
        for (zxid, write) in writes {
            let (keys, args) = self.script_call(zxid, write);
            pipe.cmd("EVALSHA")
                .arg(self.apply.get_hash())
                .arg(keys.len())
                .arg(keys)
                .arg(args);
        }
        self.counter.record(SCRIPT_CALL);
        let mut conn = self.conn.clone();
        let _applied: Vec<i64> = pipe
            .query_async(&mut conn)
            .await
            .map_err(|e| errors::redis("apply", e))?;
        Ok(())
    }

    fn max_data_len(&self) -> usize {
        REDIS_MAX_DATA
    }
}
