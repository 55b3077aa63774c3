//! The writes: create, set, delete, deleteall, sync.

use std::collections::VecDeque;

use fk_client::{Client, Code, CreateMode, MultiFailure};
use fk_core::transition::MAX_MULTI_OPS;
use fk_core::{path, Op};

use super::{Failure, Output};

/// The mode of zkCli's `create [-s] [-e] [-c] [-t ttl]`, with zkCli's
/// refusals of flags that do not go together, and this service's of the
/// modes it lacks.
pub fn create_mode(
    sequential: bool,
    ephemeral: bool,
    container: bool,
    ttl: Option<i64>,
) -> Result<CreateMode, Failure> {
    if container && (ephemeral || sequential) {
        return Err(Failure::Usage(
            "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."
                .into(),
        ));
    }
    if ttl.is_some() && ephemeral {
        return Err(Failure::Usage(
            "TTLs cannot be used with Ephemeral znodes".into(),
        ));
    }
    if ttl.is_some() && container {
        return Err(Failure::Usage(
            "TTLs cannot be used with Container znodes".into(),
        ));
    }
    let mode = match (container, ttl.is_some(), sequential) {
        (true, _, _) => CreateMode::Container,
        (false, true, true) => CreateMode::PersistentSequentialWithTtl,
        (false, true, false) => CreateMode::PersistentWithTtl,
        (false, false, _) => CreateMode::from_flags(sequential, ephemeral),
    };
    if !mode.is_supported() {
        let what = if container {
            "container nodes (-c, CreateMode CONTAINER)"
        } else {
            "TTL nodes (-t, CreateMode PERSISTENT_WITH_TTL)"
        };
        return Err(Failure::Unsupported(format!(
            "{what}: this service does not implement them (it would answer Unimplemented)"
        )));
    }
    Ok(mode)
}

pub async fn create(
    zk: &Client,
    path: String,
    data: &[u8],
    mode: CreateMode,
) -> Result<Output, Failure> {
    let (path, stat) = zk
        .create(&path, data, mode)
        .await
        .map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Created { path, stat })
}

pub async fn set(
    zk: &Client,
    path: String,
    data: &[u8],
    version: Option<i32>,
    show_stat: bool,
) -> Result<Output, Failure> {
    let stat = zk
        .set_data(&path, data, any_version(version))
        .await
        .map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Set {
        path,
        stat,
        show_stat,
    })
}

pub async fn delete(zk: &Client, path: String, version: Option<i32>) -> Result<Output, Failure> {
    zk.delete(&path, any_version(version))
        .await
        .map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Deleted { path })
}

pub async fn sync(zk: &Client, path: String) -> Result<Output, Failure> {
    zk.sync(&path)
        .await
        .map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Synced { path })
}

/// `deleteall`: lists the subtree breadth first, then deletes it leaves
/// first in multis of `batch` deletes (zkCli's `ZKUtil.deleteRecursive`);
/// stops at the first batch refused (a node added or removed meanwhile).
/// On `/`, everything below the root.
pub async fn delete_all(
    zk: &Client,
    root: String,
    batch: Option<usize>,
) -> Result<Output, Failure> {
    // zkCli's default is 1,000; one multi here holds at most 48.
    let batch = batch.unwrap_or(MAX_MULTI_OPS).clamp(1, MAX_MULTI_OPS);
    let mut tree = subtree(zk, &root).await?;
    if root == path::ROOT {
        tree.remove(0);
    }
    let count = tree.len();
    let leaves_first: Vec<String> = tree.into_iter().rev().collect();
    for chunk in leaves_first.chunks(batch) {
        if let [only] = chunk {
            zk.delete(only, None)
                .await
                .map_err(|e| Failure::keeper(only, e))?;
            continue;
        }
        let ops = chunk
            .iter()
            .map(|path| Op::Delete {
                path: path.clone(),
                version: None,
            })
            .collect();
        zk.multi(ops)
            .await
            .map_err(|failure| failing_delete(chunk, failure))?;
    }
    Ok(Output::DeletedAll { path: root, count })
}

/// The node and every node below it, breadth first (zkCli's
/// `ZKUtil.listSubTreeBFS`).
async fn subtree(zk: &Client, root: &str) -> Result<Vec<String>, Failure> {
    let mut tree = vec![root.to_string()];
    let mut queue = VecDeque::from([root.to_string()]);
    while let Some(node) = queue.pop_front() {
        let children = zk
            .get_children(&node)
            .await
            .map_err(|e| Failure::keeper(&node, e))?;
        for child in children {
            let child = path::join(&node, &child);
            tree.push(child.clone());
            queue.push_back(child);
        }
    }
    Ok(tree)
}

/// The delete of a batch that made it fail, and why.
fn failing_delete(batch: &[String], failure: MultiFailure) -> Failure {
    let failing = failure
        .results
        .iter()
        .position(|r| matches!(r, Err(e) if *e != Code::RuntimeInconsistency));
    let path = failing
        .and_then(|i| batch.get(i))
        .or(batch.first())
        .cloned()
        .unwrap_or_default();
    Failure::keeper(path, failure.error)
}

/// ZooKeeper's version -1 is "any version".
fn any_version(version: Option<i32>) -> Option<i32> {
    version.filter(|v| *v != -1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zkcli_flags_give_zookeeper_modes() {
        assert_eq!(
            create_mode(true, true, false, None).unwrap(),
            CreateMode::EphemeralSequential
        );
        assert_eq!(
            create_mode(false, false, false, None).unwrap(),
            CreateMode::Persistent
        );
    }

    #[test]
    fn containers_and_ttls_are_refused_as_unsupported() {
        let container = create_mode(false, false, true, None).unwrap_err();
        let ttl = create_mode(true, false, false, Some(1000)).unwrap_err();

        assert!(matches!(container, Failure::Unsupported(_)));
        assert!(container
            .message()
            .starts_with("not supported: container nodes"));
        assert!(ttl.message().starts_with("not supported: TTL nodes"));
        assert_eq!(ttl.error(), Code::Unimplemented);
    }

    #[test]
    fn flags_that_do_not_go_together_get_zkclis_message() {
        let both = create_mode(false, true, true, None).unwrap_err();
        let ttl_ephemeral = create_mode(false, true, false, Some(5)).unwrap_err();

        assert!(both
            .message()
            .starts_with("-c cannot be combined with -s or -e"));
        assert_eq!(
            ttl_ephemeral.message(),
            "TTLs cannot be used with Ephemeral znodes"
        );
    }

    #[test]
    fn a_refused_batch_names_its_failing_delete() {
        let batch = vec!["/a/b".to_string(), "/a".to_string()];
        let failure = failing_delete(&batch, {
            let core = fk_core::op::MultiFailure::at(1, Code::NotEmpty, 2);
            MultiFailure {
                error: core.error.into(),
                results: core.results,
            }
        });

        assert_eq!(failure.message(), "Node not empty: /a");
    }
}
