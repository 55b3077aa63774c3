//! Generated histories: linearizable by construction, corrupted on purpose,
//! compared against a brute-force checker, and long ones for speed.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fk_jepsen::{check_sessions, Call, Observed, Operation, Outcome, Verdict};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => Just(Kind::Write),
        2 => any::<bool>().prop_map(|hit| Kind::Cas { hit }),
        4 => Just(Kind::Read),
    ]
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        16 => Just(Fate::Completes),
        1 => Just(Fate::Rejected),
        2 => Just(Fate::InfoApplied),
        2 => Just(Fate::InfoLost),
    ]
}

fn specs(
    ops: std::ops::RangeInclusive<usize>,
    processes: std::ops::RangeInclusive<u32>,
    keys: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<Spec>> {
    (processes, keys).prop_flat_map(move |(processes, keys)| {
        let spec = (
            0..processes,
            0..keys,
            kind(),
            0u64..6,
            0u64..20,
            0u64..=1000,
            fate(),
        )
            .prop_map(|(process, key, kind, gap, duration, point, fate)| Spec {
                process,
                key,
                kind,
                gap,
                duration,
                point,
                fate,
            });
        proptest::collection::vec(spec, ops.clone())
    })
}

fn ok_reads(history: &[Operation]) -> Vec<usize> {
    (0..history.len())
        .filter(|&i| matches!(history[i].result, Outcome::Ok(Observed::Read { .. })))
        .collect()
}

/// A version the key never held, nor could have held even if every
/// indeterminate write took effect: versions start at 0 and each write or
/// CAS adds at most one.
fn unheld_version(history: &[Operation], key: &str, beyond: i32) -> i32 {
    let writes = history
        .iter()
        .filter(|op| op.key == key && !matches!(op.call, Call::Read))
        .count();
    i32::try_from(writes).unwrap() + beyond
}

fn set_read_version(op: &mut Operation, version: i32) {
    if let Outcome::Ok(Observed::Read { value, .. }) = op.result {
        op.result = Outcome::Ok(Observed::Read { value, version });
    }
}

/// Small, plausible changes: most keep the history close to linearizable,
/// so both verdicts come up often.
fn perturb(op: &mut Operation, how: u8) {
    match (how, op.result) {
        (0 | 1, Outcome::Ok(Observed::Written { version })) => {
            let version = if how == 0 { version + 1 } else { version - 1 };
            op.result = Outcome::Ok(Observed::Written { version });
        }
        (0 | 1, Outcome::Ok(Observed::Read { value, version })) => {
            let version = if how == 0 { version + 1 } else { version - 1 };
            op.result = Outcome::Ok(Observed::Read { value, version });
        }
        (2, Outcome::Ok(_)) => op.result = Outcome::Fail,
        (3, _) => {
            op.result = Outcome::Info;
            op.completed_ns = None;
        }
        (4, _) => {
            op.invoked_ns += 25;
            op.completed_ns = op.completed_ns.map(|done| done + 25);
        }
        (_, Outcome::Ok(Observed::Read { value, version })) => {
            let value = value.map(|v| v + 1);
            op.result = Outcome::Ok(Observed::Read { value, version });
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // Next to this file: the default looks for a lib.rs to sit beside.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn given_a_simulated_register_history_then_it_is_linearizable_until_a_read_sees_an_unheld_version(
        specs in specs(5..=40, 2..=6, 1..=3),
        pick in any::<Index>(),
        beyond in 1i32..5,
    ) {
        let mut history = simulate(&specs);
        let report = check_fresh(&history);
        prop_assert!(report.is_linearizable(), "{}", report);
        prop_assert_eq!(check_sessions(&history), vec![]);

        let reads = ok_reads(&history);
        if !reads.is_empty() {
            let target = reads[pick.index(reads.len())];
            let version = unheld_version(&history, &history[target].key, beyond);
            set_read_version(&mut history[target], version);
            let report = check_fresh(&history);
            let verdict = report.verdict();
            prop_assert!(verdict.is_not_linearizable(), "{}", report);
            if let Verdict::NotLinearizable { key, .. } = verdict {
                prop_assert_eq!(key, &history[target].key);
            }
        }
    }

    #[test]
    fn given_small_perturbed_histories_then_the_search_agrees_with_brute_force(
        specs in specs(1..=8, 2..=4, 1..=1),
        changes in proptest::collection::vec((any::<Index>(), 0u8..6), 0..=2),
    ) {
        let mut history = simulate(&specs);
        for (pick, how) in changes {
            let at = pick.index(history.len());
            perturb(&mut history[at], how);
        }
        let report = check_fresh(&history);
        prop_assert!(!matches!(report.verdict(), Verdict::Unknown { .. }), "{}", report);
        prop_assert_eq!(
            report.is_linearizable(),
            brute_force_linearizable(&history),
            "{}\n{:#?}", report, history
        );
    }
}

/// Mostly sequential traffic from six processes, some of it concurrent, with
/// a few rejected and indeterminate operations.
fn long_history(seed: u64, ops: usize, lost_percent: u64) -> Vec<Operation> {
    let mut rng = SplitMix::new(seed);
    let specs: Vec<Spec> = (0..ops)
        .map(|_| Spec {
            process: rng.below(6) as u32,
            key: rng.below(3) as usize,
            kind: match rng.below(10) {
                0..=2 => Kind::Write,
                3 | 4 => Kind::Cas {
                    hit: rng.below(4) != 0,
                },
                _ => Kind::Read,
            },
            gap: rng.below(30),
            duration: 1 + rng.below(10),
            point: rng.below(1001),
            fate: match rng.below(100) {
                r if r < lost_percent => Fate::InfoLost,
                r if r < lost_percent + 2 => Fate::InfoApplied,
                r if r < lost_percent + 4 => Fate::Rejected,
                _ => Fate::Completes,
            },
        })
        .collect();
    simulate(&specs)
}

fn timed_check(history: &[Operation]) -> (fk_jepsen::Report, Duration) {
    let started = Instant::now();
    let report = check_fresh(history);
    (report, started.elapsed())
}

#[test]
fn given_two_thousand_ops_over_three_keys_then_the_check_takes_well_under_a_second() {
    let history = long_history(0x5eed, 2_000, 2);
    let (report, elapsed) = timed_check(&history);
    eprintln!("2000 ops checked in {elapsed:?}\n{report}");
    assert!(report.is_linearizable(), "{report}");
    assert!(report.indeterminate > 0, "the history should hold Info ops");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[test]
fn given_two_thousand_ops_with_one_corrupted_read_then_the_witness_comes_quickly() {
    let mut history = long_history(0xbad, 2_000, 2);
    let reads = ok_reads(&history);
    let target = reads[reads.len() / 2];
    let version = unheld_version(&history, &history[target].key, 1);
    set_read_version(&mut history[target], version);
    let (report, elapsed) = timed_check(&history);
    eprintln!("corrupted 2000 ops checked in {elapsed:?}");
    let Verdict::NotLinearizable { witness, .. } = report.verdict() else {
        panic!("{report}")
    };
    assert!(witness.linearized.len() > 100, "{witness}");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[test]
fn given_many_writes_that_never_took_effect_then_the_search_stays_small() {
    // Each lost write stays a candidate for the rest of the history; without
    // pruning by version the search would try every subset of them.
    let history = long_history(0x1057, 600, 20);
    let (report, elapsed) = timed_check(&history);
    eprintln!(
        "600 ops, {} indeterminate, checked in {elapsed:?}",
        report.indeterminate
    );
    assert!(report.is_linearizable(), "{report}");
    assert!(report.indeterminate > 60, "{report}");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}
