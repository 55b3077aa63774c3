//! The AWS (DynamoDB, S3, SQS) and Redis adapters of `fk-core`'s ports, and
//! the deployment description the functions and clients share.
//!
//! # Layout
//!
//! Modules:
//!
//! - [`clients`]: the SDK configuration and clients, built once per process;
//!   [`calls`]: a counter of every call they make (tests and benchmarks);
//!   [`lean`]: the fast path of the lock, the push, the commit, the reply
//!   and the user-store writes (S3, DynamoDB) without the SDK's
//!   orchestrator, which falls back to the SDK.
//! - [`system`]: [`SystemStore`](fk_core::system::SystemStore) on DynamoDB.
//! - [`user`]: [`UserStore`](fk_core::UserStore) on S3, DynamoDB or Redis,
//!   each behind a cargo feature of the same name (`s3`, `dynamodb`,
//!   `redis`; all on by default).
//! - [`sqs`]: the distributor queue, replies, session queues and Lambda's
//!   SQS records.
//! - [`probe`]: cheap checks that a deployment's resources exist, run by
//!   clients at connect.
//! - [`schema`]: key names and table creation; [`deployment`], [`env`](mod@env):
//!   where a deployment's resources are.
//!
//! ## System table (key `path`, S)
//!
//! A node's item holds its `Stat` as eleven number attributes named as
//! ZooKeeper names them (`czxid mzxid ctime mtime version cversion aversion
//! ephemeralOwner dataLength numChildren pzxid`, present iff the node
//! exists), its lock (`lockToken` S, `lockExpires` N) and `lastToken` (S),
//! the token of the last commit that wrote it. Locking a node that does
//! not exist leaves a placeholder item (lock only), which unlocking
//! removes.
//!
//! The item `path = "#counter"` holds `zxid` (N) and a ring of the last
//! [`RECENT_COMMITS`](fk_core::system::RECENT_COMMITS) commits as `r0`..`r31`
//! (slot `zxid % 32`), each the string `"<token> <zxid>"`.
//!
//! | Port method | Calls |
//! |---|---|
//! | `lock` | 1 UpdateItem (`SET lockToken, lockExpires` if free, expired or ours; the old item comes back on failure; sent by [`lean`] when the store has it, again by the SDK if that gets no answer) |
//! | `unlock` | 1 DeleteItem for a placeholder; + 1 UpdateItem (`REMOVE` the lock) for a node that exists |
//! | `commit` | 1 TransactWriteItems: each node write, the counter, the session (through [`lean`] when the store has it, again by the SDK with the same client request token if that gets no answer) |
//! | `counter` | 1 GetItem (consistent) |
//! | `create_session`, `session`, `delete_session` | 1 PutItem / GetItem / DeleteItem |
//!
//! A commit is conditional on every lock still being the commit's token,
//! the counter being `zxid - 1` and the session existing; the cancellation
//! reasons say which failed (the counter first, then locks, then the
//! session).
//!
//! ## Sessions table (key `session`, S: the id as `0x…`)
//!
//! `timeoutMs` N, `replyTo` S, `lastSeq` N, `ephemerals` SS (absent when
//! empty), `heartbeatMs` N.
//!
//! ## User stores
//!
//! Clients read these directly; reads are strongly consistent and writes
//! idempotent. A child change on a node without a record (the root)
//! creates the record with empty data.
//!
//! - S3: object `"n" + path` (the root is `n/`): format byte `1`, a
//!   big-endian `u32` header length, the JSON header
//!   `{"stat":{..},"children":[..]}`, the raw data; every PutObject is
//!   conditional on the object it replaces. `Create` of a new node is 1
//!   PutObject; `SetData` on a node without children and `Delete` (a
//!   tombstone) 1 PutObject, + 1 HeadObject when this instance has not
//!   written the node; `SetData` with children and `Children` 1 GetObject +
//!   1 PutObject; a read 1 GetObject. PutObject and GetObject go through
//!   [`lean`] when the store has it, again through the SDK if that gets no
//!   answer it takes.
//! - DynamoDB (key `path`): `data` B (absent when empty), `stat` M of the
//!   eleven numbers, `children` SS (absent when empty). One call per write
//!   (PutItem or UpdateItem; a batch one TransactWriteItems per ≤ 100
//!   writes) and per read. Writes go through [`lean`] when the store has
//!   it, again through the SDK if that gets no answer it takes.
//! - Redis: hash `<prefix>:n:<path>` with `data` (bytes) and `stat` (JSON),
//!   set `<prefix>:c:<path>` of child names. One atomic pipeline per write
//!   and per read.
//!
//! ## Queues
//!
//! All FIFO with explicit deduplication ids. The distributor queue has one
//! group, `commits`, deduplicated by request token; a reply goes to the
//! session's queue in the session's group, deduplicated by
//! `<session>-<seq>`. The node data travels as the binary message
//! attribute `payload`, never inside the JSON body.
//!
//! ## Errors
//!
//! Throttling, timeouts, dispatch failures and 5xx answers are retryable
//! [`StoreError`](fk_core::StoreError)s; everything else is permanent. The
//! message carries the service's error code, and the error's
//! [`FailureKind`](fk_core::FailureKind) what it means: unreachable,
//! throttled, access denied (or no credentials), a missing resource (no
//! such queue, table or bucket), or other. An S3 404 is a missing node
//! only when it is not `NoSuchBucket`.

pub mod calls;
pub mod clients;
pub mod deployment;
pub mod env;
pub mod lean;
pub mod probe;
pub mod schema;
#[cfg(feature = "redis")]
pub mod secrets;
pub mod sqs;
pub mod system;
pub mod user;

mod attrs;
mod errors;
mod transaction;
