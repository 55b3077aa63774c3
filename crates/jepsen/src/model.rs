//! The sequential specification of one ZooKeeper node used as a versioned
//! register.
//!
//! Choices the search relies on:
//!
//! - A `Fail` write is treated as never having happened: with version -1 a
//!   `setData` fails only for reasons that leave the node untouched.
//! - A `Fail` CAS is a read-only step that requires the version to differ from
//!   the expected one, so a failed CAS still tells us something: at some point
//!   between its invocation and completion the version was not the expected one.
//! - A `Fail` or `Info` read says nothing and is dropped before the search.
//! - An `Info` CAS whose expected version does not match would have failed,
//!   which is the same as not happening; since `Info` operations may be left
//!   out of a linearization anyway, [`RegisterState::apply`] refuses it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::history::{Call, Observed, Outcome};

/// A node's data, read as a number, and its `dataVersion`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegisterState {
    pub value: i64,
    pub version: i32,
}

impl RegisterState {
    pub const fn new(value: i64, version: i32) -> Self {
        RegisterState { value, version }
    }

    /// The state after `call` takes effect now and reports `outcome`, or
    /// `None` if that outcome is impossible from this state (for an `Info`
    /// operation: if taking effect now would be indistinguishable from not
    /// happening at all).
    pub fn apply(self, call: &Call, outcome: &Outcome) -> Option<Self> {
        match (*call, *outcome) {
            (Call::Write { value }, Outcome::Ok(Observed::Written { version })) => {
                self.written(value).filter(|next| next.version == version)
            }
            (Call::Write { value }, Outcome::Info) => self.written(value),
            (
                Call::Cas {
                    expected_version,
                    value,
                },
                Outcome::Ok(Observed::Written { version }),
            ) if self.version == expected_version => {
                self.written(value).filter(|next| next.version == version)
            }
            (
                Call::Cas {
                    expected_version,
                    value,
                },
                Outcome::Info,
            ) if self.version == expected_version => self.written(value),
            (
                Call::Cas {
                    expected_version, ..
                },
                Outcome::Fail,
            ) => (self.version != expected_version).then_some(self),
            (Call::Read, Outcome::Ok(Observed::Read { value, version })) => {
                let same_value = value.is_none_or(|value| value == self.value);
                (version == self.version && same_value).then_some(self)
            }
            (Call::Write { .. }, Outcome::Fail) | (Call::Read, Outcome::Fail | Outcome::Info) => {
                Some(self)
            }
            // A CAS against another version, or an observation of the wrong
            // shape for its call.
            _ => None,
        }
    }

    fn written(self, value: i64) -> Option<Self> {
        Some(RegisterState {
            value,
            version: self.version.checked_add(1)?,
        })
    }
}

/// Whether the operation can rule anything out; those that cannot are left out
/// of the search, since they only make it wider.
pub(crate) fn constrains(call: &Call, outcome: &Outcome) -> bool {
    !matches!(
        (call, outcome),
        (Call::Write { .. }, Outcome::Fail) | (Call::Read, Outcome::Fail | Outcome::Info)
    )
}

/// The version the register must hold right before this operation takes
/// effect, if the outcome pins it. Versions never go down, so once the
/// register is past this version the operation can no longer be placed. The
/// search uses that to refuse an `Info` operation that would push the
/// register past a pending operation's bound: otherwise every write that
/// never took effect stays a candidate for the rest of the history, and the
/// search tries it, and every subset of its peers, at every step.
pub(crate) fn version_bound(call: &Call, outcome: &Outcome) -> Option<i32> {
    match (call, outcome) {
        (Call::Write { .. } | Call::Cas { .. }, Outcome::Ok(Observed::Written { version })) => {
            Some(version.saturating_sub(1))
        }
        (Call::Read, Outcome::Ok(Observed::Read { version, .. })) => Some(*version),
        _ => None,
    }
}

impl fmt::Display for RegisterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "value {} version {}", self.value, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT_3: RegisterState = RegisterState::new(30, 3);

    fn written(version: i32) -> Outcome {
        Outcome::Ok(Observed::Written { version })
    }

    fn read(value: Option<i64>, version: i32) -> Outcome {
        Outcome::Ok(Observed::Read { value, version })
    }

    fn cas(expected_version: i32) -> Call {
        Call::Cas {
            expected_version,
            value: 40,
        }
    }

    #[test]
    fn given_a_write_when_it_reports_the_next_version_then_value_and_version_move() {
        let write = Call::Write { value: 40 };
        assert_eq!(
            AT_3.apply(&write, &written(4)),
            Some(RegisterState::new(40, 4))
        );
        assert_eq!(AT_3.apply(&write, &written(5)), None);
        assert_eq!(AT_3.apply(&write, &written(3)), None);
    }

    #[test]
    fn given_an_indeterminate_write_then_taking_effect_bumps_the_version() {
        let write = Call::Write { value: 40 };
        assert_eq!(
            AT_3.apply(&write, &Outcome::Info),
            Some(RegisterState::new(40, 4))
        );
    }

    #[test]
    fn given_a_failed_write_then_it_changes_nothing() {
        let write = Call::Write { value: 40 };
        assert_eq!(AT_3.apply(&write, &Outcome::Fail), Some(AT_3));
        assert!(!constrains(&write, &Outcome::Fail));
    }

    #[test]
    fn given_a_cas_then_it_succeeds_only_from_the_expected_version() {
        assert_eq!(
            AT_3.apply(&cas(3), &written(4)),
            Some(RegisterState::new(40, 4))
        );
        assert_eq!(AT_3.apply(&cas(2), &written(3)), None);
        assert_eq!(AT_3.apply(&cas(2), &written(4)), None);
        assert_eq!(AT_3.apply(&cas(3), &written(5)), None);
    }

    #[test]
    fn given_a_failed_cas_then_it_requires_another_version_and_changes_nothing() {
        assert_eq!(AT_3.apply(&cas(2), &Outcome::Fail), Some(AT_3));
        assert_eq!(AT_3.apply(&cas(3), &Outcome::Fail), None);
        assert!(constrains(&cas(3), &Outcome::Fail));
    }

    #[test]
    fn given_an_indeterminate_cas_then_it_only_takes_effect_from_the_expected_version() {
        assert_eq!(
            AT_3.apply(&cas(3), &Outcome::Info),
            Some(RegisterState::new(40, 4))
        );
        assert_eq!(AT_3.apply(&cas(2), &Outcome::Info), None);
    }

    #[test]
    fn given_a_read_then_it_must_match_the_version_and_any_value_it_saw() {
        assert_eq!(AT_3.apply(&Call::Read, &read(Some(30), 3)), Some(AT_3));
        assert_eq!(AT_3.apply(&Call::Read, &read(None, 3)), Some(AT_3));
        assert_eq!(AT_3.apply(&Call::Read, &read(Some(31), 3)), None);
        assert_eq!(AT_3.apply(&Call::Read, &read(Some(30), 2)), None);
        assert!(!constrains(&Call::Read, &Outcome::Info));
    }

    #[test]
    fn given_an_observation_of_the_wrong_shape_then_nothing_can_explain_it() {
        assert_eq!(AT_3.apply(&Call::Read, &written(3)), None);
        assert_eq!(
            AT_3.apply(&Call::Write { value: 1 }, &read(Some(1), 4)),
            None
        );
    }

    #[test]
    fn given_the_largest_version_then_a_write_cannot_overflow_it() {
        let last = RegisterState::new(0, i32::MAX);
        assert_eq!(last.apply(&Call::Write { value: 1 }, &Outcome::Info), None);
    }

    #[test]
    fn given_definite_observations_then_the_bound_is_the_version_before_them() {
        assert_eq!(
            version_bound(&Call::Write { value: 1 }, &written(4)),
            Some(3)
        );
        assert_eq!(version_bound(&cas(3), &written(4)), Some(3));
        assert_eq!(version_bound(&Call::Read, &read(None, 4)), Some(4));
        assert_eq!(version_bound(&cas(3), &Outcome::Fail), None);
        assert_eq!(
            version_bound(&Call::Write { value: 1 }, &Outcome::Info),
            None
        );
    }
}
