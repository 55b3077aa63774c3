//! The write path against a reference model of ZooKeeper's semantics:
//! random sequences of writes from two sessions must give the same answers
//! and leave the same tree as a plain sequential implementation, one write
//! at a time and in writer batches with group commit.

mod sim;

use std::collections::BTreeMap;

use fk_core::{CreateMode, Error, Op, OpResult, SessionId};
use proptest::prelude::*;
use sim::*;

#[derive(Debug, Clone, PartialEq, Eq)]
struct ModelNode {
    data: Vec<u8>,
    version: i32,
    cversion: i32,
    num_children: i32,
    owner: i64,
    /// Children ever created: the next sequence number.
    creates: i32,
}

/// ZooKeeper's rules, written as plainly as possible.
#[derive(Default)]
struct Model {
    nodes: BTreeMap<String, ModelNode>,
}

fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => path[..i].into(),
        None => "/".into(),
    }
}

impl Model {
    fn new() -> Self {
        let mut m = Model::default();
        m.nodes.insert(
            "/".into(),
            ModelNode {
                data: vec![],
                version: 0,
                cversion: 0,
                num_children: 0,
                owner: 0,
                creates: 0,
            },
        );
        m
    }

    fn apply(&mut self, session: SessionId, op: &Op) -> Result<Option<String>, Error> {
        match op {
            Op::Create { path, data, mode } => {
                let parent = parent_of(path);
                let p = self.nodes.get(&parent).ok_or(Error::NoNode)?.clone();
                let path = if mode.is_sequential() {
                    format!("{path}{:010}", p.creates)
                } else {
                    path.clone()
                };
                if self.nodes.contains_key(&path) {
                    return Err(Error::NodeExists);
                }
                if p.owner != 0 {
                    return Err(Error::NoChildrenForEphemerals);
                }
                let parent_node = self.nodes.get_mut(&parent).unwrap();
                parent_node.cversion += 1;
                parent_node.num_children += 1;
                parent_node.creates += 1;
                self.nodes.insert(
                    path.clone(),
                    ModelNode {
                        data: data.to_vec(),
                        version: 0,
                        cversion: 0,
                        num_children: 0,
                        creates: 0,
                        owner: if mode.is_ephemeral() {
                            session.raw()
                        } else {
                            0
                        },
                    },
                );
                Ok(Some(path))
            }
            Op::SetData {
                path,
                data,
                version,
            } => {
                let node = self.nodes.get_mut(path).ok_or(Error::NoNode)?;
                if version.is_some_and(|v| v != node.version) {
                    return Err(Error::BadVersion);
                }
                node.version += 1;
                node.data = data.to_vec();
                Ok(None)
            }
            Op::Delete { path, version } => {
                if path == "/" {
                    return Err(Error::BadArguments);
                }
                let node = self.nodes.get(path).ok_or(Error::NoNode)?;
                if version.is_some_and(|v| v != node.version) {
                    return Err(Error::BadVersion);
                }
                if node.num_children > 0 {
                    return Err(Error::NotEmpty);
                }
                self.nodes.remove(path);
                let parent = self.nodes.get_mut(&parent_of(path)).unwrap();
                parent.cversion += 1;
                parent.num_children -= 1;
                Ok(None)
            }
            Op::Check { path, version } => {
                let node = self.nodes.get(path).ok_or(Error::NoNode)?;
                if version.is_some_and(|v| v != node.version) {
                    return Err(Error::BadVersion);
                }
                Ok(None)
            }
            other => panic!("the model does not nest {other:?}"),
        }
    }

    /// A multi: every op on a copy, kept only if all succeed.
    fn apply_multi(
        &mut self,
        session: SessionId,
        ops: &[Op],
    ) -> Result<Vec<Option<String>>, (usize, Error)> {
        let saved = self.nodes.clone();
        let mut out = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            match self.apply(session, op) {
                Ok(r) => out.push(r),
                Err(e) => {
                    self.nodes = saved;
                    return Err((i, e));
                }
            }
        }
        Ok(out)
    }
}

fn op_strategy() -> impl Strategy<Value = (usize, Op)> {
    let paths = prop::sample::select(vec!["/a", "/b", "/a/x", "/a/y", "/b/x", "/a/x/z"]);
    let version = prop::option::of(0i32..3);
    let data = prop::collection::vec(any::<u8>(), 0..4);
    let mode = prop::sample::select(vec![
        CreateMode::Persistent,
        CreateMode::Ephemeral,
        CreateMode::PersistentSequential,
    ]);
    let step = prop_oneof![
        (paths.clone(), data.clone(), mode).prop_map(|(p, d, mode)| Op::Create {
            path: p.to_string(),
            data: d.into(),
            mode
        }),
        (paths.clone(), data, version.clone()).prop_map(|(p, d, version)| Op::SetData {
            path: p.to_string(),
            data: d.into(),
            version
        }),
        (paths.clone(), version.clone()).prop_map(|(p, version)| Op::Delete {
            path: p.to_string(),
            version
        }),
    ];
    let check = (paths, version).prop_map(|(p, version)| Op::Check {
        path: p.to_string(),
        version,
    });
    let op = prop_oneof![
        4 => step.clone(),
        1 => prop::collection::vec(prop_oneof![3 => step, 1 => check], 1..4).prop_map(Op::multi),
    ];
    (0usize..2, op)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn writes_agree_with_the_reference_model(ops in prop::collection::vec(op_strategy(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut sim = Sim::new();
            let sessions = [sim.open_session().await, sim.open_session().await];
            let mut model = Model::new();
            for (who, op) in &ops {
                let session = sessions[*who];
                let actual = sim.write(session, op.clone()).await;
                answers_agree(&mut model, session, op, actual);
            }
            trees_agree(&sim, &model).await;
        });
    }
}

/// Applies `op` of `session` to the model and checks that the system
/// answered it as the model does (the names of created nodes included).
fn answers_agree(model: &mut Model, session: SessionId, op: &Op, actual: Result<OpResult, Error>) {
    if let Op::Multi { ops, .. } = op {
        match (model.apply_multi(session, ops), actual) {
            (Ok(paths), Ok(OpResult::Multi { results })) => {
                for (p, r) in paths.iter().zip(&results) {
                    if let (Some(p), OpResult::Created { path, .. }) = (p, r) {
                        assert_eq!(p, path);
                    }
                }
            }
            (Err((_, e)), Err(g)) => assert_eq!(e, g, "{op:?}"),
            (expected, actual) => panic!("{op:?}: model {expected:?}, system {actual:?}"),
        }
        return;
    }
    let expected = model.apply(session, op);
    match (&expected, &actual) {
        (Ok(Some(path)), Ok(OpResult::Created { path: got, .. })) => assert_eq!(path, got),
        (Ok(None), Ok(OpResult::SetData { .. } | OpResult::Deleted)) => {}
        (Err(e), Err(g)) => assert_eq!(e, g, "{op:?}"),
        _ => panic!("{op:?}: model {expected:?}, system {actual:?}"),
    }
}

/// Checks that user storage holds the model's tree, every node's data,
/// Stat counts, children and owner, and that no lock is left.
async fn trees_agree(sim: &Sim, model: &Model) {
    for (path, node) in &model.nodes {
        let got = sim.read(path).await.unwrap_or_default();
        assert_eq!(&got.data[..], &node.data[..], "{path}");
        assert_eq!(got.stat.version, node.version, "{path}");
        assert_eq!(got.stat.cversion, node.cversion, "{path}");
        assert_eq!(got.stat.num_children, node.num_children, "{path}");
        let mut children: Vec<String> = model
            .nodes
            .keys()
            .filter(|p| p.as_str() != "/" && parent_of(p) == *path)
            .map(|p| p.rsplit('/').next().unwrap().to_string())
            .collect();
        children.sort();
        assert_eq!(got.children, children, "{path}");
        assert_eq!(got.stat.ephemeral_owner, node.owner, "{path}");
    }
    assert!(sim.system.locked_paths().is_empty());
}

/// `op` with every path moved under `root`.
fn rooted(root: &str, op: &Op) -> Op {
    let at = |p: &str| format!("{root}{p}");
    match op {
        Op::Create { path, data, mode } => Op::Create {
            path: at(path),
            data: data.clone(),
            mode: *mode,
        },
        Op::SetData {
            path,
            data,
            version,
        } => Op::SetData {
            path: at(path),
            data: data.clone(),
            version: *version,
        },
        Op::Delete { path, version } => Op::Delete {
            path: at(path),
            version: *version,
        },
        Op::Check { path, version } => Op::Check {
            path: at(path),
            version: *version,
        },
        Op::Multi { ops, .. } => Op::multi(ops.iter().map(|o| rooted(root, o)).collect()),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Writer batches and group commit give every write the answer the
    /// sequential model gives, and leave the same tree: four sessions, each
    /// in its own subtree (so that only each session's own order matters),
    /// their writes handed to the writer in batches of random sizes while
    /// the distributor commits whatever has arrived, ten at a time.
    #[test]
    fn batched_writes_agree_with_the_reference_model(
        ops in prop::collection::vec((0usize..4, op_strategy()), 1..40),
        sizes in prop::collection::vec(1usize..=10, 40),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut sim = Sim::new();
            let mut model = Model::new();
            let mut sessions = Vec::new();
            for i in 0..4 {
                let s = sim.open_session().await;
                let root = create(&format!("/s{i}"), "");
                sim.write(s, root.clone()).await.unwrap();
                model.apply(s, &root).unwrap();
                sessions.push(s);
            }
            let requests: Vec<_> = ops
                .iter()
                .map(|(who, (_, op))| sim.request(sessions[*who], rooted(&format!("/s{who}"), op)))
                .collect();
            let sim = std::sync::Arc::new(sim);
            let draining = {
                let sim = sim.clone();
                tokio::spawn(async move {
                    loop {
                        sim.drain_batched(10).await;
                        // Seldom enough that several writer batches queue up.
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                })
            };
            let mut rest = &requests[..];
            for size in &sizes {
                if rest.is_empty() {
                    break;
                }
                let (batch, later) = rest.split_at((*size).min(rest.len()));
                let batch: Vec<_> = batch.iter().map(|r| (r, 1)).collect();
                sim.writer.handle_batch(&batch, None).await.unwrap();
                rest = later;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            draining.abort();

            let replies = sim.replies.take();
            for (req, (who, (_, op))) in requests.iter().zip(&ops) {
                let actual: Result<OpResult, Error> = replies
                    .iter()
                    .find(|(_, r)| r.session == req.session && r.seq == req.seq)
                    .map(|(_, r)| r.outcome.clone().into())
                    .unwrap_or_else(|| panic!("no reply to {req:?}"));
                let op = rooted(&format!("/s{who}"), op);
                answers_agree(&mut model, req.session, &op, actual);
            }
            trees_agree(&sim, &model).await;
        });
    }
}
