//! User storage in S3: one object per node.
//!
//! Object key `"n" + path` (the root is `n/`). Body: one format byte (1),
//! the header's length as a big-endian `u32`, the JSON header
//! `{"stat":{..},"children":[..]}`, then the raw data. One GET reads a
//! whole node.
//!
//! Calls per write: `Create` one PutObject; `SetData` on a node without
//! children one PutObject (nothing of the old object is kept); `SetData` on
//! a node with children and `Children` one GetObject (for the part they
//! keep) and one PutObject; `Delete` one DeleteObject.

use async_trait::async_trait;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use bytes::{BufMut, Bytes, BytesMut};
use fk_core::user::{ChildChange, UserNode, UserStore, UserWrite};
use fk_core::watch::InFlight;
use fk_core::{Stat, StoreError};
use serde::{Deserialize, Serialize};

use super::S3_MAX_DATA;
use crate::errors::{self, malformed, S3};

const FORMAT_VERSION: u8 = 1;

/// User storage in one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3UserStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    stat: Stat,
    children: Vec<String>,
    #[serde(default, skip_serializing_if = "InFlight::is_empty")]
    in_flight: InFlight,
}

/// The object key of `path`.
pub fn object_key(path: &str) -> String {
    format!("n{path}")
}

/// A node as an object body.
pub fn encode(node: &UserNode) -> Bytes {
    let mut children = node.children.clone();
    children.sort();
    let header = serde_json::to_vec(&Header {
        stat: node.stat,
        children,
        in_flight: node.in_flight.clone(),
    })
    .expect("a header serialises");
    let mut body = BytesMut::with_capacity(5 + header.len() + node.data.len());
    body.put_u8(FORMAT_VERSION);
    body.put_u32(header.len() as u32);
    body.put_slice(&header);
    body.put_slice(&node.data);
    body.freeze()
}

/// An object body as a node.
pub fn decode(body: Bytes) -> Result<UserNode, StoreError> {
    if body.len() < 5 || body[0] != FORMAT_VERSION {
        return Err(malformed(S3, "unknown object format"));
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let end = 5usize
        .checked_add(len)
        .filter(|end| *end <= body.len())
        .ok_or_else(|| malformed(S3, "header length past the end"))?;
    let header: Header =
        serde_json::from_slice(&body[5..end]).map_err(|e| malformed(S3, format!("header: {e}")))?;
    Ok(UserNode {
        data: body.slice(end..),
        stat: header.stat,
        children: header.children,
        in_flight: header.in_flight,
    })
}

impl S3UserStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3UserStore {
            client,
            bucket: bucket.into(),
        }
    }

    async fn put(&self, path: &str, node: &UserNode) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(object_key(path))
            .content_type("application/octet-stream")
            .body(ByteStream::from(encode(node)))
            .send()
            .await
            .map_err(|e| errors::sdk(S3, "PutObject", e))?;
        Ok(())
    }

    /// The node, or an empty one with `stat` for a missing record.
    async fn get_or_empty(&self, path: &str, stat: Stat) -> Result<UserNode, StoreError> {
        Ok(self.get(path).await?.unwrap_or(UserNode {
            stat,
            ..UserNode::default()
        }))
    }
}

#[async_trait]
impl UserStore for S3UserStore {
    /// One GetObject (S3 reads are strongly consistent).
    async fn get(&self, path: &str) -> Result<Option<UserNode>, StoreError> {
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
            Err(err)
                if err
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 404) =>
            {
                return Ok(None)
            }
            Err(err) => return Err(errors::sdk(S3, "GetObject", err)),
        };
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::transient(S3, format!("GetObject body: {e}")))?
            .into_bytes();
        decode(body).map(Some)
    }

    async fn apply(&self, write: &UserWrite) -> Result<(), StoreError> {
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
                self.put(path, &node).await
            }
            UserWrite::SetData {
                path,
                data,
                stat,
                in_flight,
            } => {
                let mut node = if stat.num_children == 0 {
                    UserNode::default()
                } else {
                    self.get_or_empty(path, *stat).await?
                };
                node.data = data.clone();
                node.stat = *stat;
                node.in_flight = in_flight.clone();
                self.put(path, &node).await
            }
            UserWrite::Children {
                path,
                stat,
                change,
                in_flight,
            } => {
                let mut node = self.get_or_empty(path, *stat).await?;
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
                self.put(path, &node).await
            }
            UserWrite::Delete { path } => {
                self.client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(object_key(path))
                    .send()
                    .await
                    .map_err(|e| errors::sdk(S3, "DeleteObject", e))?;
                Ok(())
            }
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
        let body = encode(&node);
        assert_eq!(body[0], 1);
        let back = decode(body).unwrap();
        assert_eq!(back.data, node.data);
        assert_eq!(back.stat, node.stat);
        assert_eq!(back.children, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn a_truncated_body_is_malformed_not_a_panic() {
        let mut body = encode(&UserNode::default()).to_vec();
        body.truncate(8);
        assert!(!decode(Bytes::from(body)).unwrap_err().retryable);
        assert!(decode(Bytes::from_static(b"\x02")).is_err());
    }

    #[test]
    fn the_root_is_object_n_slash() {
        assert_eq!(object_key("/"), "n/");
        assert_eq!(object_key("/a/b"), "n/a/b");
    }
}
