//! The conformance scenarios. Each runs against Apache ZooKeeper 3.8 and
//! against the local stack; the test fails unless both transcripts are
//! equal (see `fk_conformance::scenario` for what a transcript shows).
//!
//! One test binary, so that one local stack and one ZooKeeper server serve
//! every scenario; the modules group them by subject.

mod basics;
mod more;
mod multi;
mod sequential;
mod sessions;
mod watches;

use fk_conformance::{Reply, Scenario};

fn main() {
    let mut all = basics::scenarios();
    all.extend(more::scenarios());
    all.extend(multi::scenarios());
    all.extend(sequential::scenarios());
    all.extend(sessions::scenarios());
    all.extend(watches::scenarios());
    fk_conformance::main(all)
}

/// Notes how many replies succeeded and which errors the rest got, in an
/// order that does not depend on who won.
pub fn note_outcomes(t: &mut Scenario, replies: &[Reply]) {
    let ok = replies.iter().filter(|r| r.is_ok()).count();
    let mut errors: Vec<String> = replies
        .iter()
        .filter_map(|r| r.err().map(|c| c.0.clone()))
        .collect();
    errors.sort();
    t.note(format!("{ok} succeeded; errors: {errors:?}"));
}
