//! The price of a write in the model, by `fk cost`'s own arithmetic and
//! price table: its modules (`crates/cli/src/cost`) are compiled in here,
//! so that the model's figures and the command's never disagree.

#[allow(dead_code)]
#[path = "../../../../../crates/cli/src/cost/prices.rs"]
pub mod prices;

#[allow(dead_code)]
#[path = "../../../../../crates/cli/src/cost/profile.rs"]
pub mod profile;

#[allow(dead_code)]
#[path = "../../../../../crates/cli/src/cost/model.rs"]
pub mod model;

use crate::model::tally::{Invocations, Role};
use crate::model::Point;
use profile::{Calls, Function, StoreProfile, Write};

/// A write of `point` as `fk cost` takes it: the calls of each part per
/// write, each function's time per invocation and messages per invocation
/// (the event source mappings' polls are priced per invocation there).
pub fn profile(point: &Point) -> StoreProfile {
    let writes = point.writes.max(1) as f64;
    let calls = |role: Role| -> Calls {
        point
            .counts
            .of(role)
            .into_iter()
            .map(|(name, n)| (name.to_string(), n as f64 / writes))
            .collect()
    };
    let function = |role: Role, invocations: &Invocations| Function {
        calls: calls(role),
        duration_ms: invocations.mean_ms(),
        messages_per_invocation: invocations.batch(),
    };
    let transactions = point.counts.transactions();
    StoreProfile {
        read: Calls::new(),
        write: Write {
            client: calls(Role::Client),
            writer: function(Role::Writer, &point.counts.writer),
            distributor: function(Role::Distributor, &point.counts.distributor),
            transaction_items: if transactions == 0 {
                0.0
            } else {
                point.counts.transaction_items as f64 / transactions as f64
            },
        },
    }
}

/// Dollars per million writes of `point` at the committed us-east-1 prices.
pub fn per_million_writes(point: &Point) -> f64 {
    let bill = model::per_write(&profile(point), &prices::Prices::us_east_1())
        .expect("every call of the model has a price");
    bill.total() * 1e6
}
