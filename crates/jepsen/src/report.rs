//! What a linearizability check found, per key and overall.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::history::Operation;
use crate::model::RegisterState;

/// How many of a witness's linearized operations [`Witness`]'s `Display`
/// shows; the rest of the prefix is rarely where the problem is.
const SHOWN_PREFIX: usize = 8;

/// An operation and its position in the checked history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedOp {
    pub index: usize,
    pub op: Operation,
}

/// One step of a linearization: the operation and the state it left behind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placed {
    pub index: usize,
    pub op: Operation,
    pub state_after: RegisterState,
}

/// Where the search got furthest before every branch failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// The longest linearizable prefix found, in linearization order.
    pub linearized: Vec<Placed>,
    /// The register after that prefix.
    pub state: RegisterState,
    /// The operation whose completion came first among those left: it had
    /// to take effect before anything invoked after it completed, but neither
    /// it nor any candidate could go next.
    pub blocked: IndexedOp,
    /// The other operations invoked before `blocked` completed and not yet
    /// linearized; none of them could go next either.
    pub candidates: Vec<IndexedOp>,
}

/// The outcome of checking one key, or a whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Linearizable,
    NotLinearizable {
        key: String,
        witness: Box<Witness>,
    },
    /// The search gave up (budget) or the history could not be checked.
    Unknown {
        key: String,
        reason: String,
    },
}

impl Verdict {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable)
    }

    pub fn is_not_linearizable(&self) -> bool {
        matches!(self, Verdict::NotLinearizable { .. })
    }
}

/// The check of one key's sub-history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyReport {
    pub key: String,
    /// All operations on the key, whatever their outcome.
    pub ops: usize,
    /// Operations whose outcome is `Info`.
    pub indeterminate: usize,
    /// Search steps spent; compare with [`crate::Config::max_steps`].
    pub steps: u64,
    pub verdict: Verdict,
}

/// The check of a whole history: one [`KeyReport`] per key, sorted by key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub ops: usize,
    pub indeterminate: usize,
    pub keys: Vec<KeyReport>,
}

static LINEARIZABLE: Verdict = Verdict::Linearizable;

impl Report {
    pub(crate) fn from_keys(keys: Vec<KeyReport>) -> Self {
        Report {
            ops: keys.iter().map(|k| k.ops).sum(),
            indeterminate: keys.iter().map(|k| k.indeterminate).sum(),
            keys,
        }
    }

    /// True when every key is linearizable, hence (by P-compositionality)
    /// the whole history is.
    pub fn is_linearizable(&self) -> bool {
        self.keys.iter().all(|k| k.verdict.is_linearizable())
    }

    /// The verdict for the whole history: the first key found not
    /// linearizable, else the first key left unknown, else linearizable.
    pub fn verdict(&self) -> &Verdict {
        let first = |wanted: fn(&Verdict) -> bool| {
            self.keys
                .iter()
                .map(|k| &k.verdict)
                .find(|&verdict| wanted(verdict))
        };
        first(Verdict::is_not_linearizable)
            .or_else(|| first(|verdict| matches!(verdict, Verdict::Unknown { .. })))
            .unwrap_or(&LINEARIZABLE)
    }
}

impl fmt::Display for IndexedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}", self.index, self.op)
    }
}

impl fmt::Display for Witness {
    /// Several lines, without a trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "after {} linearized op(s) the register holds {}; {} had to take effect next but could not",
            self.linearized.len(),
            self.state,
            self.blocked
        )?;
        if self.candidates.is_empty() {
            f.write_str("\nno other op was pending")?;
        } else {
            f.write_str("\nnor could any other pending op:")?;
            for candidate in &self.candidates {
                write!(f, "\n  {candidate}")?;
            }
        }
        let skipped = self.linearized.len().saturating_sub(SHOWN_PREFIX);
        if skipped > 0 {
            write!(
                f,
                "\nlast {SHOWN_PREFIX} linearized ops ({skipped} earlier not shown):"
            )?;
        } else if !self.linearized.is_empty() {
            f.write_str("\nlinearized ops:")?;
        }
        for placed in &self.linearized[skipped..] {
            write!(
                f,
                "\n  #{} {} => {}",
                placed.index, placed.op, placed.state_after
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable => f.write_str("linearizable"),
            Verdict::NotLinearizable { key, witness } => {
                write!(f, "key {key} is not linearizable: {witness}")
            }
            Verdict::Unknown { key, reason } => write!(f, "key {key} is unknown: {reason}"),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} op(s) over {} key(s), {} indeterminate: {}",
            self.ops,
            self.keys.len(),
            self.indeterminate,
            match self.verdict() {
                Verdict::Linearizable => "linearizable",
                Verdict::NotLinearizable { .. } => "NOT linearizable",
                Verdict::Unknown { .. } => "unknown",
            }
        )?;
        for key in &self.keys {
            write!(
                f,
                "- {}: {} op(s), {} indeterminate, {} step(s): ",
                key.key, key.ops, key.indeterminate, key.steps
            )?;
            match &key.verdict {
                Verdict::Linearizable => writeln!(f, "linearizable")?,
                Verdict::Unknown { reason, .. } => writeln!(f, "unknown: {reason}")?,
                Verdict::NotLinearizable { witness, .. } => {
                    writeln!(f, "not linearizable")?;
                    for line in witness.to_string().lines() {
                        writeln!(f, "    {line}")?;
                    }
                }
            }
        }
        Ok(())
    }
}
