//! Hand-written histories with a known anomaly: each must be reported not
//! linearizable, with a witness that points at the culprit.

mod common;

use common::*;
use fk_jepsen::{check_with, Config, Operation, RegisterState, Verdict, Witness};

fn witness(history: &[Operation]) -> Witness {
    let report = check_fresh(history);
    match report.verdict() {
        Verdict::NotLinearizable { key, witness } => {
            assert_eq!(key, K);
            let shown = witness.to_string();
            assert!(shown.contains("could not"), "{shown}");
            (**witness).clone()
        }
        other => panic!("expected not linearizable, got {other}\n{report}"),
    }
}

/// History positions of the witness's blocked op and its candidates.
fn stuck(witness: &Witness) -> Vec<usize> {
    let mut stuck = vec![witness.blocked.index];
    stuck.extend(witness.candidates.iter().map(|c| c.index));
    stuck.sort_unstable();
    stuck
}

#[test]
fn given_a_read_after_a_completed_write_when_it_returns_the_old_version_then_it_is_stale() {
    let w = witness(&[write(1, 10, (0, 10), 1), read(2, (11, 20), 0, 0)]);
    assert_eq!(w.blocked.index, 1);
    assert_eq!(w.linearized.len(), 1);
    assert_eq!((w.state.value, w.state.version), (10, 1));
}

#[test]
fn given_two_cas_from_the_same_version_when_both_succeed_then_an_update_was_lost() {
    let w = witness(&[cas(1, 0, 10, (0, 20), 1), cas(2, 0, 20, (5, 25), 1)]);
    assert_eq!(w.linearized.len(), 1);
    assert_eq!(stuck(&w), [1 - w.linearized[0].index]);
}

#[test]
fn given_two_cas_from_the_same_version_when_both_report_distinct_versions_then_still_lost() {
    witness(&[cas(1, 0, 10, (0, 20), 1), cas(2, 0, 20, (5, 25), 2)]);
}

#[test]
fn given_one_write_when_a_later_read_shows_its_value_two_versions_on_then_it_applied_twice() {
    let w = witness(&[write(1, 10, (0, 10), 1), read(2, (20, 30), 10, 2)]);
    assert_eq!(w.blocked.index, 1);
}

#[test]
fn given_a_read_of_v3_when_a_later_read_by_another_process_sees_v2_then_reads_went_backwards() {
    let w = witness(&[
        write(1, 10, (0, 10), 1),
        write(1, 20, (20, 30), 2),
        write(1, 30, (40, 100), 3),
        read(2, (50, 60), 30, 3),
        read(3, (70, 80), 20, 2),
    ]);
    assert!(stuck(&w).contains(&4), "{w}");
}

#[test]
fn given_a_cas_reported_failed_when_its_value_is_read_later_then_it_was_applied() {
    let w = witness(&[cas_fail(1, 0, 7, (0, 10)), read(2, (20, 30), 7, 1)]);
    assert_eq!(
        w.blocked.index, 0,
        "the failed CAS cannot fail from version 0"
    );
}

#[test]
fn given_writes_in_real_time_order_when_their_versions_are_reversed_then_the_order_is_wrong() {
    witness(&[write(1, 10, (0, 10), 2), write(2, 20, (20, 30), 1)]);
}

#[test]
fn given_a_write_reporting_a_version_that_skips_one_then_nothing_explains_it() {
    witness(&[write(1, 10, (0, 10), 2)]);
}

#[test]
fn given_a_read_whose_value_does_not_belong_to_its_version_then_it_is_rejected() {
    witness(&[
        write(1, 10, (0, 10), 1),
        write(1, 20, (20, 30), 2),
        read(2, (40, 50), 10, 2),
    ]);
}

#[test]
fn given_an_indeterminate_write_when_two_reads_need_it_applied_twice_then_it_does_not_help() {
    witness(&[
        write_info(1, 10, 0),
        read(2, (20, 30), 10, 1),
        read(2, (40, 50), 10, 2),
    ]);
}

#[test]
fn given_an_indeterminate_write_when_seen_before_its_invocation_then_it_does_not_help() {
    witness(&[read(2, (0, 10), 10, 1), write_info(1, 10, 20)]);
}

#[test]
fn given_one_bad_key_among_good_ones_then_only_that_key_is_reported() {
    let history = [
        on("/good", write(1, 10, (0, 10), 1)),
        on(K, write(1, 10, (0, 10), 1)),
        on(K, read(2, (20, 30), 0, 0)),
        on("/good", read(2, (20, 30), 10, 1)),
    ];
    let report = check_fresh(&history);
    assert!(!report.is_linearizable());
    let verdicts: Vec<_> = report
        .keys
        .iter()
        .map(|k| (k.key.as_str(), k.verdict.is_linearizable()))
        .collect();
    assert_eq!(verdicts, [("/good", true), (K, false)]);
    assert!(report.to_string().contains("NOT linearizable"), "{report}");
}

#[test]
fn given_a_malformed_operation_then_its_key_is_unknown_and_names_the_op() {
    let mut backwards = read(2, (20, 30), 0, 0);
    backwards.completed_ns = Some(5);
    let report = check_fresh(&[write(1, 10, (0, 10), 1), backwards]);
    match report.verdict() {
        Verdict::Unknown { key, reason } => {
            assert_eq!(key, K);
            assert!(reason.contains("op #1"), "{reason}");
        }
        other => panic!("expected unknown, got {other}"),
    }
}

#[test]
fn given_a_witness_then_it_serializes_for_the_test_report() {
    let report = check_fresh(&[write(1, 10, (0, 10), 1), read(2, (11, 20), 0, 0)]);
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains(r#""verdict":"not_linearizable""#), "{json}");
    let back: fk_jepsen::Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn given_many_concurrent_reads_before_an_impossible_one_then_the_budget_ends_the_search() {
    // Every subset of the 30 interchangeable reads is a distinct cache entry,
    // so the search would try 2^30 of them before giving up on its own.
    let mut history: Vec<_> = (0..30).map(|p| read(p, (0, 100), 0, 0)).collect();
    history.push(read(99, (200, 210), 0, 5));
    let config = Config {
        max_steps: 20_000,
        ..Config::default()
    };
    let report = check_with(&history, |_| RegisterState::default(), &config);
    assert!(
        matches!(report.verdict(), Verdict::Unknown { reason, .. } if reason.contains("20000 search steps")),
        "{report}"
    );
    assert_eq!(report.keys[0].steps, 20_000);
}
