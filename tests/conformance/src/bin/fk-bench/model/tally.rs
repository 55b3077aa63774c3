//! What a run of the model counts: every delayed call by who makes it, the
//! items of DynamoDB transactions, and the functions' invocations.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Who makes a call. The event source mappings' polls are Lambda's, not
/// the functions': the cost model prices them per invocation, apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Client,
    Writer,
    Distributor,
    /// The two event source mappings: one ReceiveMessage and one
    /// DeleteMessageBatch per invocation.
    Mapping,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Client, Role::Writer, Role::Distributor, Role::Mapping];

    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Writer => "writer",
            Role::Distributor => "distributor",
            Role::Mapping => "event source mappings",
        }
    }
}

/// A function's invocations: how many, the messages they handled and the
/// time they took.
#[derive(Debug, Clone, Copy, Default)]
pub struct Invocations {
    pub count: u64,
    pub messages: u64,
    pub busy: Duration,
}

impl Invocations {
    fn since(&self, earlier: &Invocations) -> Invocations {
        Invocations {
            count: self.count - earlier.count,
            messages: self.messages - earlier.messages,
            busy: self.busy.saturating_sub(earlier.busy),
        }
    }

    /// Messages per invocation (1 if there were none).
    pub fn batch(&self) -> f64 {
        if self.count == 0 {
            1.0
        } else {
            self.messages as f64 / self.count as f64
        }
    }

    /// Mean time per invocation, ms.
    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.busy.as_secs_f64() * 1e3 / self.count as f64
        }
    }
}

/// The counts of a run.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub calls: BTreeMap<(Role, &'static str), u64>,
    /// Items of the distributor's `TransactWriteItems` (system and user
    /// storage): DynamoDB bills two write units per item.
    pub transaction_items: u64,
    pub writer: Invocations,
    pub distributor: Invocations,
}

impl Counts {
    /// What was counted after `earlier`, a snapshot of the same run.
    pub fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            calls: self
                .calls
                .iter()
                .map(|(key, n)| (*key, n - earlier.calls.get(key).copied().unwrap_or(0)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            transaction_items: self.transaction_items - earlier.transaction_items,
            writer: self.writer.since(&earlier.writer),
            distributor: self.distributor.since(&earlier.distributor),
        }
    }

    /// `role`'s calls, by `Service.Operation`.
    pub fn of(&self, role: Role) -> BTreeMap<&'static str, u64> {
        self.calls
            .iter()
            .filter(|((r, _), _)| *r == role)
            .map(|((_, name), n)| (*name, *n))
            .collect()
    }

    pub fn total(&self, role: Role) -> u64 {
        self.of(role).values().sum()
    }

    pub fn all(&self) -> u64 {
        self.calls.values().sum()
    }

    /// Calls of the distributor queue's one message group's send quota.
    pub fn distributor_queue_sends(&self) -> u64 {
        let writer = self.of(Role::Writer);
        ["SQS.SendMessage", "SQS.SendMessageBatch"]
            .iter()
            .map(|name| writer.get(name).copied().unwrap_or(0))
            .sum()
    }

    /// The distributor's `TransactWriteItems` calls.
    pub fn transactions(&self) -> u64 {
        self.of(Role::Distributor)
            .get("DynamoDB.TransactWriteItems")
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub struct Tally(Mutex<Counts>);

impl Tally {
    pub fn call(&self, role: Role, name: &'static str) {
        *self
            .0
            .lock()
            .unwrap()
            .calls
            .entry((role, name))
            .or_default() += 1;
    }

    pub fn transaction_items(&self, items: usize) {
        self.0.lock().unwrap().transaction_items += items as u64;
    }

    /// An invocation of the writer or the distributor, and its mapping's
    /// poll (one ReceiveMessage, one DeleteMessageBatch).
    pub fn invocation(&self, function: Role, messages: usize, busy: Duration) {
        let mut counts = self.0.lock().unwrap();
        let of = match function {
            Role::Writer => &mut counts.writer,
            Role::Distributor => &mut counts.distributor,
            other => unreachable!("{other:?} is not a function"),
        };
        of.count += 1;
        of.messages += messages as u64;
        of.busy += busy;
        for name in ["SQS.ReceiveMessage", "SQS.DeleteMessageBatch"] {
            *counts.calls.entry((Role::Mapping, name)).or_default() += 1;
        }
    }

    pub fn snapshot(&self) -> Counts {
        self.0.lock().unwrap().clone()
    }
}
