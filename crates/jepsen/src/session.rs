//! Session guarantees ZooKeeper gives each client, checked without search.
//!
//! Both are implied by linearizability, but they are cheap, they still work
//! on histories too long for the search, and when they fail they name two
//! operations of one process instead of a search witness.
//!
//! Only `Ok` operations with a completion time count here; malformed ones are
//! skipped (the linearizability check reports them).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::history::{Call, Observed, Operation, Outcome, ProcessId};

/// One operation's part in an anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    /// Position in the checked history.
    pub index: usize,
    /// The version it read, or the one it wrote.
    pub version: i32,
    pub invoked_ns: u64,
    pub completed_ns: u64,
}

/// A violated session guarantee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "anomaly", rename_all = "snake_case")]
pub enum Anomaly {
    /// A read, invoked after an earlier read of the same process completed,
    /// returned a lower version of the same key.
    NonMonotonicRead {
        process: ProcessId,
        key: String,
        earlier: Sighting,
        later: Sighting,
    },
    /// A read, invoked after the same process's write to the key completed,
    /// returned a lower version than that write reported.
    MissedOwnWrite {
        process: ProcessId,
        key: String,
        write: Sighting,
        read: Sighting,
    },
}

impl Anomaly {
    /// The history position of the operation that broke the guarantee.
    pub fn index(&self) -> usize {
        match self {
            Anomaly::NonMonotonicRead { later, .. } => later.index,
            Anomaly::MissedOwnWrite { read, .. } => read.index,
        }
    }
}

/// Every monotonic-reads and read-your-writes violation, ordered by the
/// position of the offending read.
pub fn check_sessions(history: &[Operation]) -> Vec<Anomaly> {
    let mut sessions: BTreeMap<(ProcessId, &str), Session> = BTreeMap::new();
    for (index, op) in history.iter().enumerate() {
        let (Outcome::Ok(observed), Some(completed_ns), Ok(())) =
            (op.result, op.completed_ns, op.validate())
        else {
            continue;
        };
        let (version, is_read) = match (op.call, observed) {
            (Call::Read, Observed::Read { version, .. }) => (version, true),
            (Call::Write { .. } | Call::Cas { .. }, Observed::Written { version }) => {
                (version, false)
            }
            _ => continue,
        };
        let session = sessions.entry((op.process, &op.key)).or_default();
        let list = if is_read {
            &mut session.reads
        } else {
            &mut session.writes
        };
        list.push(Sighting {
            index,
            version,
            invoked_ns: op.invoked_ns,
            completed_ns,
        });
    }
    let mut anomalies = Vec::new();
    for ((process, key), session) in sessions {
        session.check(process, key, &mut anomalies);
    }
    anomalies.sort_by_key(Anomaly::index);
    anomalies
}

#[derive(Default)]
struct Session {
    reads: Vec<Sighting>,
    writes: Vec<Sighting>,
}

impl Session {
    /// Sweeps the reads in invocation order, keeping the highest version
    /// among the reads and among the writes that completed strictly before
    /// the current read was invoked: O(n log n) even for sessions that
    /// pipeline requests.
    fn check(self, process: ProcessId, key: &str, anomalies: &mut Vec<Anomaly>) {
        let mut by_invocation = self.reads.clone();
        by_invocation.sort_by_key(|s| (s.invoked_ns, s.index));
        let mut earlier_reads = Highest::new(self.reads);
        let mut earlier_writes = Highest::new(self.writes);
        for read in by_invocation {
            if let Some(earlier) = earlier_reads.completed_before(read.invoked_ns) {
                if earlier.version > read.version {
                    anomalies.push(Anomaly::NonMonotonicRead {
                        process,
                        key: key.to_owned(),
                        earlier,
                        later: read,
                    });
                }
            }
            if let Some(write) = earlier_writes.completed_before(read.invoked_ns) {
                if write.version > read.version {
                    anomalies.push(Anomaly::MissedOwnWrite {
                        process,
                        key: key.to_owned(),
                        write,
                        read,
                    });
                }
            }
        }
    }
}

/// The highest-version sighting among those completed before a moving time.
struct Highest {
    by_completion: Vec<Sighting>,
    taken: usize,
    best: Option<Sighting>,
}

impl Highest {
    fn new(mut sightings: Vec<Sighting>) -> Self {
        sightings.sort_by_key(|s| (s.completed_ns, s.index));
        Highest {
            by_completion: sightings,
            taken: 0,
            best: None,
        }
    }

    /// Must be called with non-decreasing `time`.
    fn completed_before(&mut self, time: u64) -> Option<Sighting> {
        while let Some(&next) = self.by_completion.get(self.taken) {
            if next.completed_ns >= time {
                break;
            }
            if self.best.is_none_or(|best| next.version > best.version) {
                self.best = Some(next);
            }
            self.taken += 1;
        }
        self.best
    }
}

impl fmt::Display for Sighting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "version {} (op #{}, [{}, {}])",
            self.version, self.index, self.invoked_ns, self.completed_ns
        )
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::NonMonotonicRead {
                process,
                key,
                earlier,
                later,
            } => write!(
                f,
                "non-monotonic read: process {process} read {key} at {later} after it had already read {earlier}"
            ),
            Anomaly::MissedOwnWrite {
                process,
                key,
                write,
                read,
            } => write!(
                f,
                "missed own write: process {process} read {key} at {read} after its own write had produced {write}"
            ),
        }
    }
}
