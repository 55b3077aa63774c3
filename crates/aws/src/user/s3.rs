//! User storage in S3: one object per node.
//!
//! Object key `"n" + path` (the root is `n/`). Body: one format byte (1),
//! the header's length as a big-endian `u32`, the JSON header
//! `{"stat":{..},"children":[..]}`, then the raw data. One GET reads a
//! whole node.
//!
//! The header also holds `zxid`, the commit that last wrote the object
//! (copied into the object's metadata `fk-zxid`, so a HEAD shows it). A
//! deleted node is a tombstone object (`"tombstone":true`), which reads as
//! no node; a later create of the node replaces it.
//!
//! What readers see never goes back: every PutObject is conditional
//! (`If-Match` the ETag of the object it replaces, or `If-None-Match: *`
//! where there is none) on an object whose `zxid` is at most the write's,
//! so a replay or a late writer of an older commit changes nothing. The
//! store remembers the ETag and zxid of each object it wrote last
//! (its instance's cache), so the usual write needs no read; one whose
//! object it has not seen reads the object's HEAD first, and a write whose
//! condition failed reads it again and decides.
//!
//! Calls per write: `Create` of a new node one PutObject; `SetData` on a
//! node without children and `Delete` (a tombstone) one PutObject, plus one
//! HeadObject when this instance has not written the node before;
//! `SetData` on a node with children and `Children` one GetObject (for the
//! part they keep) and one PutObject.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use bytes::{BufMut, Bytes, BytesMut};
use fk_core::user::{ChildChange, CommitWrites, UserNode, UserStore, UserWrite};
use fk_core::watch::InFlight;
use fk_core::{Stat, StoreError};
use serde::{Deserialize, Serialize};

use super::S3_MAX_DATA;
use crate::errors::{self, malformed, S3};
use crate::lean::{self, LeanS3};

const FORMAT_VERSION: u8 = 1;

/// The object metadata key (`x-amz-meta-fk-zxid`) that repeats the zxid.
const ZXID_METADATA: &str = "fk-zxid";
/// [`ZXID_METADATA`]'s header.
const ZXID_HEADER: &str = "x-amz-meta-fk-zxid";
/// Every object's content type.
const OBJECT_CONTENT_TYPE: &str = "application/octet-stream";
/// How many objects' ETags an instance remembers.
const KNOWN_OBJECTS: usize = 100_000;
/// How many times a write reads the object again after its condition
/// failed, before it gives up (and the batch is retried).
const CONDITION_RETRIES: usize = 5;

/// User storage in one S3 bucket.
#[derive(Debug)]
pub struct S3UserStore {
    client: aws_sdk_s3::Client,
    /// The fast path of PutObject and GetObject ([`crate::lean`]), if any.
    lean: Option<LeanS3>,
    bucket: String,
    /// The object this instance last wrote, per path.
    known: Mutex<HashMap<String, Known>>,
}

/// An object as last seen: its ETag and the zxid that wrote it.
#[derive(Debug, Clone)]
struct Known {
    etag: String,
    zxid: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    #[serde(default)]
    stat: Stat,
    #[serde(default)]
    children: Vec<String>,
    #[serde(default, skip_serializing_if = "InFlight::is_empty")]
    in_flight: InFlight,
    #[serde(default)]
    zxid: i64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    tombstone: bool,
}

/// The object key of `path`.
pub fn object_key(path: &str) -> String {
    format!("n{path}")
}

/// The object body of a node (or tombstone) written by commit `zxid`.
fn encode_record(node: &UserNode, zxid: i64, tombstone: bool) -> Bytes {
    let mut children = node.children.clone();
    children.sort();
    let header = serde_json::to_vec(&Header {
        stat: node.stat,
        children,
        in_flight: node.in_flight.clone(),
        zxid,
        tombstone,
    })
    .expect("a header serialises");
    let mut body = BytesMut::with_capacity(5 + header.len() + node.data.len());
    body.put_u8(FORMAT_VERSION);
    body.put_u32(header.len() as u32);
    body.put_slice(&header);
    body.put_slice(&node.data);
    body.freeze()
}

/// An object body as a node, with its header's zxid and tombstone flag.
fn decode_record(body: Bytes) -> Result<(UserNode, Header), StoreError> {
    if body.len() < 5 || body[0] != FORMAT_VERSION {
        return Err(malformed(S3, "unknown object format"));
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let end = 5usize
        .checked_add(len)
        .filter(|end| *end <= body.len())
        .ok_or_else(|| malformed(S3, "header length past the end"))?;
    let mut header: Header =
        serde_json::from_slice(&body[5..end]).map_err(|e| malformed(S3, format!("header: {e}")))?;
    let node = UserNode {
        data: body.slice(end..),
        stat: header.stat,
        children: std::mem::take(&mut header.children),
        in_flight: std::mem::take(&mut header.in_flight),
    };
    Ok((node, header))
}

/// An object read whole: the node (`None` for a tombstone), its ETag and
/// the zxid that wrote it.
struct Fetched {
    node: Option<UserNode>,
    known: Known,
}

impl Fetched {
    /// An object's body and ETag, read.
    fn read(body: Bytes, etag: String) -> Result<Self, StoreError> {
        let (node, header) = decode_record(body)?;
        Ok(Fetched {
            node: (!header.tombstone).then_some(node),
            known: Known {
                etag,
                zxid: header.zxid,
            },
        })
    }
}

/// How a write uses the object it replaces.
#[derive(Clone, Copy)]
enum Kind {
    /// A new node: most likely no object yet.
    Create,
    /// Replaces the object whole: its ETag is enough.
    Replace,
    /// Keeps part of the object: it is read whole.
    Update,
    /// Leaves a tombstone.
    Delete,
}

/// What a conditional PUT expects of the object it replaces.
enum Expect {
    Absent,
    Etag(String),
}

impl S3UserStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3UserStore {
            client,
            lean: None,
            bucket: bucket.into(),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// Puts and gets objects through `lean` first (the SDK's client makes
    /// every other call, and these when `lean` gives no answer it takes).
    pub fn with_lean(mut self, lean: Option<LeanS3>) -> Self {
        self.lean = lean;
        self
    }

    fn remember(&self, path: &str, known: Option<Known>) {
        let mut cache = self.known.lock().unwrap();
        match known {
            Some(known) => {
                if cache.len() >= KNOWN_OBJECTS {
                    cache.clear();
                }
                cache.insert(path.to_string(), known);
            }
            None => {
                cache.remove(path);
            }
        }
    }

    fn cached(&self, path: &str) -> Option<Known> {
        self.known.lock().unwrap().get(path).cloned()
    }

    /// One GetObject: the whole object, or `None` if there is none.
    async fn fetch(&self, path: &str) -> Result<Option<Fetched>, StoreError> {
        if let Some(lean) = &self.lean {
            if let Some(fetched) = lean_fetch(lean, path).await {
                return fetched;
            }
        }
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(object_key(path))
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(err) if matches!(err.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
                return Ok(None)
            }
            // A 404 without a code is a missing key too, but a missing
            // bucket is a misconfiguration, never "no node".
            Err(err)
                if status(err.raw_response()) == Some(404)
                    && err.code() != Some("NoSuchBucket") =>
            {
                return Ok(None)
            }
            Err(err) => return Err(errors::sdk(S3, "GetObject", err)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::transient(S3, format!("GetObject body: {e}")))?
            .into_bytes();
        Fetched::read(body, etag).map(Some)
    }

    /// One HeadObject: the object's ETag and zxid, or `None`.
    async fn head(&self, path: &str) -> Result<Option<Known>, StoreError> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(object_key(path))
            .send()
            .await;
        match result {
            Ok(out) => {
                let zxid = out
                    .metadata()
                    .and_then(|m| m.get(ZXID_METADATA))
                    .and_then(|z| z.parse().ok())
                    .unwrap_or(0);
                Ok(Some(Known {
                    etag: out.e_tag().unwrap_or_default().to_string(),
                    zxid,
                }))
            }
            Err(err) if matches!(err.as_service_error(), Some(HeadObjectError::NotFound(_))) => {
                Ok(None)
            }
            Err(err) if status(err.raw_response()) == Some(404) => Ok(None),
            Err(err) => Err(errors::sdk(S3, "HeadObject", err)),
        }
    }

    /// One conditional PutObject; `Ok(false)` if the condition failed (the
    /// object is not the one expected).
    async fn put(
        &self,
        path: &str,
        zxid: i64,
        body: Bytes,
        expect: &Expect,
    ) -> Result<bool, StoreError> {
        let lean = match &self.lean {
            Some(lean) => lean_put(lean, path, zxid, body.clone(), expect).await,
            None => None,
        };
        let put = match lean {
            Some(put) => put,
            None => self.sdk_put(path, zxid, body, expect).await?,
        };
        Ok(match put {
            Put::Written(etag) => {
                self.remember(path, Some(Known { etag, zxid }));
                true
            }
            Put::NotExpected => {
                self.remember(path, None);
                false
            }
        })
    }

    /// [`S3UserStore::put`]'s PutObject through the SDK.
    async fn sdk_put(
        &self,
        path: &str,
        zxid: i64,
        body: Bytes,
        expect: &Expect,
    ) -> Result<Put, StoreError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(object_key(path))
            .content_type(OBJECT_CONTENT_TYPE)
            .metadata(ZXID_METADATA, zxid.to_string())
            .body(ByteStream::from(body));
        request = match expect {
            Expect::Absent => request.if_none_match("*"),
            Expect::Etag(etag) => request.if_match(etag),
        };
        match request.send().await {
            Ok(out) => Ok(Put::Written(out.e_tag().unwrap_or_default().to_string())),
            // 412: not the expected object; 409: a concurrent conditional
            // write; 404: If-Match on an object that is gone.
            Err(err) if matches!(status(err.raw_response()), Some(412 | 409 | 404)) => {
                Ok(Put::NotExpected)
            }
            Err(err) => Err(errors::sdk(S3, "PutObject", err)),
        }
    }

    /// Writes `path`'s object for commit `zxid`, unless a later commit
    /// wrote it (`Ok(false)`). `make` builds the new node from the current
    /// one, which it is given only for a [`Kind::Update`].
    async fn write(
        &self,
        path: &str,
        zxid: i64,
        kind: Kind,
        make: impl Fn(Option<UserNode>) -> UserNode,
    ) -> Result<bool, StoreError> {
        let creates = matches!(kind, Kind::Create);
        let (reads_node, tombstone) = (matches!(kind, Kind::Update), matches!(kind, Kind::Delete));
        let mut fresh = false;
        for _ in 0..CONDITION_RETRIES {
            let (current, node) = if reads_node {
                match self.fetch(path).await? {
                    Some(f) => (Some(f.known), f.node),
                    None => (None, None),
                }
            } else if let Some(known) = self.cached(path).filter(|_| !fresh) {
                (Some(known), None)
            } else if fresh || !creates {
                (self.head(path).await?, None)
            } else {
                // A create this instance has not seen: most likely a new
                // node; if not, the condition fails and the next round
                // reads the object's HEAD.
                (None, None)
            };
            if current.as_ref().is_some_and(|k| k.zxid > zxid) {
                // A later commit wrote the object: this write is superseded.
                return Ok(false);
            }
            let expect = match current {
                Some(k) => Expect::Etag(k.etag),
                None => Expect::Absent,
            };
            let body = encode_record(&make(node), zxid, tombstone);
            if self.put(path, zxid, body, &expect).await? {
                return Ok(true);
            }
            fresh = true;
        }
        Err(StoreError::transient(
            S3,
            format!("PutObject of {path}: the object kept changing under the write"),
        ))
    }
}

impl S3UserStore {
    /// A superseded child change settles its name by the child's own
    /// object (UserStore::apply): listed iff it exists and is no tombstone.
    /// Reads the child and the parent, and writes the parent only if the
    /// list is wrong, keeping its zxid and Stat; on this rare path only.
    async fn settle_child(&self, parent: &str, name: &str) -> Result<(), StoreError> {
        let exists = self
            .get(&fk_core::path::join(parent, name))
            .await?
            .is_some();
        for _ in 0..CONDITION_RETRIES {
            let Some(Fetched {
                node: Some(mut node),
                known,
            }) = self.fetch(parent).await?
            else {
                return Ok(()); // no parent, or a tombstone: nothing to list
            };
            if node.children.iter().any(|c| c == name) == exists {
                return Ok(());
            }
            if exists {
                node.children.push(name.to_string());
            } else {
                node.children.retain(|c| c != name);
            }
            let body = encode_record(&node, known.zxid, false);
            if self
                .put(parent, known.zxid, body, &Expect::Etag(known.etag))
                .await?
            {
                return Ok(());
            }
        }
        Err(StoreError::transient(
            S3,
            format!("PutObject of {parent}: the object kept changing under the write"),
        ))
    }
}

/// What a conditional PutObject did.
enum Put {
    /// Wrote the object, which now has this ETag.
    Written(String),
    /// The object was not the one expected.
    NotExpected,
}

/// [`S3UserStore::fetch`]'s GetObject through the lean transport: `None`
/// when it gave no answer this takes (anything but the object or
/// `NoSuchKey`), and the SDK makes it instead.
async fn lean_fetch(lean: &LeanS3, path: &str) -> Option<Result<Option<Fetched>, StoreError>> {
    let why = match lean.get_object(&object_key(path)).await {
        Ok(r) if r.status == 200 => {
            let etag = r.header("etag").unwrap_or_default().to_string();
            return Some(Fetched::read(r.body, etag).map(Some));
        }
        Ok(r) if r.status == 404 && lean::s3_error_code(&r.body) == Some("NoSuchKey") => {
            return Some(Ok(None));
        }
        Ok(r) => format!("status {} {:?}", r.status, lean::s3_error_code(&r.body)),
        Err(why) => why.0,
    };
    lean.fell_back("GetObject", &why);
    None
}

/// [`S3UserStore::put`]'s PutObject through the lean transport, with the
/// SDK's headers: `None` when it gave no answer this takes (anything but a
/// success or a failed precondition), and the SDK makes it instead.
async fn lean_put(
    lean: &LeanS3,
    path: &str,
    zxid: i64,
    body: Bytes,
    expect: &Expect,
) -> Option<Put> {
    let zxid = zxid.to_string();
    let condition = match expect {
        Expect::Absent => ("if-none-match", "*"),
        Expect::Etag(etag) => ("if-match", etag.as_str()),
    };
    let headers = [(ZXID_HEADER, zxid.as_str()), condition];
    let answer = lean
        .put_object(&object_key(path), OBJECT_CONTENT_TYPE, &headers, body)
        .await;
    let why = match answer {
        Ok(r) if r.status == 200 => {
            return Some(Put::Written(
                r.header("etag").unwrap_or_default().to_string(),
            ))
        }
        Ok(r) if r.status == 412 => return Some(Put::NotExpected),
        Ok(r) => format!("status {} {:?}", r.status, lean::s3_error_code(&r.body)),
        Err(why) => why.0,
    };
    lean.fell_back("PutObject", &why);
    None
}

fn status(response: Option<&aws_smithy_runtime_api::http::Response>) -> Option<u16> {
    response.map(|r| r.status().as_u16())
}

#[async_trait]
impl UserStore for S3UserStore {
    /// S3 has no multi-object transaction. Each session's commits go one
    /// write after another, in order, and different sessions' at once:
    /// they touch different objects (each commit held the locks of every
    /// node it writes) and none of them is answered before the whole
    /// batch is applied. docs/write-path.md, "Group commit", says what a
    /// reader can see meanwhile. If two sessions' commits did share an
    /// object, the batch goes one write at a time.
    async fn apply_batch(&self, commits: &[CommitWrites<'_>]) -> Result<(), StoreError> {
        tracing::Span::current().record("db.system", "s3");
        CommitWrites::apply_by_session(commits, |zxid, write| self.apply(zxid, write)).await
    }

    /// One GetObject (S3 reads are strongly consistent).
    async fn get(&self, path: &str) -> Result<Option<UserNode>, StoreError> {
        Ok(self.fetch(path).await?.and_then(|f| f.node))
    }

    async fn apply(&self, zxid: i64, write: &UserWrite) -> Result<(), StoreError> {
        tracing::Span::current().record("db.system", "s3");
        match write {
            UserWrite::Create {
                path,
                data,
                stat,
                in_flight,
            } => {
                let node = UserNode {
                    data: data.clone(),
                    stat: *stat,
                    children: Vec::new(),
                    in_flight: in_flight.clone(),
                };
                self.write(path, zxid, Kind::Create, |_| node.clone())
                    .await
                    .map(|_| ())
            }
            UserWrite::SetData {
                path,
                data,
                stat,
                in_flight,
            } => {
                // Commits apply in order, so a node without children keeps
                // nothing of its old object.
                let kind = if stat.num_children == 0 {
                    Kind::Replace
                } else {
                    Kind::Update
                };
                self.write(path, zxid, kind, |old| {
                    let mut node = old.unwrap_or_default();
                    node.data = data.clone();
                    node.stat = *stat;
                    node.in_flight = in_flight.clone();
                    node
                })
                .await
                .map(|_| ())
            }
            UserWrite::Children {
                path,
                stat,
                change,
                in_flight,
            } => {
                let applied = self
                    .write(path, zxid, Kind::Update, |old| {
                        let mut node = old.unwrap_or_default();
                        node.stat = *stat;
                        node.in_flight = in_flight.clone();
                        match change {
                            ChildChange::Added(name) => {
                                if !node.children.contains(name) {
                                    node.children.push(name.clone());
                                }
                            }
                            ChildChange::Removed(name) => node.children.retain(|c| c != name),
                        }
                        node
                    })
                    .await?;
                if !applied {
                    self.settle_child(path, change.name()).await?;
                }
                Ok(())
            }
            UserWrite::Delete { path } => self
                .write(path, zxid, Kind::Delete, |_| UserNode::default())
                .await
                .map(|_| ()),
        }
    }

    fn max_data_len(&self) -> usize {
        S3_MAX_DATA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_body_round_trips_binary_data() {
        let node = UserNode {
            data: Bytes::from_static(b"\x00\xff\x01{\"stat\""),
            stat: Stat {
                czxid: 4,
                version: 2,
                ..Stat::default()
            },
            children: vec!["b".into(), "a".into()],
            in_flight: Default::default(),
        };
        let body = encode_record(&node, 7, false);
        assert_eq!(body[0], 1);
        let (back, header) = decode_record(body).unwrap();
        assert_eq!(header.zxid, 7);
        assert!(!header.tombstone);
        assert_eq!(back.data, node.data);
        assert_eq!(back.stat, node.stat);
        assert_eq!(back.children, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn a_truncated_body_is_malformed_not_a_panic() {
        let mut body = encode_record(&UserNode::default(), 1, true).to_vec();
        body.truncate(8);
        assert!(!decode_record(Bytes::from(body)).unwrap_err().retryable);
        assert!(decode_record(Bytes::from_static(b"\x02")).is_err());
    }

    #[test]
    fn the_lean_put_sends_the_metadata_the_sdk_sends() {
        assert_eq!(ZXID_HEADER, format!("x-amz-meta-{ZXID_METADATA}"));
    }

    #[test]
    fn the_root_is_object_n_slash() {
        assert_eq!(object_key("/"), "n/");
        assert_eq!(object_key("/a/b"), "n/a/b");
    }
}
