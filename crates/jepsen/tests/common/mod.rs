//! Builders for hand-written histories, a generator of linearizable ones, and
//! a brute-force checker to compare the search against.
#![allow(dead_code)]

use std::collections::HashMap;

use fk_jepsen::{Call, Observed, Operation, Outcome, RegisterState, Report};

/// The key hand-written histories use unless they say otherwise.
pub const K: &str = "/r";

fn op(process: u32, call: Call, span: (u64, u64), result: Outcome) -> Operation {
    Operation {
        process,
        key: K.to_owned(),
        call,
        invoked_ns: span.0,
        completed_ns: Some(span.1),
        result,
    }
}

/// An `Ok` unconditional write that reported `version`.
pub fn write(process: u32, value: i64, span: (u64, u64), version: i32) -> Operation {
    let result = Outcome::Ok(Observed::Written { version });
    op(process, Call::Write { value }, span, result)
}

pub fn write_fail(process: u32, value: i64, span: (u64, u64)) -> Operation {
    op(process, Call::Write { value }, span, Outcome::Fail)
}

/// An unconditional write whose reply never came.
pub fn write_info(process: u32, value: i64, invoked: u64) -> Operation {
    let mut info = op(
        process,
        Call::Write { value },
        (invoked, invoked),
        Outcome::Info,
    );
    info.completed_ns = None;
    info
}

pub fn cas(process: u32, expected: i32, value: i64, span: (u64, u64), version: i32) -> Operation {
    let call = Call::Cas {
        expected_version: expected,
        value,
    };
    op(
        process,
        call,
        span,
        Outcome::Ok(Observed::Written { version }),
    )
}

pub fn cas_fail(process: u32, expected: i32, value: i64, span: (u64, u64)) -> Operation {
    let call = Call::Cas {
        expected_version: expected,
        value,
    };
    op(process, call, span, Outcome::Fail)
}

pub fn cas_info(process: u32, expected: i32, value: i64, invoked: u64) -> Operation {
    let call = Call::Cas {
        expected_version: expected,
        value,
    };
    let mut info = op(process, call, (invoked, invoked), Outcome::Info);
    info.completed_ns = None;
    info
}

/// An `Ok` read that saw `value` at `version`.
pub fn read(process: u32, span: (u64, u64), value: i64, version: i32) -> Operation {
    let seen = Observed::Read {
        value: Some(value),
        version,
    };
    op(process, Call::Read, span, Outcome::Ok(seen))
}

pub fn on(key: &str, mut op: Operation) -> Operation {
    op.key = key.to_owned();
    op
}

/// Checks against registers created with value 0 at version 0.
pub fn check_fresh(history: &[Operation]) -> Report {
    fk_jepsen::check(history, |_| RegisterState::default())
}

/// What one generated operation asks for.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Write,
    /// A CAS whose expected version is the register's version at its
    /// linearization point (`hit`) or one past it.
    Cas {
        hit: bool,
    },
    Read,
}

/// What becomes of one generated operation.
#[derive(Clone, Copy, Debug)]
pub enum Fate {
    /// Completes with whatever the register says.
    Completes,
    /// The service rejects it without effect (a CAS is given a wrong
    /// expected version so that its `Fail` is consistent).
    Rejected,
    /// Never answers, but takes effect, possibly long after the client gave up.
    InfoApplied,
    /// Never answers and never takes effect.
    InfoLost,
}

#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub process: u32,
    pub key: usize,
    pub kind: Kind,
    /// Idle time of the process before it invokes this operation.
    pub gap: u64,
    pub duration: u64,
    /// Where in its window the operation takes effect, in per mille.
    pub point: u64,
    pub fate: Fate,
}

pub fn key_name(key: usize) -> String {
    format!("/r{key}")
}

/// Runs the specs against registers that start at value 0 version 0: each
/// process runs its operations one after another, each operation takes
/// effect at one point inside its interval (or, if `InfoApplied`, anywhere
/// after its invocation), and results are what the register held at that
/// point. The history is therefore linearizable by construction.
pub fn simulate(specs: &[Spec]) -> Vec<Operation> {
    let mut clocks: HashMap<u32, u64> = HashMap::new();
    let mut history = Vec::with_capacity(specs.len());
    let mut points = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let clock = clocks.entry(spec.process).or_default();
        let invoked = *clock + spec.gap;
        let completed = invoked + spec.duration;
        *clock = completed;
        let window = match spec.fate {
            Fate::Completes | Fate::Rejected => Some(spec.duration),
            Fate::InfoApplied => Some(4 * spec.duration + 10),
            Fate::InfoLost => None,
        };
        if let Some(window) = window {
            points.push((invoked + window * spec.point / 1000, index));
        }
        let info = matches!(spec.fate, Fate::InfoApplied | Fate::InfoLost);
        let value = index as i64 + 1;
        history.push(Operation {
            process: spec.process,
            key: key_name(spec.key),
            call: match spec.kind {
                Kind::Write => Call::Write { value },
                // Replaced at the linearization point, if there is one.
                Kind::Cas { .. } => Call::Cas {
                    expected_version: 0,
                    value,
                },
                Kind::Read => Call::Read,
            },
            invoked_ns: invoked,
            completed_ns: (!info).then_some(completed),
            result: Outcome::Info,
        });
    }
    // Ties may go either way: both intervals contain the shared point.
    points.sort_unstable();
    let mut registers: HashMap<usize, RegisterState> = HashMap::new();
    for (_, index) in points {
        let spec = &specs[index];
        let op = &mut history[index];
        let state = registers.entry(spec.key).or_default();
        let definite = matches!(spec.fate, Fate::Completes | Fate::Rejected);
        let rejected = matches!(spec.fate, Fate::Rejected);
        match (spec.kind, op.call) {
            (Kind::Write, Call::Write { value }) => {
                if !rejected {
                    *state = RegisterState::new(value, state.version + 1);
                }
                if definite {
                    op.result = written_or_fail(!rejected, state.version);
                }
            }
            (Kind::Cas { hit }, Call::Cas { value, .. }) => {
                let expected = if hit && !rejected {
                    state.version
                } else {
                    state.version + 1
                };
                op.call = Call::Cas {
                    expected_version: expected,
                    value,
                };
                let applies = expected == state.version;
                if applies {
                    *state = RegisterState::new(value, state.version + 1);
                }
                if definite {
                    op.result = written_or_fail(applies, state.version);
                }
            }
            (Kind::Read, _) if definite => {
                op.result = if rejected {
                    Outcome::Fail
                } else {
                    Outcome::Ok(Observed::Read {
                        value: Some(state.value),
                        version: state.version,
                    })
                };
            }
            _ => {}
        }
    }
    history
}

fn written_or_fail(applied: bool, version: i32) -> Outcome {
    if applied {
        Outcome::Ok(Observed::Written { version })
    } else {
        Outcome::Fail
    }
}

/// splitmix64: a deterministic generator for tests that need a long history
/// without proptest's machinery.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Whether some order of `ops` (one key, from value 0 version 0) respects
/// real time and explains every result, tried exhaustively and written from
/// the definition rather than from the crate's model, so that the two can be
/// compared.
pub fn brute_force_linearizable(ops: &[Operation]) -> bool {
    fn effect(state: (i64, i32), op: &Operation) -> Option<(i64, i32)> {
        let (value, version) = state;
        match (op.call, op.result) {
            (Call::Read, Outcome::Fail | Outcome::Info) | (Call::Write { .. }, Outcome::Fail) => {
                Some(state)
            }
            (
                Call::Read,
                Outcome::Ok(Observed::Read {
                    value: seen,
                    version: v,
                }),
            ) => (v == version && seen.is_none_or(|seen| seen == value)).then_some(state),
            (Call::Write { value: new }, Outcome::Info) => Some((new, version + 1)),
            (Call::Write { value: new }, Outcome::Ok(Observed::Written { version: v })) => {
                (v == version + 1).then_some((new, v))
            }
            (
                Call::Cas {
                    expected_version,
                    value: new,
                },
                Outcome::Info,
            ) => Some(if expected_version == version {
                (new, version + 1)
            } else {
                state
            }),
            (
                Call::Cas {
                    expected_version, ..
                },
                Outcome::Fail,
            ) => (expected_version != version).then_some(state),
            (
                Call::Cas {
                    expected_version,
                    value: new,
                },
                Outcome::Ok(Observed::Written { version: v }),
            ) => (expected_version == version && v == version + 1).then_some((new, v)),
            _ => None,
        }
    }
    fn required(op: &Operation) -> bool {
        op.result != Outcome::Info
    }
    fn search(ops: &[Operation], placed: &mut Vec<bool>, state: (i64, i32)) -> bool {
        let all_required = (0..ops.len()).all(|i| placed[i] || !required(&ops[i]));
        if all_required {
            return true;
        }
        for x in 0..ops.len() {
            let must_wait = (0..ops.len()).any(|y| {
                y != x
                    && !placed[y]
                    && required(&ops[y])
                    && ops[y].completed_ns.unwrap() < ops[x].invoked_ns
            });
            if placed[x] || must_wait {
                continue;
            }
            if let Some(next) = effect(state, &ops[x]) {
                placed[x] = true;
                let found = search(ops, placed, next);
                placed[x] = false;
                if found {
                    return true;
                }
            }
        }
        false
    }
    search(ops, &mut vec![false; ops.len()], (0, 0))
}
