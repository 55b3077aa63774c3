//! Per-session guarantees: monotonic reads and read-your-writes.

mod common;

use common::*;
use fk_jepsen::{check_sessions, Anomaly};

#[test]
fn given_a_process_whose_reads_only_move_forward_then_there_is_no_anomaly() {
    let history = [
        write(1, 10, (0, 10), 1),
        read(2, (20, 30), 10, 1),
        read(2, (40, 50), 10, 1),
        write(1, 20, (60, 70), 2),
        read(2, (80, 90), 20, 2),
    ];
    assert_eq!(check_sessions(&history), []);
}

#[test]
fn given_a_later_read_of_a_lower_version_by_the_same_process_then_it_is_non_monotonic() {
    let history = [read(2, (0, 10), 30, 3), read(2, (20, 30), 20, 2)];
    let anomalies = check_sessions(&history);
    assert_eq!(anomalies.len(), 1, "{anomalies:?}");
    let Anomaly::NonMonotonicRead {
        process,
        earlier,
        later,
        ..
    } = &anomalies[0]
    else {
        panic!("{anomalies:?}")
    };
    assert_eq!(*process, 2);
    assert_eq!((earlier.index, earlier.version), (0, 3));
    assert_eq!((later.index, later.version), (1, 2));
    let shown = anomalies[0].to_string();
    assert!(
        shown.starts_with("non-monotonic read: process 2"),
        "{shown}"
    );
}

#[test]
fn given_overlapping_reads_of_one_process_then_a_lower_version_is_not_an_anomaly() {
    // A pipelining session: the second read was sent before the first replied.
    let history = [read(2, (0, 10), 30, 3), read(2, (10, 30), 20, 2)];
    assert_eq!(check_sessions(&history), []);
}

#[test]
fn given_reads_by_different_processes_then_the_session_check_does_not_compare_them() {
    let history = [read(2, (0, 10), 30, 3), read(3, (20, 30), 20, 2)];
    assert_eq!(check_sessions(&history), []);
}

#[test]
fn given_reads_of_different_keys_then_their_versions_are_not_compared() {
    let history = [
        on("/a", read(2, (0, 10), 30, 3)),
        on("/b", read(2, (20, 30), 20, 2)),
    ];
    assert_eq!(check_sessions(&history), []);
}

#[test]
fn given_a_read_after_the_processs_own_write_when_it_misses_the_write_then_it_is_reported() {
    let history = [
        write(1, 10, (0, 10), 1),
        cas(1, 1, 11, (20, 30), 2),
        read(1, (40, 50), 10, 1),
    ];
    let anomalies = check_sessions(&history);
    let [Anomaly::MissedOwnWrite { write, read, .. }] = anomalies.as_slice() else {
        panic!("{anomalies:?}")
    };
    assert_eq!((write.index, write.version), (1, 2));
    assert_eq!((read.index, read.version), (2, 1));
    assert!(anomalies[0].to_string().starts_with("missed own write"));
}

#[test]
fn given_a_read_after_another_processs_write_then_missing_it_is_not_a_session_anomaly() {
    let history = [write(1, 10, (0, 10), 1), read(2, (40, 50), 0, 0)];
    assert_eq!(check_sessions(&history), []);
}

#[test]
fn given_indeterminate_and_failed_writes_then_they_set_no_expectation() {
    let history = [
        write_info(1, 10, 0),
        cas_fail(1, 5, 11, (20, 30)),
        read(1, (40, 50), 0, 0),
    ];
    assert_eq!(check_sessions(&history), []);
}

#[test]
fn given_both_guarantees_broken_by_one_read_then_both_are_reported_in_history_order() {
    let history = [
        read(1, (0, 10), 20, 2),
        write(1, 30, (20, 30), 3),
        read(1, (40, 50), 10, 1),
        read(1, (60, 70), 30, 3),
    ];
    let anomalies = check_sessions(&history);
    assert_eq!(anomalies.len(), 2, "{anomalies:?}");
    assert!(anomalies.iter().all(|a| a.index() == 2));
    let json = serde_json::to_string(&anomalies).unwrap();
    let back: Vec<Anomaly> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, anomalies);
}
