//! The messages that cross the queues, and how they are encoded.
//!
//! Every message is a JSON body plus an optional binary payload (the node
//! data). On SQS the payload travels as a `Binary` message attribute named
//! [`PAYLOAD_ATTRIBUTE`], so node data is never base64-inflated inside the
//! body and the full SQS message size is available for it.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::op::MultiFailure;
use crate::watch::NodeWatches;
use crate::{Error, Op, OpResult, SessionId, Stat};

/// The SQS message attribute that carries a message's binary payload.
pub const PAYLOAD_ATTRIBUTE: &str = "payload";

/// A write from a client to the writer queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteRequest {
    pub session: SessionId,
    /// The session's request counter: replies are matched and ordered by it.
    pub seq: u64,
    /// Where the reply goes (the session's reply queue).
    pub reply_to: String,
    #[serde(flatten)]
    pub op: Op,
}

impl WriteRequest {
    /// The token that identifies this request everywhere: lock owner, commit
    /// deduplication id, replay marker.
    pub fn token(&self) -> String {
        token(self.session, self.seq)
    }
}

/// The lock and commit token of a session's request.
pub fn token(session: SessionId, seq: u64) -> String {
    format!("{session}-{seq}")
}

/// A node's system state as the writer found it under its lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreState {
    pub path: String,
    /// `None`: the node does not exist.
    pub stat: Option<Stat>,
    /// The one-shot watches on the node.
    #[serde(default, skip_serializing_if = "NodeWatches::is_empty")]
    pub watches: NodeWatches,
}

/// A validated write, from the writer to the distributor queue.
///
/// The writer holds the locks of every node in `pre` until the distributor
/// commits; `pre` is therefore exactly the state the commit starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRequest {
    pub token: String,
    pub session: SessionId,
    pub seq: u64,
    pub reply_to: String,
    /// The writer's clock when it validated the write: the node's ctime/mtime.
    pub time_ms: i64,
    /// The op with its final path (a sequential name is resolved).
    #[serde(flatten)]
    pub op: Op,
    pub pre: Vec<PreState>,
    /// The write closes the session (its op deletes the ephemerals).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub close_session: bool,
}

impl CommitRequest {
    /// What the commit counter remembers this commit by: the token, and a
    /// fingerprint of what the writer validated (the pre-state, the
    /// resolved paths, the validation time).
    ///
    /// Copies of one client request share the token. A copy the writer
    /// validated again, against a later state, would commit a different
    /// change (another sequential name, another version), so only a copy
    /// with the same fingerprint is a redelivery of the commit; any other
    /// copy of a decided request is a duplicate and is dropped. The
    /// fingerprint is FNV-1a over fields written out explicitly, so it does
    /// not change with serde or the compiler.
    pub fn commit_id(&self) -> String {
        let mut h = Fnv1a::default();
        h.write(self.op.name().as_bytes());
        for step in self.op.steps() {
            h.write(step.path().as_bytes());
        }
        h.write(&self.time_ms.to_be_bytes());
        for pre in &self.pre {
            h.write(pre.path.as_bytes());
            match &pre.stat {
                None => h.write(b"-"),
                Some(s) => {
                    for n in [s.czxid, s.mzxid, s.pzxid, s.ephemeral_owner] {
                        h.write(&n.to_be_bytes());
                    }
                    for n in [s.version, s.cversion, s.num_children, s.data_length] {
                        h.write(&n.to_be_bytes());
                    }
                }
            }
        }
        format!("{}.{:016x}", self.token, h.0)
    }

    /// The pre-state of `path`, if the writer locked it.
    pub fn pre_state(&self, path: &str) -> Option<&PreState> {
        self.pre.iter().find(|p| p.path == path)
    }
}

/// 64-bit FNV-1a; each field ends with a separator byte so that
/// concatenations cannot collide.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes.iter().chain(std::iter::once(&0xff)) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The answer to one request, sent to the session's reply queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub session: SessionId,
    pub seq: u64,
    /// The zxid of the commit, or 0 for a request that failed before one.
    pub zxid: i64,
    pub outcome: Outcome,
    /// The zxid of the session's latest watch notification in flight: the
    /// client shows the reply only after it (ordered notifications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_event: Option<i64>,
}

/// `Result<OpResult, Error>` in a form that crosses queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok(OpResult),
    Err(Error),
    /// A multi failed: nothing of it was applied.
    MultiErr(MultiFailure),
}

impl From<Outcome> for Result<OpResult, Error> {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Ok(r) => Ok(r),
            Outcome::Err(e) => Err(e),
            Outcome::MultiErr(f) => Err(f.error),
        }
    }
}

/// A message body and its binary payload, as a queue carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub body: String,
    pub payload: Option<Bytes>,
}

/// The largest message the writer and distributor queues take: SQS's
/// maximum (1 MiB), which the Terraform queues module and the local stack
/// provision (`max_message_size`). A write whose message would be larger is
/// refused with `BadArguments` (by the client before it sends, by the
/// writer before it forwards) rather than failing in the queue.
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;

/// Room kept for the trace context attributes (`traceparent`, `tracestate`)
/// a message may carry beside its payload.
pub const TRACE_ATTRIBUTES_ALLOWANCE: usize = 1_024;

impl Envelope {
    /// The size SQS counts: the body, and each attribute's name, type and
    /// value (the payload's, and the trace context's allowance).
    pub fn queue_size(&self) -> usize {
        let payload = self
            .payload
            .as_ref()
            .map_or(0, |p| PAYLOAD_ATTRIBUTE.len() + "Binary".len() + p.len());
        self.body.len() + payload + TRACE_ATTRIBUTES_ALLOWANCE
    }

    /// Whether the message fits the queues.
    pub fn fits_queue(&self) -> bool {
        self.queue_size() <= MAX_MESSAGE_BYTES
    }
}

/// Why a queue message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed body: {0}")]
    Body(#[from] serde_json::Error),
    #[error("the payload does not fit the op's data")]
    MissingPayload,
}

/// A message that travels as an [`Envelope`].
pub trait Message: Sized {
    fn encode(&self) -> Envelope;
    fn decode(envelope: Envelope) -> Result<Self, DecodeError>;
}

fn encode_with_op<T: Serialize + Clone>(msg: &T, op: impl FnOnce(&mut T) -> &mut Op) -> Envelope {
    let mut msg = msg.clone();
    let payload = op(&mut msg).take_payload().filter(|p| !p.is_empty());
    Envelope {
        body: serde_json::to_string(&msg).expect("message types serialise"),
        payload,
    }
}

fn restore_payload(op: &mut Op, payload: Option<Bytes>) -> Result<(), DecodeError> {
    if !op.carries_data() && payload.is_some() {
        return Err(DecodeError::MissingPayload);
    }
    // Empty data travels without an attribute: SQS rejects empty values.
    op.restore_payload(payload.unwrap_or_default())
        .map_err(|_| DecodeError::MissingPayload)
}

impl Message for WriteRequest {
    fn encode(&self) -> Envelope {
        encode_with_op(self, |m| &mut m.op)
    }

    fn decode(envelope: Envelope) -> Result<Self, DecodeError> {
        let mut msg: WriteRequest = serde_json::from_str(&envelope.body)?;
        restore_payload(&mut msg.op, envelope.payload)?;
        Ok(msg)
    }
}

impl Message for CommitRequest {
    fn encode(&self) -> Envelope {
        encode_with_op(self, |m| &mut m.op)
    }

    fn decode(envelope: Envelope) -> Result<Self, DecodeError> {
        let mut msg: CommitRequest = serde_json::from_str(&envelope.body)?;
        restore_payload(&mut msg.op, envelope.payload)?;
        Ok(msg)
    }
}

/// Validated writes that travel together in one distributor-queue
/// message, in queue order, each with the trace context of its own write
/// (the W3C `traceparent`/`tracestate` pairs a message attribute would
/// carry).
///
/// A writer batch's writes go out as one message, so that the distributor
/// queue's one message group carries up to ten writes a call and a
/// distributor invocation of ten messages holds up to a hundred writes
/// (docs/write-path.md, "Bundles"). The body is
/// `{"bundle":[{"commit":{..},"data_len":N,"trace":{..}},..]}`: each
/// commit as its own message's body would be, and how many bytes of the
/// one payload (the commits' payloads one after the other) are its data.
/// [`CommitBundle::decode`] also reads a message of one [`CommitRequest`],
/// as [`CommitQueue::push`](crate::CommitQueue::push) sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitBundle {
    pub commits: Vec<Bundled>,
}

/// A commit of a [`CommitBundle`] and its trace context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundled {
    pub commit: CommitRequest,
    /// Empty when the bundle is a single-commit message: its trace context
    /// is then in the message's attributes.
    pub trace: Vec<(String, String)>,
}

/// The start of every bundle's body; a single commit's body starts
/// otherwise (its first field is `token`).
const BUNDLE_PREFIX: &str = "{\"bundle\":[";

#[derive(Serialize, Deserialize)]
struct WireEntry {
    commit: CommitRequest,
    #[serde(default)]
    data_len: usize,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    trace: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct WireBundle {
    bundle: Vec<WireEntry>,
}

impl CommitBundle {
    /// The body of one entry and its share of the payload: what
    /// [`CommitBundle::encode`] puts in. Lets a sender size a bundle as it
    /// fills it ([`BundleEntry::size`]).
    pub fn entry(commit: &CommitRequest, trace: &[(String, String)]) -> BundleEntry {
        let mut commit = commit.clone();
        let data = commit.op.take_payload().unwrap_or_default();
        let body = serde_json::to_string(&WireEntry {
            commit,
            data_len: data.len(),
            trace: trace.iter().cloned().collect(),
        })
        .expect("message types serialise");
        BundleEntry { body, data }
    }

    /// The message of several entries, in order.
    pub fn envelope(entries: &[BundleEntry]) -> Envelope {
        let mut body = String::with_capacity(
            BUNDLE_PREFIX.len() + 2 + entries.iter().map(|e| e.body.len() + 1).sum::<usize>(),
        );
        body.push_str(BUNDLE_PREFIX);
        let mut payload = bytes::BytesMut::new();
        for (i, entry) in entries.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&entry.body);
            payload.extend_from_slice(&entry.data);
        }
        body.push_str("]}");
        Envelope {
            body,
            payload: (!payload.is_empty()).then(|| payload.freeze()),
        }
    }

    /// The deduplication id of a bundle of these commits: the first
    /// token, how many follow, and a hash of all the tokens in order. A
    /// writer batch that comes again and sends the same writes together
    /// is dropped by the queue; sent in other company, its copies reach
    /// the distributor, which drops them by token (as any copy).
    pub fn dedup_id<'a>(commits: impl IntoIterator<Item = &'a CommitRequest>) -> String {
        let mut h = Fnv1a::default();
        let mut first = None;
        let mut n = 0usize;
        for commit in commits {
            first.get_or_insert(commit.token.as_str());
            h.write(commit.token.as_bytes());
            n += 1;
        }
        format!(
            "{}+{}.{:016x}",
            first.unwrap_or("-"),
            n.saturating_sub(1),
            h.0
        )
    }

    /// The size an empty bundle adds to its entries' in the queue: the
    /// body's brackets, the payload attribute's name and type, the
    /// allowance for the message's trace attributes.
    pub const OVERHEAD: usize = BUNDLE_PREFIX.len()
        + 2
        + PAYLOAD_ATTRIBUTE.len()
        + "Binary".len()
        + TRACE_ATTRIBUTES_ALLOWANCE;
}

/// One commit of a bundle, encoded.
#[derive(Debug, Clone)]
pub struct BundleEntry {
    body: String,
    data: Bytes,
}

impl BundleEntry {
    /// What it adds to a bundle's size in the queue (its separator
    /// included).
    pub fn size(&self) -> usize {
        self.body.len() + 1 + self.data.len()
    }
}

impl Message for CommitBundle {
    fn encode(&self) -> Envelope {
        let entries: Vec<BundleEntry> = self
            .commits
            .iter()
            .map(|b| CommitBundle::entry(&b.commit, &b.trace))
            .collect();
        CommitBundle::envelope(&entries)
    }

    fn decode(envelope: Envelope) -> Result<Self, DecodeError> {
        if !envelope.body.starts_with(BUNDLE_PREFIX) {
            let commit = CommitRequest::decode(envelope)?;
            return Ok(CommitBundle {
                commits: vec![Bundled {
                    commit,
                    trace: Vec::new(),
                }],
            });
        }
        let wire: WireBundle = serde_json::from_str(&envelope.body)?;
        let mut payload = envelope.payload.unwrap_or_default();
        if wire.bundle.iter().map(|e| e.data_len).sum::<usize>() != payload.len() {
            return Err(DecodeError::MissingPayload);
        }
        let commits = wire
            .bundle
            .into_iter()
            .map(|mut entry| {
                let data = payload.split_to(entry.data_len);
                restore_payload(&mut entry.commit.op, (!data.is_empty()).then_some(data))?;
                Ok(Bundled {
                    commit: entry.commit,
                    trace: entry.trace.into_iter().collect(),
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(CommitBundle { commits })
    }
}

impl Message for Reply {
    fn encode(&self) -> Envelope {
        Envelope {
            body: serde_json::to_string(self).expect("message types serialise"),
            payload: None,
        }
    }

    fn decode(envelope: Envelope) -> Result<Self, DecodeError> {
        Ok(serde_json::from_str(&envelope.body)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CreateMode;

    fn session() -> SessionId {
        "0x00000000000000ab".parse().unwrap()
    }

    #[test]
    fn a_write_request_keeps_its_data_out_of_the_body() {
        let req = WriteRequest {
            session: session(),
            seq: 3,
            reply_to: "q".into(),
            op: Op::Create {
                path: "/a".into(),
                data: Bytes::from_static(b"\x00\xffbinary"),
                mode: CreateMode::EphemeralSequential,
            },
        };
        let env = req.encode();
        assert!(!env.body.contains("binary"));
        assert_eq!(env.payload.as_deref(), Some(&b"\x00\xffbinary"[..]));
        assert_eq!(WriteRequest::decode(env).unwrap(), req);
    }

    #[test]
    fn a_write_request_decodes_from_its_documented_json() {
        let body = r#"{"session":"0x00000000000000ab","seq":7,"reply_to":"q",
                       "op":"set_data","path":"/app","version":0}"#;
        let req = WriteRequest::decode(Envelope {
            body: body.into(),
            payload: Some(Bytes::from_static(b"v2")),
        })
        .unwrap();
        assert_eq!(req.token(), "0x00000000000000ab-7");
        assert_eq!(
            req.op,
            Op::SetData {
                path: "/app".into(),
                data: Bytes::from_static(b"v2"),
                version: Some(0)
            }
        );
    }

    #[test]
    fn a_delete_with_a_payload_is_rejected() {
        let body = r#"{"session":"0x00000000000000ab","seq":1,"reply_to":"q","op":"delete","path":"/a","version":null}"#;
        let err = WriteRequest::decode(Envelope {
            body: body.into(),
            payload: Some(Bytes::from_static(b"x")),
        });
        assert!(matches!(err, Err(DecodeError::MissingPayload)));
    }

    #[test]
    fn unknown_ops_are_malformed() {
        let body = r#"{"session":"0x00000000000000ab","seq":1,"reply_to":"q","op":"format_disk","path":"/"}"#;
        let err = WriteRequest::decode(Envelope {
            body: body.into(),
            payload: None,
        });
        assert!(matches!(err, Err(DecodeError::Body(_))));
    }

    fn commit(seq: u64, op: Op) -> CommitRequest {
        CommitRequest {
            token: token(session(), seq),
            session: session(),
            seq,
            reply_to: "q".into(),
            time_ms: 1_700_000_000_000 + seq as i64,
            op,
            pre: vec![PreState {
                path: "/a".into(),
                stat: None,
                watches: NodeWatches::default(),
            }],
            close_session: false,
        }
    }

    fn bundle_of_every_kind() -> CommitBundle {
        let ops = [
            Op::Create {
                path: "/a".into(),
                data: Bytes::from_static(b"\x00first"),
                mode: CreateMode::Persistent,
            },
            Op::Delete {
                path: "/b".into(),
                version: None,
            },
            Op::SetData {
                path: "/a".into(),
                data: Bytes::new(),
                version: Some(0),
            },
            Op::Multi {
                ops: vec![
                    Op::SetData {
                        path: "/a".into(),
                        data: Bytes::from_static(b"m1"),
                        version: None,
                    },
                    Op::Create {
                        path: "/c".into(),
                        data: Bytes::from_static(b"m22"),
                        mode: CreateMode::Ephemeral,
                    },
                ],
                // As the decoded op has them: the wire's lengths.
                data_lens: vec![2, 3],
            },
            Op::SetData {
                path: "/a".into(),
                data: Bytes::from_static(b"last"),
                version: None,
            },
        ];
        CommitBundle {
            commits: ops
                .into_iter()
                .enumerate()
                .map(|(i, op)| Bundled {
                    commit: commit(i as u64 + 1, op),
                    trace: if i % 2 == 0 {
                        vec![(
                            "traceparent".into(),
                            format!("00-{:032x}-{:016x}-01", i + 1, i + 1),
                        )]
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn a_bundle_round_trips_each_commit_with_its_data_and_trace() {
        let bundle = bundle_of_every_kind();
        let env = bundle.encode();
        assert!(env.body.starts_with(BUNDLE_PREFIX), "{}", env.body);
        assert!(!env.body.contains("first") && !env.body.contains("m22"));
        assert_eq!(
            env.payload.as_deref(),
            Some(&b"\x00firstm1m22last"[..]),
            "the payload is the commits' data in order"
        );
        let got = CommitBundle::decode(env.clone()).unwrap();
        assert_eq!(got, bundle);
        // What a sender counts is what the queue is sent.
        let entries: Vec<BundleEntry> = bundle
            .commits
            .iter()
            .map(|b| CommitBundle::entry(&b.commit, &b.trace))
            .collect();
        let counted = CommitBundle::OVERHEAD + entries.iter().map(BundleEntry::size).sum::<usize>();
        assert!(
            env.queue_size() <= counted,
            "{} > {counted}",
            env.queue_size()
        );
        assert!(
            counted - env.queue_size() <= 1,
            "{counted} vs {}",
            env.queue_size()
        );
    }

    #[test]
    fn a_single_commit_message_reads_as_a_bundle_of_one() {
        let single = commit(
            7,
            Op::SetData {
                path: "/a".into(),
                data: Bytes::from_static(b"v"),
                version: None,
            },
        );
        let got = CommitBundle::decode(single.encode()).unwrap();
        assert_eq!(
            got.commits,
            vec![Bundled {
                commit: single,
                trace: Vec::new()
            }]
        );
    }

    #[test]
    fn a_bundle_whose_payload_does_not_add_up_is_unreadable() {
        let env = bundle_of_every_kind().encode();
        for payload in [None, Some(Bytes::from_static(b"short")), {
            let mut longer = env.payload.clone().unwrap().to_vec();
            longer.push(b'x');
            Some(Bytes::from(longer))
        }] {
            let got = CommitBundle::decode(Envelope {
                body: env.body.clone(),
                payload,
            });
            assert!(matches!(got, Err(DecodeError::MissingPayload)), "{got:?}");
        }
        let got = CommitBundle::decode(Envelope {
            body: "{\"bundle\":[{\"commit\":7}]}".into(),
            payload: None,
        });
        assert!(matches!(got, Err(DecodeError::Body(_))), "{got:?}");
    }

    #[test]
    fn replies_round_trip_with_errors_by_name() {
        let reply = Reply {
            session: session(),
            seq: 9,
            zxid: 0,
            outcome: Outcome::Err(Error::BadVersion),
            after_event: None,
        };
        let env = reply.encode();
        assert!(env.body.contains("\"BadVersion\""));
        assert_eq!(Reply::decode(env).unwrap(), reply);
    }
}
