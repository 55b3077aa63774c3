//! The Wing–Gong linearizability search with Lowe's memoization, one key at
//! a time.
//!
//! Every operation that constrains the register gets a call entry at its
//! invocation and, unless it is `Info`, a return entry at its completion, in
//! one doubly linked list sorted by time (calls before returns at the same
//! instant, so equal timestamps are concurrent). The search walks the list
//! from the front: a call whose operation can take effect from the current
//! state is linearized and unlinked with its return; reaching a return means
//! that operation should already have been linearized, so the last choice is
//! undone. `Info` operations have no return, so nothing forces them in: the
//! search is done once every operation with a return is linearized.

use std::collections::btree_map::{BTreeMap, Entry as MapEntry};
use std::collections::HashSet;
use std::mem::size_of;

use serde::{Deserialize, Serialize};

use crate::history::Operation;
use crate::model::{self, RegisterState};
use crate::report::{IndexedOp, KeyReport, Placed, Report, Verdict, Witness};

/// Limits on the search for one key, so a pathological history ends as
/// [`Verdict::Unknown`] instead of running for hours or eating the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Entries visited: the default takes several seconds in a debug build
    /// and well under one in a release build.
    pub max_steps: u64,
    /// Approximate size of Lowe's cache, which stores a bitset of the history
    /// per entry and so grows with the square of a long, branchy history.
    pub max_cache_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_steps: 10_000_000,
            max_cache_bytes: 1 << 30,
        }
    }
}

/// Checks each key's sub-history separately against a register that starts
/// as `initial(key)`, with the default [`Config`].
pub fn check(history: &[Operation], initial: impl Fn(&str) -> RegisterState) -> Report {
    check_with(history, initial, &Config::default())
}

/// [`check`] with explicit search limits, which apply to each key.
pub fn check_with(
    history: &[Operation],
    initial: impl Fn(&str) -> RegisterState,
    config: &Config,
) -> Report {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, op) in history.iter().enumerate() {
        by_key.entry(&op.key).or_default().push(index);
    }
    let keys = by_key
        .into_iter()
        .map(|(key, indices)| check_key(history, key, &indices, initial(key), config))
        .collect();
    Report::from_keys(keys)
}

fn check_key(
    history: &[Operation],
    key: &str,
    indices: &[usize],
    initial: RegisterState,
    config: &Config,
) -> KeyReport {
    let (verdict, steps) = match Search::new(history, indices) {
        Ok(search) => search.run(key, initial, config),
        Err((index, reason)) => (
            Verdict::Unknown {
                key: key.to_owned(),
                reason: format!("op #{index} is malformed: {reason}"),
            },
            0,
        ),
    };
    KeyReport {
        key: key.to_owned(),
        ops: indices.len(),
        indeterminate: indices
            .iter()
            .filter(|&&i| history[i].is_indeterminate())
            .count(),
        steps,
        verdict,
    }
}

/// The list's sentinel: the list is circular through it.
const HEAD: usize = 0;

#[derive(Clone, Copy)]
enum Entry {
    Head,
    Call(usize),
    Return(usize),
}

struct Candidate<'h> {
    index: usize,
    op: &'h Operation,
    /// Has a return entry, so it must be linearized; `Info` ones need not be.
    required: bool,
    bound: Option<i32>,
    call: usize,
    ret: Option<usize>,
}

/// The deepest dead end, kept as positions so that recording it stays cheap
/// while the search is still hoping to succeed.
struct DeadEnd {
    stack: Vec<(usize, RegisterState)>,
    state: RegisterState,
    blocked: usize,
    candidates: Vec<usize>,
}

struct Search<'h> {
    ops: Vec<Candidate<'h>>,
    entries: Vec<Entry>,
    next: Vec<usize>,
    prev: Vec<usize>,
}

impl<'h> Search<'h> {
    fn new(history: &'h [Operation], indices: &[usize]) -> Result<Self, (usize, &'static str)> {
        let mut ops = Vec::with_capacity(indices.len());
        for &index in indices {
            let op = &history[index];
            op.validate().map_err(|reason| (index, reason))?;
            if model::constrains(&op.call, &op.result) {
                ops.push(Candidate {
                    index,
                    op,
                    required: op.deadline_ns().is_some(),
                    bound: model::version_bound(&op.call, &op.result),
                    call: HEAD,
                    ret: None,
                });
            }
        }
        // (time, is a return, op): sorting puts calls before returns at the
        // same instant.
        let mut events = Vec::with_capacity(2 * ops.len());
        for (pos, candidate) in ops.iter().enumerate() {
            events.push((candidate.op.invoked_ns, false, pos));
            if let Some(done) = candidate.op.deadline_ns() {
                events.push((done, true, pos));
            }
        }
        events.sort_unstable();
        let mut entries = vec![Entry::Head];
        for (_, is_return, pos) in events {
            if is_return {
                ops[pos].ret = Some(entries.len());
                entries.push(Entry::Return(pos));
            } else {
                ops[pos].call = entries.len();
                entries.push(Entry::Call(pos));
            }
        }
        let len = entries.len();
        Ok(Search {
            ops,
            entries,
            next: (0..len).map(|e| (e + 1) % len).collect(),
            prev: (0..len).map(|e| (e + len - 1) % len).collect(),
        })
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    /// Undoes `unlink(e)`; correct only in reverse order of the unlinks, which
    /// the search's stack guarantees.
    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        self.prev[n] = e;
    }

    fn lift(&mut self, pos: usize) {
        let (call, ret) = (self.ops[pos].call, self.ops[pos].ret);
        self.unlink(call);
        if let Some(ret) = ret {
            self.unlink(ret);
        }
    }

    fn unlift(&mut self, pos: usize) {
        let (call, ret) = (self.ops[pos].call, self.ops[pos].ret);
        if let Some(ret) = ret {
            self.relink(ret);
        }
        self.relink(call);
    }

    fn run(mut self, key: &str, initial: RegisterState, config: &Config) -> (Verdict, u64) {
        let unknown = |reason: String| Verdict::Unknown {
            key: key.to_owned(),
            reason,
        };
        let mut pending = Bounds::default();
        let mut required_left = 0usize;
        for candidate in self.ops.iter().filter(|c| c.required) {
            pending.add(candidate.bound);
            required_left += 1;
        }
        let mut linearized = BitSet::new(self.ops.len());
        let entry_bytes = linearized.heap_bytes() + size_of::<(BitSet, RegisterState)>() + 8;
        let mut seen: HashSet<(BitSet, RegisterState)> = HashSet::new();
        let mut stack: Vec<(usize, RegisterState)> = Vec::new();
        let mut state = initial;
        let mut cursor = self.next[HEAD];
        let mut deepest: Option<DeadEnd> = None;
        let mut steps = 0u64;
        loop {
            if required_left == 0 {
                return (Verdict::Linearizable, steps);
            }
            if steps >= config.max_steps {
                return (
                    unknown(format!("gave up after {steps} search steps")),
                    steps,
                );
            }
            if seen.len().saturating_mul(entry_bytes) > config.max_cache_bytes {
                let reason = format!(
                    "gave up when the cache outgrew {} bytes",
                    config.max_cache_bytes
                );
                return (unknown(reason), steps);
            }
            steps += 1;
            if let Entry::Call(pos) = self.entries[cursor] {
                let candidate = &self.ops[pos];
                let (required, bound) = (candidate.required, candidate.bound);
                // Only optional ops are pruned by version: a required op that
                // cannot be placed is found out where it is blamed best, at
                // its own return.
                let placed = state
                    .apply(&candidate.op.call, &candidate.op.result)
                    .filter(|next| required || pending.admits(next.version));
                if let Some(next) = placed {
                    linearized.insert(pos);
                    if seen.insert((linearized.clone(), next)) {
                        stack.push((pos, state));
                        state = next;
                        self.lift(pos);
                        if required {
                            required_left -= 1;
                            pending.remove(bound);
                        }
                        cursor = self.next[HEAD];
                        continue;
                    }
                    linearized.remove(pos);
                }
                cursor = self.next[cursor];
                continue;
            }
            // A return (or, defensively, the end of the list): an operation
            // had to be linearized by now and was not, so undo the last step.
            if deepest.as_ref().is_none_or(|d| stack.len() > d.stack.len()) {
                deepest = self.dead_end(cursor, &stack, state).or(deepest);
            }
            let Some((pos, before)) = stack.pop() else {
                let verdict = match deepest {
                    Some(dead_end) => Verdict::NotLinearizable {
                        key: key.to_owned(),
                        witness: Box::new(self.witness(dead_end)),
                    },
                    None => unknown("the search ended without a dead end".to_owned()),
                };
                return (verdict, steps);
            };
            linearized.remove(pos);
            state = before;
            self.unlift(pos);
            let candidate = &self.ops[pos];
            if candidate.required {
                required_left += 1;
                pending.add(candidate.bound);
            }
            cursor = self.next[candidate.call];
        }
    }

    fn dead_end(
        &self,
        cursor: usize,
        stack: &[(usize, RegisterState)],
        state: RegisterState,
    ) -> Option<DeadEnd> {
        let Entry::Return(blocked) = self.entries[cursor] else {
            return None;
        };
        let mut candidates = Vec::new();
        let mut e = self.next[HEAD];
        while e != cursor {
            if let Entry::Call(pos) = self.entries[e] {
                if pos != blocked {
                    candidates.push(pos);
                }
            }
            e = self.next[e];
        }
        Some(DeadEnd {
            stack: stack.to_vec(),
            state,
            blocked,
            candidates,
        })
    }

    fn witness(&self, dead_end: DeadEnd) -> Witness {
        let indexed = |pos: usize| IndexedOp {
            index: self.ops[pos].index,
            op: self.ops[pos].op.clone(),
        };
        let stack = &dead_end.stack;
        let linearized = stack
            .iter()
            .enumerate()
            .map(|(depth, &(pos, _))| Placed {
                index: self.ops[pos].index,
                op: self.ops[pos].op.clone(),
                state_after: stack.get(depth + 1).map_or(dead_end.state, |&(_, s)| s),
            })
            .collect();
        Witness {
            linearized,
            state: dead_end.state,
            blocked: indexed(dead_end.blocked),
            candidates: dead_end.candidates.into_iter().map(indexed).collect(),
        }
    }
}

/// The version bounds of the required operations not yet linearized, as a
/// multiset.
#[derive(Default)]
struct Bounds(BTreeMap<i32, usize>);

impl Bounds {
    fn add(&mut self, bound: Option<i32>) {
        if let Some(bound) = bound {
            *self.0.entry(bound).or_default() += 1;
        }
    }

    fn remove(&mut self, bound: Option<i32>) {
        if let Some(MapEntry::Occupied(mut count)) = bound.map(|b| self.0.entry(b)) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
    }

    /// Whether the register may reach `version` while every pending
    /// operation can still take effect later.
    fn admits(&self, version: i32) -> bool {
        self.0
            .first_key_value()
            .is_none_or(|(&floor, _)| version <= floor)
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct BitSet(Box<[u64]>);

impl BitSet {
    fn new(len: usize) -> Self {
        BitSet(vec![0; len.div_ceil(64)].into_boxed_slice())
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn remove(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    fn heap_bytes(&self) -> usize {
        self.0.len() * size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Call, Observed, Outcome};

    fn op(call: Call, span: (u64, u64), result: Outcome) -> Operation {
        Operation {
            process: 1,
            key: "/r".into(),
            call,
            invoked_ns: span.0,
            completed_ns: Some(span.1),
            result,
        }
    }

    fn read(span: (u64, u64), version: i32) -> Operation {
        let seen = Observed::Read {
            value: None,
            version,
        };
        op(Call::Read, span, Outcome::Ok(seen))
    }

    fn order(search: &Search) -> Vec<usize> {
        let mut order = Vec::new();
        let mut e = search.next[HEAD];
        while e != HEAD {
            order.push(e);
            e = search.next[e];
        }
        order
    }

    #[test]
    fn given_equal_timestamps_when_sorted_then_calls_come_before_returns() {
        let history = [read((0, 10), 0), read((10, 20), 0)];
        let search = Search::new(&history, &[0, 1]).unwrap();
        let kinds: Vec<_> = order(&search)
            .into_iter()
            .map(|e| match search.entries[e] {
                Entry::Call(pos) => format!("c{pos}"),
                Entry::Return(pos) => format!("r{pos}"),
                Entry::Head => "head".to_owned(),
            })
            .collect();
        assert_eq!(kinds, ["c0", "c1", "r0", "r1"]);
    }

    #[test]
    fn given_nested_lifts_when_undone_in_reverse_then_the_list_is_restored() {
        let history = [read((0, 10), 0), read((1, 5), 0), read((2, 3), 0)];
        let mut search = Search::new(&history, &[0, 1, 2]).unwrap();
        let original = order(&search);
        search.lift(1);
        search.lift(2);
        search.lift(0);
        assert!(order(&search).is_empty());
        search.unlift(0);
        search.unlift(2);
        search.unlift(1);
        assert_eq!(order(&search), original);
    }

    #[test]
    fn given_an_info_op_then_it_gets_no_return_entry() {
        let mut info = op(Call::Write { value: 1 }, (0, 5), Outcome::Info);
        info.completed_ns = None;
        let history = [info, read((1, 2), 0)];
        let search = Search::new(&history, &[0, 1]).unwrap();
        assert_eq!(search.ops[0].ret, None);
        assert!(!search.ops[0].required);
        assert_eq!(order(&search).len(), 3);
    }

    #[test]
    fn given_pending_bounds_then_the_lowest_one_caps_the_version() {
        let mut bounds = Bounds::default();
        assert!(bounds.admits(i32::MAX));
        bounds.add(Some(2));
        bounds.add(Some(5));
        bounds.add(Some(2));
        bounds.add(None);
        assert!(bounds.admits(2));
        assert!(!bounds.admits(3));
        bounds.remove(Some(2));
        assert!(!bounds.admits(3), "another op still needs version 2");
        bounds.remove(Some(2));
        bounds.remove(None);
        assert!(bounds.admits(5));
        assert!(!bounds.admits(6));
    }
}
