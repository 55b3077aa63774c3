//! [`SystemStore::commit`](fk_core::system::SystemStore::commit): one
//! `TransactWriteItems` of every node write, the counter and the session;
//! [`SystemStore::commit_group`](fk_core::system::SystemStore::commit_group):
//! as many commits as one transaction can hold, with one counter update.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Delete, TransactWriteItem, Update,
};
use fk_core::system::{CommitOutcome, GroupOutcome, NodeWrite, SystemCommit};
use fk_core::StoreError;

use super::names::*;
use super::sessions::names as session_names;
use super::{persistent_entry, ring_attribute, ring_entry, watch_attribute, DynamoSystemStore};
use crate::attrs::{self, n, s};
use crate::errors::DYNAMODB;
use crate::schema::{SESSIONS_KEY, SYSTEM_KEY};
use crate::transaction;

/// Where each part of a commit sits in the transaction: the node writes
/// first, in order, then the counter, then the session.
struct Positions {
    counter: usize,
    session: usize,
}

pub(super) async fn commit(
    store: &DynamoSystemStore,
    commit: &SystemCommit,
) -> Result<CommitOutcome, StoreError> {
    let (items, positions) = transaction(store, commit)
        .map_err(|e| StoreError::permanent(DYNAMODB, format!("building the commit: {e}")))?;
    let Some(cancelled) = send_transaction(store, items).await? else {
        return Ok(CommitOutcome::Committed);
    };
    let outcome = outcome(commit, &positions, &cancelled)?;
    if outcome != CommitOutcome::SessionMissing {
        return Ok(outcome);
    }
    Ok(run_verdict(store, std::slice::from_ref(commit), 0).await?.1)
}

/// Sends the commit's transaction ([`transaction::write`]): `None` when it
/// committed, DynamoDB's reasons, one per item, when it cancelled it.
async fn send_transaction(
    store: &DynamoSystemStore,
    items: Vec<TransactWriteItem>,
) -> Result<Option<Vec<CancellationReason>>, StoreError> {
    transaction::write(&store.client, store.lean.as_ref(), items).await
}

/// The session item of `group[first]` failed its condition in a
/// transaction, which checked every seq of the session's commits there:
/// is the session gone (its first commit fails), or which of those seqs
/// had it decided already (the first such commit is a copy)? One read, on
/// this rare path only.
async fn run_verdict(
    store: &DynamoSystemStore,
    group: &[SystemCommit],
    first: usize,
) -> Result<(usize, CommitOutcome), StoreError> {
    let session = group[first].session;
    let Some(record) = super::sessions::get(store, session).await? else {
        return Ok((first, CommitOutcome::SessionMissing));
    };
    let decided = group
        .iter()
        .enumerate()
        .skip(first)
        .find(|(_, c)| c.session == session && record.decided(c.seq));
    match decided {
        Some((k, _)) => Ok((k, CommitOutcome::Duplicate)),
        // Decided between the commit and the read? Only a concurrent
        // commit of the same seqs could do that, and it would have
        // decided them. Anything else is a bug worth retrying loudly.
        None => Err(StoreError::transient(
            DYNAMODB,
            "the session condition failed, but the session has decided none of its seqs",
        )),
    }
}

/// DynamoDB's limit on the items of one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

pub(super) async fn commit_group(
    store: &DynamoSystemStore,
    commits: &[SystemCommit],
) -> Result<GroupOutcome, StoreError> {
    let mut done = 0;
    while done < commits.len() {
        let end = done + transaction_len(&commits[done..]);
        if end == done + 1 {
            match commit(store, &commits[done]).await? {
                CommitOutcome::Committed => {
                    done = end;
                    continue;
                }
                outcome => {
                    return Ok(GroupOutcome {
                        committed: done,
                        failed: Some((done, outcome)),
                    })
                }
            }
        }
        let group = &commits[done..end];
        let (items, positions) = group_transaction(store, group)
            .map_err(|e| StoreError::permanent(DYNAMODB, format!("building the commit: {e}")))?;
        let Some(cancelled) = send_transaction(store, items).await? else {
            done = end;
            continue;
        };
        let (k, outcome) = group_outcome(group, &positions, &cancelled)?;
        let (k, outcome) = match outcome {
            CommitOutcome::SessionMissing => run_verdict(store, group, k).await?,
            other => (k, other),
        };
        return Ok(GroupOutcome {
            committed: done,
            failed: Some((done + k, outcome)),
        });
    }
    Ok(GroupOutcome::all(commits.len()))
}

/// How many commits from the first go into one transaction: at most
/// [`MAX_TRANSACTION_ITEMS`] items (each commit's node writes, each
/// session once, one counter for all), no node twice (DynamoDB refuses a
/// transaction that touches an item twice: a node whose lock a later
/// write took over starts the next transaction), and one kind of change
/// to the persistent watches (one update expression cannot both add to
/// and delete from a set). At least one.
///
/// A session's consecutive writes share its one item ([`SessionRun`]):
/// they join while their seqs rise and the run's changes to its ephemeral
/// nodes stay of one kind (unless the joining write closes the session),
/// and no write follows the session's close.
/// Anything else starts the next transaction.
pub fn transaction_len(commits: &[SystemCommit]) -> usize {
    let mut items = 1;
    let mut paths = std::collections::HashSet::new();
    let mut sessions: HashMap<fk_core::SessionId, SessionRun> = HashMap::new();
    let (mut adds, mut removes) = (false, false);
    for (i, commit) in commits.iter().enumerate() {
        let (add, remove) = (
            !commit.persistent.added.is_empty(),
            !commit.persistent.removed.is_empty(),
        );
        let run = sessions.get(&commit.session);
        let new_items = commit.writes.len() + usize::from(run.is_none());
        let fits = items + new_items <= MAX_TRANSACTION_ITEMS
            && run.is_none_or(|run| run.takes(commit))
            && commit.writes.iter().all(|w| paths.insert(w.path()))
            && !((adds || add) && (removes || remove));
        if !fits && i > 0 {
            return i;
        }
        items += new_items;
        adds |= add;
        removes |= remove;
        sessions
            .entry(commit.session)
            .and_modify(|run| run.push(commit))
            .or_insert_with(|| SessionRun::new(commit));
    }
    commits.len()
}

/// A session's writes in one transaction, checked and recorded by one
/// update of its item: the item must exist, its `lastSeq` be below the
/// first seq and none of the seqs be refused; `lastSeq` becomes the last
/// seq. Applied one after another, the writes' own conditions would ask
/// the same (each seq above the one before it), so the run commits
/// exactly when each of its writes would have.
struct SessionRun {
    last_seq: u64,
    adds: bool,
    removes: bool,
    closed: bool,
}

impl SessionRun {
    fn new(commit: &SystemCommit) -> Self {
        SessionRun {
            last_seq: commit.seq,
            adds: !commit.ephemerals.added.is_empty(),
            removes: !commit.ephemerals.removed.is_empty(),
            closed: commit.close_session,
        }
    }

    /// Whether the session's next write can share the run's update.
    fn takes(&self, commit: &SystemCommit) -> bool {
        let adds = self.adds || !commit.ephemerals.added.is_empty();
        let removes = self.removes || !commit.ephemerals.removed.is_empty();
        // A close deletes the item: its set of ephemerals no longer matters.
        !self.closed && commit.seq > self.last_seq && (commit.close_session || !(adds && removes))
    }

    fn push(&mut self, commit: &SystemCommit) {
        self.last_seq = commit.seq;
        self.adds |= !commit.ephemerals.added.is_empty();
        self.removes |= !commit.ephemerals.removed.is_empty();
        self.closed |= commit.close_session;
    }
}

/// Where each commit of a group sits in its transaction: every commit's
/// node writes, then the one counter update, then each session's item
/// (shared by the session's commits of the group).
struct GroupPositions {
    writes: Vec<std::ops::Range<usize>>,
    counter: usize,
    sessions: Vec<usize>,
}

fn group_transaction(
    store: &DynamoSystemStore,
    group: &[SystemCommit],
) -> Result<(Vec<TransactWriteItem>, GroupPositions), BuildError> {
    let mut items = Vec::new();
    let mut writes = Vec::with_capacity(group.len());
    for commit in group {
        let start = items.len();
        for write in &commit.writes {
            items.push(node_write(store, write, &commit.token)?);
        }
        writes.push(start..items.len());
    }
    let counter = items.len();
    items.push(counter_update(store, group)?);
    let mut sessions = Vec::with_capacity(group.len());
    let mut placed: HashMap<fk_core::SessionId, usize> = HashMap::new();
    for commit in group {
        let at = match placed.get(&commit.session) {
            Some(&at) => at,
            None => {
                let run: Vec<&SystemCommit> = group
                    .iter()
                    .filter(|c| c.session == commit.session)
                    .collect();
                items.push(session_update(store, &run)?);
                placed.insert(commit.session, items.len() - 1);
                items.len() - 1
            }
        };
        sessions.push(at);
    }
    Ok((
        items,
        GroupPositions {
            writes,
            counter,
            sessions,
        },
    ))
}

/// Which commit of a cancelled group failed, and why: a counter mismatch
/// is the first commit's (the group was numbered from a stale counter);
/// otherwise the first commit in order whose session or locks failed. A
/// session's item is shared by its commits of the group, so its failure
/// names the session's first commit here; [`run_verdict`] finds which of
/// them the session had decided.
fn group_outcome(
    group: &[SystemCommit],
    at: &GroupPositions,
    reasons: &[CancellationReason],
) -> Result<(usize, CommitOutcome), StoreError> {
    let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
    let failed = |i: usize| code(i) == "ConditionalCheckFailed";
    if failed(at.counter) {
        return Ok((0, CommitOutcome::ZxidMismatch));
    }
    for (k, commit) in group.iter().enumerate() {
        if failed(at.sessions[k]) {
            return Ok((k, CommitOutcome::SessionMissing));
        }
        if let Some(i) = at.writes[k].clone().find(|i| failed(*i)) {
            let path = commit.writes[i - at.writes[k].start].path().to_string();
            return Ok((k, CommitOutcome::LockLost { path }));
        }
    }
    Err(transaction::cancelled(reasons))
}

/// Why the transaction was cancelled, by the reason at each position. A
/// counter mismatch wins: the commit is then stale (or a redelivery) and
/// the other failures follow from it.
fn outcome(
    commit: &SystemCommit,
    positions: &Positions,
    reasons: &[CancellationReason],
) -> Result<CommitOutcome, StoreError> {
    let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
    let failed = |i: usize| code(i) == "ConditionalCheckFailed";
    if failed(positions.counter) {
        return Ok(CommitOutcome::ZxidMismatch);
    }
    // Before the locks: a copy of a decided request has usually lost its
    // locks too, and must be dropped, not refused (answered) again.
    if failed(positions.session) {
        return Ok(CommitOutcome::SessionMissing);
    }
    if let Some(write) = commit.writes.iter().enumerate().find(|(i, _)| failed(*i)) {
        return Ok(CommitOutcome::LockLost {
            path: write.1.path().to_string(),
        });
    }
    Err(transaction::cancelled(reasons))
}

/// Expression names and values of one transaction item.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// `#name`, registered.
    fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#{name}");
        self.names.insert(placeholder.clone(), name.to_string());
        placeholder
    }

    /// `:label`, registered with `value`.
    fn value(&mut self, label: &str, value: AttributeValue) -> String {
        let placeholder = format!(":{label}");
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn update(
        self,
        table: &str,
        key: (&str, &str),
        update: String,
        condition: String,
    ) -> Result<TransactWriteItem, BuildError> {
        let update = Update::builder()
            .table_name(table)
            .key(key.0, s(key.1))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(self.names))
            .set_expression_attribute_values(Some(self.values))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

fn transaction(
    store: &DynamoSystemStore,
    commit: &SystemCommit,
) -> Result<(Vec<TransactWriteItem>, Positions), BuildError> {
    let mut items = Vec::with_capacity(commit.writes.len() + 2);
    for write in &commit.writes {
        items.push(node_write(store, write, &commit.token)?);
    }
    let positions = Positions {
        counter: items.len(),
        session: items.len() + 1,
    };
    items.push(counter_update(store, std::slice::from_ref(commit))?);
    items.push(session_update(store, &[commit])?);
    Ok((items, positions))
}

/// A `Put` sets the node's stat and `lastToken` and drops the lock; a
/// `Delete` removes the item. Both only while the lock is the commit's.
fn node_write(
    store: &DynamoSystemStore,
    write: &NodeWrite,
    token: &str,
) -> Result<TransactWriteItem, BuildError> {
    let mut e = Expr::default();
    let lock = e.name(LOCK_TOKEN);
    let tok = e.value("token", s(token));
    let condition = format!("{lock} = {tok}");
    match write {
        NodeWrite::Put { path, stat, fired } => {
            let mut sets: Vec<String> = attrs::stat_values(stat)
                .into_iter()
                .map(|(name, value)| format!("{} = {}", e.name(name), e.value(name, value)))
                .collect();
            sets.push(format!("{} = {tok}", e.name(LAST_TOKEN)));
            let mut removes = vec![lock.clone(), e.name(LOCK_EXPIRES)];
            for (i, (kind, session)) in fired.removed.iter().enumerate() {
                // Watch attribute names hold `:`, which placeholders may not.
                let placeholder = format!("#fired{i}");
                e.names
                    .insert(placeholder.clone(), watch_attribute(*kind, *session));
                removes.push(placeholder);
            }
            if !fired.removed.is_empty() && !fired.others_remain {
                removes.push(e.name(WATCHED));
            }
            let update = format!("SET {} REMOVE {}", sets.join(", "), removes.join(", "));
            e.update(&store.system_table, (SYSTEM_KEY, path), update, condition)
        }
        NodeWrite::Delete { path } => {
            let delete = Delete::builder()
                .table_name(&store.system_table)
                .key(SYSTEM_KEY, s(path))
                .condition_expression(condition)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values(Some(e.values))
                .build()?;
            Ok(TransactWriteItem::builder().delete(delete).build())
        }
    }
}

/// The counter moves from the first commit's `zxid - 1` to the last
/// one's zxid and remembers each commit id in the ring slot of its zxid,
/// overwriting the entry `RECENT_COMMITS` older; it takes the last list of
/// notifications in flight and every change to the persistent watches
/// (all additions or all removals: see [`transaction_len`]).
fn counter_update(
    store: &DynamoSystemStore,
    group: &[SystemCommit],
) -> Result<TransactWriteItem, BuildError> {
    let (first, last) = (&group[0], &group[group.len() - 1]);
    let mut e = Expr::default();
    let zxid = e.name(ZXID);
    let mut sets = vec![format!("{zxid} = {}", e.value("z", n(last.zxid)))];
    for (i, commit) in group.iter().enumerate() {
        sets.push(format!(
            "{} = {}",
            e.name(&ring_attribute(commit.zxid)),
            e.value(
                &format!("entry{i}"),
                s(ring_entry(&commit.commit_id, commit.zxid))
            ),
        ));
    }
    if let Some(in_flight) = group.iter().rev().find_map(|c| c.in_flight.as_ref()) {
        let json = serde_json::to_string(in_flight).expect("a list serialises");
        sets.push(format!(
            "{} = {}",
            e.name(IN_FLIGHT),
            e.value("inFlight", s(json))
        ));
    }
    let mut update = format!("SET {}", sets.join(", "));
    let added: Vec<String> = group
        .iter()
        .flat_map(|c| c.persistent.added.iter().map(persistent_entry))
        .collect();
    let removed: Vec<String> = group
        .iter()
        .flat_map(|c| c.persistent.removed.iter().map(persistent_entry))
        .collect();
    let (verb, watches) = if !added.is_empty() {
        ("ADD", added)
    } else {
        ("DELETE", removed)
    };
    if !watches.is_empty() {
        let mut watches = watches;
        watches.sort();
        watches.dedup();
        update += &format!(
            " {verb} {} {}",
            e.name(PERSISTENT),
            e.value("watches", AttributeValue::Ss(watches))
        );
    }
    let prev = e.value("prev", n(first.zxid - 1));
    let condition = if first.zxid - 1 == 0 {
        format!("attribute_not_exists({zxid}) OR {zxid} = {prev}")
    } else {
        format!("{zxid} = {prev}")
    };
    e.update(
        &store.system_table,
        (SYSTEM_KEY, COUNTER_PATH),
        update,
        condition,
    )
}

/// The session must exist and must not have decided any of the seqs of
/// its commits `run` (in order, seqs rising: see [`SessionRun`]): none
/// committed (`lastSeq` below the first) nor refused, as a copy of a
/// decided request never commits. It records the last seq and the run's
/// ephemeral nodes, or is deleted by a close (the run's last commit).
///
/// One update expression cannot both ADD to and DELETE from the ephemeral
/// set (the paths overlap). In the rare write that does both (a multi that
/// creates one ephemeral and deletes another), the deleted paths stay in
/// the set: a stale entry is harmless, as a close deletes only the nodes
/// the session still owns. A run never mixes the two otherwise.
fn session_update(
    store: &DynamoSystemStore,
    run: &[&SystemCommit],
) -> Result<TransactWriteItem, BuildError> {
    let (first, last) = (run[0], run[run.len() - 1]);
    let mut e = Expr::default();
    let key = first.session.to_string();
    let last_seq = e.name(session_names::LAST_SEQ);
    let refused = e.name(session_names::REFUSED);
    let mut conditions = vec![format!("attribute_exists({})", e.name(SESSIONS_KEY))];
    for (i, commit) in run.iter().enumerate() {
        let label = if i == 0 {
            "seq".to_string()
        } else {
            format!("seq{i}")
        };
        let seq = e.value(&label, n(commit.seq));
        if i == 0 {
            conditions.push(format!("{last_seq} < {seq}"));
        }
        conditions.push(format!("NOT contains({refused}, {seq})"));
    }
    let condition = conditions.join(" AND ");
    if last.close_session {
        let delete = Delete::builder()
            .table_name(&store.sessions_table)
            .key(SESSIONS_KEY, s(&key))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .build()?;
        return Ok(TransactWriteItem::builder().delete(delete).build());
    }
    let seq = if run.len() == 1 {
        ":seq".to_string()
    } else {
        e.value("lastSeq", n(last.seq))
    };
    let mut update = format!("SET {last_seq} = {seq}");
    let added: Vec<String> = run
        .iter()
        .flat_map(|c| c.ephemerals.added.clone())
        .collect();
    let removed: Vec<String> = run
        .iter()
        .flat_map(|c| c.ephemerals.removed.clone())
        .collect();
    let (verb, mut paths) = if !added.is_empty() {
        ("ADD", added)
    } else {
        ("DELETE", removed)
    };
    if !paths.is_empty() {
        // A string set may not name a path twice.
        paths.sort();
        paths.dedup();
        update += &format!(
            " {verb} {} {}",
            e.name(session_names::EPHEMERALS),
            e.value("paths", AttributeValue::Ss(paths))
        );
    }
    e.update(
        &store.sessions_table,
        (SESSIONS_KEY, &key),
        update,
        condition,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::body::SdkBody;
    use fk_core::system::SystemStore;
    use fk_core::{SessionId, Stat};

    use super::*;
    use crate::calls::CallCounter;

    /// An HTTP client that answers every request with `200 {}` and keeps
    /// each request's `X-Amz-Target` and body.
    #[derive(Debug, Clone, Default)]
    struct Recorder {
        requests: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    }

    impl HttpConnector for Recorder {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let target = request
                .headers()
                .get("x-amz-target")
                .unwrap_or("")
                .to_string();
            let body = request
                .body()
                .bytes()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            self.requests.lock().unwrap().push((target, body));
            let response = HttpResponse::new(200.try_into().unwrap(), SdkBody::from("{}"));
            HttpConnectorFuture::ready(Ok(response))
        }
    }

    impl HttpClient for Recorder {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    #[tokio::test]
    async fn a_commit_with_two_node_writes_is_exactly_one_transact_write_items_call() {
        // Given a store whose client talks to a recorder
        let recorder = Recorder::default();
        let counter = CallCounter::new();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .http_client(recorder.clone())
            .interceptor(counter.interceptor())
            .build();
        let store =
            DynamoSystemStore::new(aws_sdk_dynamodb::Client::from_conf(config), "sys", "ses");
        let commit = SystemCommit {
            token: "0x00000000000000ab-7".into(),
            commit_id: "0x00000000000000ab-7.00000000000000ff".into(),
            zxid: 5,
            writes: vec![
                NodeWrite::Put {
                    path: "/a".into(),
                    stat: Stat::default(),
                    fired: Default::default(),
                },
                NodeWrite::Delete { path: "/b".into() },
            ],
            session: "0x00000000000000ab".parse::<SessionId>().unwrap(),
            seq: 7,
            ephemerals: fk_core::system::EphemeralChanges {
                added: vec![],
                removed: vec!["/b".into()],
            },
            close_session: false,
            persistent: Default::default(),
            in_flight: None,
        };

        // When it commits
        let outcome = store.commit(&commit).await.unwrap();

        // Then one request carried all four parts
        assert_eq!(outcome, CommitOutcome::Committed);
        assert_eq!(
            counter.snapshot(),
            [("DynamoDB.TransactWriteItems".to_string(), 1)].into()
        );
        let requests = recorder.requests.lock().unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].0, "DynamoDB_20120810.TransactWriteItems");
        let items = requests[0].1["TransactItems"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0]["Update"]["Key"]["path"]["S"], "/a");
        assert_eq!(items[1]["Delete"]["Key"]["path"]["S"], "/b");
        assert_eq!(items[2]["Update"]["Key"]["path"]["S"], "#counter");
        assert_eq!(items[2]["Update"]["ConditionExpression"], "#zxid = :prev");
        assert_eq!(items[3]["Update"]["TableName"], "ses");
        assert!(items[3]["Update"]["UpdateExpression"]
            .as_str()
            .unwrap()
            .contains("DELETE #ephemerals :paths"));
    }

    #[tokio::test]
    async fn the_lean_transactions_json_is_the_sdks() {
        // Given a commit with every kind of item the store writes
        let recorder = Recorder::default();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .http_client(recorder.clone())
            .build();
        let store =
            DynamoSystemStore::new(aws_sdk_dynamodb::Client::from_conf(config), "sys", "ses");
        let mut commit = two_writes();
        commit.writes.push(NodeWrite::Delete { path: "/c".into() });
        commit.ephemerals.removed.push("/c".into());
        commit
            .persistent
            .added
            .push(fk_core::watch::PersistentWatch {
                session: commit.session,
                path: "/a".into(),
                mode: fk_core::watch::AddWatchMode::Persistent,
                reply_to: "q".into(),
            });

        // When the SDK sends its transaction
        let (items, _) = transaction(&store, &commit).unwrap();
        let lean: Vec<serde_json::Value> = items.iter().map(transaction::item_json).collect();
        send_transaction(&store, items).await.unwrap();

        // Then the lean transport's JSON of it is what the SDK sent
        let requests = recorder.requests.lock().unwrap();
        let sent = &requests[0].1;
        assert_eq!(sent["TransactItems"], serde_json::Value::Array(lean));
        let token = sent["ClientRequestToken"].as_str().unwrap();
        assert_eq!(token.len(), 36, "{token}");
    }

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|c| CancellationReason::builder().code(*c).build())
            .collect()
    }

    fn two_writes() -> SystemCommit {
        SystemCommit {
            token: "t".into(),
            commit_id: "t.1".into(),
            zxid: 2,
            writes: vec![
                NodeWrite::Put {
                    path: "/a".into(),
                    stat: Stat::default(),
                    fired: Default::default(),
                },
                NodeWrite::Put {
                    path: "/a/b".into(),
                    stat: Stat::default(),
                    fired: Default::default(),
                },
            ],
            session: SessionId::from_raw(1).unwrap(),
            seq: 1,
            ephemerals: Default::default(),
            close_session: false,
            persistent: Default::default(),
            in_flight: None,
        }
    }

    fn one_put(session: i64, seq: u64, path: &str) -> SystemCommit {
        SystemCommit {
            token: format!("t{seq}"),
            commit_id: format!("t{seq}.1"),
            zxid: seq as i64,
            writes: vec![NodeWrite::Put {
                path: path.into(),
                stat: Stat::default(),
                fired: Default::default(),
            }],
            session: SessionId::from_raw(session).unwrap(),
            seq,
            ephemerals: Default::default(),
            close_session: false,
            persistent: Default::default(),
            in_flight: None,
        }
    }

    #[test]
    fn a_sessions_writes_share_its_item_while_their_seqs_rise() {
        let run: Vec<SystemCommit> = (1..=5).map(|i| one_put(1, i, &format!("/n{i}"))).collect();
        assert_eq!(transaction_len(&run), 5);

        // A seq that does not rise (a copy of an earlier request) ends it.
        let mut copy = run.clone();
        copy[3].seq = 2;
        assert_eq!(transaction_len(&copy), 3);

        // As does a node already written, or a write after the close.
        let mut again = run.clone();
        again[2] = one_put(2, 3, "/n1");
        assert_eq!(transaction_len(&again), 2);
        let mut closed = run;
        closed[1].close_session = true;
        assert_eq!(transaction_len(&closed), 2);
    }

    #[test]
    fn a_sessions_ephemeral_changes_in_one_transaction_stay_of_one_kind() {
        let mut run: Vec<SystemCommit> =
            (1..=4).map(|i| one_put(1, i, &format!("/n{i}"))).collect();
        run[0].ephemerals.add("/n1");
        run[1].ephemerals.add("/n2");
        run[2].ephemerals.remove("/x");
        assert_eq!(transaction_len(&run), 2);
        assert_eq!(transaction_len(&run[2..]), 2);
        // Another session's removals do not mix with this one's additions.
        run[2].session = SessionId::from_raw(2).unwrap();
        assert_eq!(transaction_len(&run), 4);
        // A close joins whatever the run did: it deletes the item.
        run[2].session = SessionId::from_raw(1).unwrap();
        run[2].close_session = true;
        assert_eq!(transaction_len(&run), 3);
    }

    #[test]
    fn a_transaction_counts_each_session_item_once_up_to_the_limit() {
        let one_session: Vec<SystemCommit> = (1..=120)
            .map(|i| one_put(1, i, &format!("/n{i}")))
            .collect();
        // The counter, the session, 98 nodes.
        assert_eq!(transaction_len(&one_session), MAX_TRANSACTION_ITEMS - 2);
        let many: Vec<SystemCommit> = (1..=120)
            .map(|i| one_put(i as i64, i, &format!("/n{i}")))
            .collect();
        // The counter, then a node and a session each.
        assert_eq!(transaction_len(&many), (MAX_TRANSACTION_ITEMS - 1) / 2);
    }

    #[test]
    fn cancellation_reasons_map_to_outcomes_with_the_counter_first() {
        let c = two_writes();
        let at = Positions {
            counter: 2,
            session: 3,
        };
        let ccf = "ConditionalCheckFailed";
        let outcome = |codes: &[&str]| outcome(&c, &at, &reasons(codes));
        assert_eq!(
            outcome(&["None", ccf, ccf, ccf]).unwrap(),
            CommitOutcome::ZxidMismatch
        );
        assert_eq!(
            outcome(&["None", ccf, "None", "None"]).unwrap(),
            CommitOutcome::LockLost {
                path: "/a/b".into()
            }
        );
        // A copy of a decided request has usually lost its locks too: the
        // session's verdict comes first (the caller reads the session).
        assert_eq!(
            outcome(&["None", ccf, "None", ccf]).unwrap(),
            CommitOutcome::SessionMissing
        );
        assert_eq!(
            outcome(&["None", "None", "None", ccf]).unwrap(),
            CommitOutcome::SessionMissing
        );
        let conflict = outcome(&["TransactionConflict", "None", "None", "None"]).unwrap_err();
        assert!(conflict.retryable);
        let invalid = outcome(&["ValidationError", "None", "None", "None"]).unwrap_err();
        assert!(!invalid.retryable);
    }
}
