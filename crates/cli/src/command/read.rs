//! The reads: get, ls, ls -R, stat (and exists), getEphemerals,
//! getAllChildrenNumber.

use fk_client::{Client, Code};
use fk_core::path;

use super::{Failure, Output};

pub async fn get(
    zk: &Client,
    path: String,
    show_stat: bool,
    watch: bool,
) -> Result<Output, Failure> {
    let read = if watch {
        zk.get_data_and_watch(&path).await
    } else {
        zk.get_data(&path).await
    };
    let (data, stat) = read.map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Data {
        path,
        data,
        stat,
        show_stat,
    })
}

pub async fn children(
    zk: &Client,
    path: String,
    show_stat: bool,
    watch: bool,
) -> Result<Output, Failure> {
    let read = if watch {
        zk.get_children_and_watch(&path).await
    } else {
        zk.get_children_with_stat(&path).await
    };
    let (children, stat) = read.map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Children {
        path,
        children,
        stat: show_stat.then_some(stat),
    })
}

/// `ls -R`: the node, then depth first each node's children (sorted) before
/// the children's own children, as zkCli's `ZKUtil.visitSubTreeDFS` walks.
/// With `watch`, a data watch on the node and a child watch on every node
/// listed, as there. A node deleted during the walk is skipped.
pub async fn tree(zk: &Client, root: String, watch: bool) -> Result<Output, Failure> {
    let exists = if watch {
        zk.get_data_and_watch(&root).await
    } else {
        zk.get_data(&root).await
    };
    exists.map_err(|e| Failure::keeper(&root, e))?;
    let mut paths = vec![root.clone()];
    let mut to_visit = vec![root.clone()];
    while let Some(node) = to_visit.pop() {
        let listed = if watch {
            zk.get_children_and_watch(&node).await
        } else {
            zk.get_children_with_stat(&node).await
        };
        let children = match listed {
            Ok((children, _)) => children,
            Err(e) if e == Code::NoNode => continue,
            Err(e) => return Err(Failure::keeper(&node, e)),
        };
        let children: Vec<String> = children.iter().map(|c| path::join(&node, c)).collect();
        paths.extend(children.iter().cloned());
        // The first child is visited next, and its subtree before the second.
        to_visit.extend(children.into_iter().rev());
    }
    Ok(Output::Tree { path: root, paths })
}

pub async fn stat(zk: &Client, path: String, watch: bool) -> Result<Output, Failure> {
    let read = if watch {
        zk.exists_and_watch(&path).await
    } else {
        zk.exists(&path).await
    };
    match read {
        Ok(Some(stat)) => Ok(Output::Stat { path, stat }),
        Ok(None) => Err(Failure::keeper(path, Code::NoNode.into())),
        Err(e) => Err(Failure::keeper(path, e)),
    }
}

pub async fn ephemerals(zk: &Client, path: String) -> Result<Output, Failure> {
    let children = zk
        .get_ephemerals(&path)
        .await
        .map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Children {
        path,
        children,
        stat: None,
    })
}

pub async fn count(zk: &Client, path: String) -> Result<Output, Failure> {
    let count = zk
        .get_all_children_number(&path)
        .await
        .map_err(|e| Failure::keeper(&path, e))?;
    Ok(Output::Count { path, count })
}
