//! Hand-written histories that a correct service can produce: each must be
//! reported linearizable.

mod common;

use common::*;
use fk_jepsen::{check, check_with, Config, Operation, RegisterState, Verdict};

fn assert_linearizable(history: &[Operation]) {
    let report = check_fresh(history);
    assert!(report.is_linearizable(), "{report}");
    assert_eq!(report.verdict(), &Verdict::Linearizable);
}

#[test]
fn given_no_operations_then_the_history_is_linearizable() {
    let report = check_fresh(&[]);
    assert!(report.is_linearizable());
    assert_eq!((report.ops, report.keys.len()), (0, 0));
}

#[test]
fn given_a_sequential_history_then_it_is_linearizable() {
    assert_linearizable(&[
        write(1, 10, (0, 10), 1),
        read(2, (20, 30), 10, 1),
        cas(1, 1, 11, (40, 50), 2),
        read(1, (60, 70), 11, 2),
        write(2, 12, (80, 90), 3),
        read(3, (100, 110), 12, 3),
    ]);
}

#[test]
fn given_overlapping_writes_then_either_order_is_accepted() {
    let first_wins = [
        write(1, 10, (0, 20), 1),
        write(2, 20, (5, 25), 2),
        read(3, (30, 40), 20, 2),
    ];
    let second_wins = [
        write(1, 10, (0, 20), 2),
        write(2, 20, (5, 25), 1),
        read(3, (30, 40), 10, 2),
    ];
    assert_linearizable(&first_wins);
    assert_linearizable(&second_wins);
}

#[test]
fn given_a_cas_from_the_current_version_then_it_succeeds_and_a_stale_one_fails() {
    assert_linearizable(&[
        write(1, 10, (0, 10), 1),
        cas(2, 1, 11, (20, 30), 2),
        cas_fail(3, 1, 12, (40, 50)),
        read(1, (60, 70), 11, 2),
    ]);
}

#[test]
fn given_two_concurrent_cas_from_one_version_then_one_succeeding_and_one_failing_is_fine() {
    assert_linearizable(&[
        cas(1, 0, 10, (0, 20), 1),
        cas_fail(2, 0, 20, (5, 25)),
        read(3, (30, 40), 10, 1),
    ]);
}

#[test]
fn given_a_failed_cas_concurrent_with_the_write_that_made_it_fail_then_it_is_fine() {
    // The CAS expects version 0 and fails: only legal after the write.
    assert_linearizable(&[write(1, 10, (0, 20), 1), cas_fail(2, 0, 20, (5, 25))]);
}

#[test]
fn given_reads_during_two_concurrent_writes_then_each_possible_value_is_accepted() {
    let writes = [write(1, 10, (0, 50), 1), write(2, 20, (0, 50), 2)];
    for (value, version) in [(0, 0), (10, 1), (20, 2)] {
        let mut history = writes.to_vec();
        history.push(read(3, (10, 40), value, version));
        history.push(read(3, (60, 70), 20, 2));
        assert_linearizable(&history);
    }
}

#[test]
fn given_a_read_concurrent_with_a_write_then_it_may_see_the_old_or_the_new_value() {
    for (value, version) in [(0, 0), (10, 1)] {
        assert_linearizable(&[write(1, 10, (10, 30), 1), read(2, (0, 20), value, version)]);
    }
}

#[test]
fn given_a_read_invoked_at_the_instant_a_write_completed_then_it_may_see_the_old_value() {
    assert_linearizable(&[write(1, 10, (0, 10), 1), read(2, (10, 20), 0, 0)]);
}

#[test]
fn given_an_indeterminate_write_that_took_effect_then_reads_may_see_it() {
    assert_linearizable(&[
        write_info(1, 10, 0),
        read(2, (20, 30), 10, 1),
        write(3, 11, (40, 50), 2),
    ]);
}

#[test]
fn given_an_indeterminate_write_that_never_took_effect_then_reads_may_miss_it() {
    assert_linearizable(&[
        write_info(1, 10, 0),
        read(2, (20, 30), 0, 0),
        write(3, 11, (40, 50), 1),
        read(2, (60, 70), 11, 1),
    ]);
}

#[test]
fn given_an_indeterminate_write_then_it_may_take_effect_long_after_the_client_gave_up() {
    assert_linearizable(&[
        write_info(1, 10, 0),
        read(2, (20, 30), 0, 0),
        write(3, 11, (40, 50), 1),
        read(2, (1_000, 1_010), 10, 2),
    ]);
}

#[test]
fn given_indeterminate_cas_operations_then_only_the_one_that_could_apply_explains_the_read() {
    assert_linearizable(&[
        cas_info(1, 0, 10, 0),
        cas_info(2, 5, 20, 0),
        read(3, (20, 30), 10, 1),
    ]);
}

#[test]
fn given_a_failed_write_then_it_is_treated_as_never_having_happened() {
    assert_linearizable(&[write_fail(1, 10, (0, 10)), read(2, (20, 30), 0, 0)]);
}

#[test]
fn given_keys_with_their_own_initial_states_then_each_key_is_checked_on_its_own() {
    let history = [
        on("/a", write(1, 10, (0, 10), 1)),
        on("/b", write(2, 20, (0, 10), 8)),
        on("/a", read(2, (20, 30), 10, 1)),
        on("/b", read(1, (20, 30), 20, 8)),
    ];
    let initial = |key: &str| match key {
        "/b" => RegisterState::new(7, 7),
        _ => RegisterState::default(),
    };
    let report = check(&history, initial);
    assert!(report.is_linearizable(), "{report}");
    let keys: Vec<_> = report
        .keys
        .iter()
        .map(|k| (k.key.as_str(), k.ops))
        .collect();
    assert_eq!(keys, [("/a", 2), ("/b", 2)]);
}

#[test]
fn given_indeterminate_operations_then_the_report_counts_them_per_key() {
    let history = [
        on("/a", write_info(1, 10, 0)),
        on("/a", read(2, (20, 30), 10, 1)),
        on("/b", cas_info(3, 0, 5, 0)),
        on("/b", write(4, 6, (0, 10), 1)),
        on("/b", write_fail(5, 7, (0, 10))),
    ];
    let report = check_fresh(&history);
    assert!(report.is_linearizable(), "{report}");
    assert_eq!((report.ops, report.indeterminate), (5, 2));
    let counts: Vec<_> = report
        .keys
        .iter()
        .map(|k| (k.key.as_str(), k.ops, k.indeterminate))
        .collect();
    assert_eq!(counts, [("/a", 2, 1), ("/b", 3, 1)]);
}

#[test]
fn given_a_good_history_when_the_step_budget_is_too_small_then_the_verdict_is_unknown() {
    let history = [
        write(1, 10, (0, 10), 1),
        read(2, (0, 10), 10, 1),
        read(3, (20, 30), 10, 1),
    ];
    let config = Config {
        max_steps: 2,
        ..Config::default()
    };
    let report = check_with(&history, |_| RegisterState::default(), &config);
    match report.verdict() {
        Verdict::Unknown { key, reason } => {
            assert_eq!(key, K);
            assert!(reason.contains("after 2 search steps"), "{reason}");
        }
        other => panic!("expected unknown, got {other}"),
    }
    assert!(!report.is_linearizable());
    assert_linearizable(&history);
}

#[test]
fn given_a_good_history_when_the_cache_may_not_grow_then_the_verdict_is_unknown() {
    let history = [write(1, 10, (0, 10), 1), read(2, (20, 30), 10, 1)];
    let config = Config {
        max_cache_bytes: 0,
        ..Config::default()
    };
    let report = check_with(&history, |_| RegisterState::default(), &config);
    assert!(
        matches!(report.verdict(), Verdict::Unknown { reason, .. } if reason.contains("cache")),
        "{report}"
    );
}
