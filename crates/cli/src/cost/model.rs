//! The arithmetic: a month of a workload, priced call by call.

use std::collections::BTreeMap;

use super::prices::Prices;
use super::profile::{Calls, Function, Profile, StoreProfile};

/// What runs against the deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    pub requests_per_day: f64,
    /// Reads among all requests, 0 to 1.
    pub read_ratio: f64,
}

/// A monthly bill, by service (`Lambda`, `SQS`, `DynamoDB`, `S3`, `Redis`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bill {
    pub by_service: BTreeMap<String, f64>,
}

impl Bill {
    pub fn total(&self) -> f64 {
        self.by_service.values().sum()
    }

    fn add(&mut self, service: &str, dollars: f64) {
        *self.by_service.entry(service.to_string()).or_default() += dollars;
    }

    fn add_scaled(&mut self, other: &Bill, times: f64) {
        for (service, dollars) in &other.by_service {
            self.add(service, dollars * times);
        }
    }
}

/// The month's bill of `workload` on the user store `store`.
pub fn monthly(
    workload: Workload,
    store: &str,
    profile: &Profile,
    prices: &Prices,
) -> Result<Bill, String> {
    if !(0.0..=1.0).contains(&workload.read_ratio) {
        return Err(format!(
            "read ratio {} is not between 0 and 1",
            workload.read_ratio
        ));
    }
    let store_profile = profile.store(store)?;
    let requests = workload.requests_per_day * prices.hours_per_month / 24.0;
    let reads = requests * workload.read_ratio;
    let writes = requests - reads;

    let mut bill = Bill::default();
    bill.add_scaled(&per_read(store_profile, prices)?, reads);
    bill.add_scaled(&per_write(store_profile, prices)?, writes);
    bill.add_scaled(
        &invocation(&profile.heartbeat, prices, 0.0)?,
        prices.heartbeats_per_month,
    );
    if store == "redis" {
        bill.add("Redis", prices.redis_monthly_minimum);
    }
    Ok(bill)
}

/// One read: the client's calls to the user store.
pub fn per_read(store: &StoreProfile, prices: &Prices) -> Result<Bill, String> {
    let mut bill = Bill::default();
    price_calls(&mut bill, &store.read, prices, 0.0)?;
    Ok(bill)
}

/// One write: the client's calls, then its share of the writer's and the
/// distributor's invocations, each fed by an event source mapping.
pub fn per_write(store: &StoreProfile, prices: &Prices) -> Result<Bill, String> {
    let write = &store.write;
    let mut bill = Bill::default();
    price_calls(&mut bill, &write.client, prices, 0.0)?;
    bill.add_scaled(&invocation(&write.writer, prices, 0.0)?, 1.0);
    bill.add_scaled(
        &invocation(&write.distributor, prices, write.transaction_items)?,
        1.0,
    );
    let polled = prices.sqs_receives_per_invocation + prices.sqs_deletes_per_invocation;
    let invocations = 1.0 / messages_per_invocation(&write.writer)?
        + 1.0 / messages_per_invocation(&write.distributor)?;
    bill.add("SQS", invocations * polled * prices.sqs_request);
    Ok(bill)
}

fn messages_per_invocation(function: &Function) -> Result<f64, String> {
    match function.messages_per_invocation {
        m if m >= 1.0 => Ok(m),
        m => Err(format!("{m} messages per invocation: at least 1 expected")),
    }
}

/// A function's share of one message: the invocation's request and its
/// duration rounded up to the millisecond, over the messages it handles,
/// and the calls per message.
fn invocation(
    function: &Function,
    prices: &Prices,
    transaction_items: f64,
) -> Result<Bill, String> {
    let mut bill = Bill::default();
    let gb_seconds = function.duration_ms.ceil() / 1000.0 * prices.lambda_memory_mb / 1024.0;
    bill.add(
        "Lambda",
        (prices.lambda_request + gb_seconds * prices.lambda_gb_second)
            / messages_per_invocation(function)?,
    );
    price_calls(&mut bill, &function.calls, prices, transaction_items)?;
    Ok(bill)
}

/// Adds `calls` to `bill`. A call this model does not know is an error, so a
/// new call is never priced at zero unnoticed.
fn price_calls(
    bill: &mut Bill,
    calls: &Calls,
    prices: &Prices,
    transaction_items: f64,
) -> Result<(), String> {
    for (call, count) in calls {
        let (service, unit) = unit_price(call, prices, transaction_items)?;
        bill.add(service, count * unit);
    }
    Ok(())
}

/// The service a call is billed under and its price. DynamoDB items are
/// assumed under 1 KB (writes) and 4 KB (reads), strongly consistent;
/// transactions cost two units per item.
fn unit_price(
    call: &str,
    prices: &Prices,
    transaction_items: f64,
) -> Result<(&'static str, f64), String> {
    let (service, operation) = call
        .split_once('.')
        .ok_or_else(|| format!("call {call} is not Service.Operation"))?;
    let priced = match (service, operation) {
        ("SQS", _) => ("SQS", prices.sqs_request),
        ("S3", "GetObject" | "HeadObject") => ("S3", prices.s3_get),
        ("S3", "PutObject" | "CopyObject" | "ListObjectsV2") => ("S3", prices.s3_put),
        ("S3", "DeleteObject") => ("S3", 0.0),
        ("DynamoDB", "PutItem" | "UpdateItem" | "DeleteItem") => ("DynamoDB", prices.dynamodb_wru),
        ("DynamoDB", "TransactWriteItems") => {
            ("DynamoDB", 2.0 * transaction_items * prices.dynamodb_wru)
        }
        ("DynamoDB", "GetItem" | "Query") => ("DynamoDB", prices.dynamodb_rru),
        ("DynamoDB", "Scan") => ("DynamoDB", prices.dynamodb_rru),
        ("Redis", _) => ("Redis", prices.redis_ecpu),
        _ => return Err(format!("no price for the call {call}")),
    };
    Ok(priced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::profile::Write;

    fn calls(list: &[(&str, f64)]) -> Calls {
        list.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// Round prices so hand arithmetic stays readable.
    fn prices() -> Prices {
        let mut p = Prices::us_east_1();
        p.lambda_gb_second = 0.00001;
        p.lambda_request = 0.0000002;
        p.lambda_memory_mb = 1024.0;
        p.sqs_request = 0.0000005;
        p.s3_put = 0.000005;
        p.s3_get = 0.0000004;
        p.dynamodb_wru = 0.000001;
        p.dynamodb_rru = 0.0000001;
        p.hours_per_month = 720.0; // 30 days
        p.heartbeats_per_month = 0.0;
        p.sqs_receives_per_invocation = 1.0;
        p.sqs_deletes_per_invocation = 1.0;
        p
    }

    fn s3_profile() -> Profile {
        let store = StoreProfile {
            read: calls(&[("S3.GetObject", 1.0)]),
            write: Write {
                client: calls(&[("SQS.SendMessage", 1.0), ("SQS.ReceiveMessage", 1.0)]),
                writer: Function::single(
                    calls(&[("DynamoDB.UpdateItem", 1.0), ("SQS.SendMessage", 1.0)]),
                    9.2,
                ),
                distributor: Function::single(
                    calls(&[
                        ("DynamoDB.TransactWriteItems", 1.0),
                        ("S3.PutObject", 1.0),
                        ("S3.DeleteObject", 1.0),
                    ]),
                    20.0,
                ),
                transaction_items: 3.0,
            },
        };
        Profile {
            source: "test".into(),
            stores: [("s3".to_string(), store)].into(),
            heartbeat: Function::single(calls(&[("DynamoDB.Scan", 1.0)]), 4.0),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn a_read_costs_its_get() {
        let bill = per_read(&s3_profile().stores["s3"], &prices()).unwrap();
        assert!(close(bill.total(), 0.0000004), "{bill:?}");
    }

    #[test]
    fn a_write_adds_calls_invocations_and_the_mappings_polls() {
        let bill = per_write(&s3_profile().stores["s3"], &prices()).unwrap();
        // SQS: client 2 + writer 1 + mappings 2 × (1 + 1) = 7 requests.
        assert!(close(bill.by_service["SQS"], 7.0 * 0.0000005), "{bill:?}");
        // DynamoDB: 1 WRU (lock) + 2 × 3 items (transaction) = 7 WRU.
        assert!(
            close(bill.by_service["DynamoDB"], 7.0 * 0.000001),
            "{bill:?}"
        );
        // S3: one PUT; DELETE is free.
        assert!(close(bill.by_service["S3"], 0.000005), "{bill:?}");
        // Lambda: 2 requests + (10 ms + 20 ms) at 1 GB = 0.03 GB-s.
        assert!(
            close(bill.by_service["Lambda"], 2.0 * 0.0000002 + 0.03 * 0.00001),
            "{bill:?}"
        );
    }

    #[test]
    fn batched_invocations_share_the_request_the_duration_and_the_polls() {
        let mut store = s3_profile().stores["s3"].clone();
        store.write.writer.messages_per_invocation = 10.0;
        store.write.distributor.messages_per_invocation = 5.0;
        let bill = per_write(&store, &prices()).unwrap();
        // SQS: client 2 + writer 1 + polls 2 × (1/10 + 1/5).
        assert!(
            close(bill.by_service["SQS"], (3.0 + 0.6) * 0.0000005),
            "{bill:?}"
        );
        // Lambda: (request + 10 ms at 1 GB) / 10 + (request + 20 ms) / 5.
        let lambda = (0.0000002 + 0.01 * 0.00001) / 10.0 + (0.0000002 + 0.02 * 0.00001) / 5.0;
        assert!(close(bill.by_service["Lambda"], lambda), "{bill:?}");
    }

    #[test]
    fn a_month_of_100k_requests_a_day_at_90_percent_reads() {
        let bill = monthly(
            Workload {
                requests_per_day: 100_000.0,
                read_ratio: 0.9,
            },
            "s3",
            &s3_profile(),
            &prices(),
        )
        .unwrap();
        // 30 days: 2.7M reads, 300K writes.
        let write = 7.0 * 0.0000005 + 7.0 * 0.000001 + 0.000005 + 0.0000004 + 0.0000003;
        let expected = 2_700_000.0 * 0.0000004 + 300_000.0 * write;
        assert!(
            close(bill.total(), expected),
            "{} vs {expected}",
            bill.total()
        );
    }

    #[test]
    fn heartbeats_and_the_redis_minimum_are_fixed_costs() {
        let mut profile = s3_profile();
        let store = profile.stores["s3"].clone();
        profile.stores.insert("redis".into(), store);
        let mut p = prices();
        p.heartbeats_per_month = 1000.0;
        let idle = Workload {
            requests_per_day: 0.0,
            read_ratio: 1.0,
        };
        let s3 = monthly(idle, "s3", &profile, &p).unwrap();
        let redis = monthly(idle, "redis", &profile, &p).unwrap();
        // 1000 × (request + 4 ms at 1 GB + one Scan RRU).
        let heartbeats = 1000.0 * (0.0000002 + 0.004 * 0.00001 + 0.0000001);
        assert!(close(s3.total(), heartbeats), "{s3:?}");
        assert!(close(redis.total(), heartbeats + p.redis_monthly_minimum));
    }

    #[test]
    fn a_call_without_a_price_is_an_error() {
        let mut profile = s3_profile();
        profile
            .stores
            .get_mut("s3")
            .unwrap()
            .read
            .insert("S3.SelectObjectContent".into(), 1.0);
        let err = per_read(&profile.stores["s3"], &prices()).unwrap_err();
        assert!(err.contains("S3.SelectObjectContent"), "{err}");
    }

    #[test]
    fn a_read_ratio_above_one_is_refused() {
        let workload = Workload {
            requests_per_day: 1.0,
            read_ratio: 1.5,
        };
        assert!(monthly(workload, "s3", &s3_profile(), &prices()).is_err());
    }
}
